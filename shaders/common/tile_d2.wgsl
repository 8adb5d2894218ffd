// tile_d2: the Mahalanobis d² of one pair of a 16×16 tile, shared by kernel.wgsl and
// kernel_matmat.wgsl (src/gpu/shaders.rs prepends this file to both, so the formula and its tiling
// live once).
//   d2_ij = 0.5 * (|U_i^T d|^2 + w_i (|d|^2 - |V_i^T d|^2) + |U_j^T d|^2 + w_j (|d|^2 - |V_j^T d|^2)),  d = o_i - o_j
// U: pseudo-inverse factors, V: orthonormal tangent bases, w: normal weights (src/pipeline/covariance.rs).
// The workgroup stages a chunk of TD observation coordinates, factor rows and tangent rows for the
// tile's 16 rows and 16 columns in workgroup memory, so every global value is read once per tile, not
// once per pair. Contains barriers: call it from uniform control flow. fac_i is free for the caller
// once it returns. CPU twin: src/cpu/kernel.rs (kernel_row).

const TILE: u32 = 16u;
const TD: u32 = 8u;
// Keep in sync with `MAX_RANK` in src/pipeline/covariance.rs.
const MAX_RANK: u32 = 8u;

@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> factors: array<f32>;
@group(0) @binding(3) var<storage, read> tangents: array<f32>;
@group(0) @binding(4) var<storage, read> normal_w: array<f32>;

var<workgroup> obs_i: array<f32, 128>;          // TILE * TD
var<workgroup> obs_j: array<f32, 128>;
var<workgroup> fac_i: array<f32, 1024>;         // TILE * TD * MAX_RANK
var<workgroup> fac_j: array<f32, 1024>;
var<workgroup> tan_i: array<f32, 1024>;
var<workgroup> tan_j: array<f32, 1024>;

// d² of the pair (tile_i0 + li, tile_j0 + lj) of N points in D = dim dimensions at rank r; 0 when
// either index is past N.
fn tile_d2(n: u32, dim: u32, r: u32, tile_i0: u32, tile_j0: u32, li: u32, lj: u32) -> f32 {
    let lin = li * TILE + lj;                // 0..255: this invocation's loading slot
    var a: array<f32, 8>;
    var b: array<f32, 8>;
    var ta: array<f32, 8>;
    var tb: array<f32, 8>;
    var dd = 0.0;
    for (var c0 = 0u; c0 < dim; c0 += TD) {
        // Observations: the first 128 slots load (point t, coordinate c).
        if (lin < TILE * TD) {
            let t = lin / TD;
            let c = c0 + lin % TD;
            var vi = 0.0;
            var vj = 0.0;
            if (c < dim && tile_i0 + t < n) { vi = obs[(tile_i0 + t) * dim + c]; }
            if (c < dim && tile_j0 + t < n) { vj = obs[(tile_j0 + t) * dim + c]; }
            obs_i[lin] = vi;
            obs_j[lin] = vj;
        }
        // Factors and tangents: TILE * TD * r values per side, 256 per pass.
        let count = TILE * TD * r;
        for (var q = lin; q < count; q += 256u) {
            let pt = q / (TD * r);
            let rem = q % (TD * r);
            let cq = c0 + rem / r;
            let s = rem % r;
            var fi = 0.0;
            var fj = 0.0;
            var gi = 0.0;
            var gj = 0.0;
            if (cq < dim && tile_i0 + pt < n) {
                let at = ((tile_i0 + pt) * dim + cq) * r + s;
                fi = factors[at];
                gi = tangents[at];
            }
            if (cq < dim && tile_j0 + pt < n) {
                let at = ((tile_j0 + pt) * dim + cq) * r + s;
                fj = factors[at];
                gj = tangents[at];
            }
            fac_i[q] = fi;
            fac_j[q] = fj;
            tan_i[q] = gi;
            tan_j[q] = gj;
        }
        workgroupBarrier();
        let cmax = min(TD, dim - c0);
        for (var k = 0u; k < cmax; k++) {
            let d = obs_i[li * TD + k] - obs_j[lj * TD + k];
            dd += d * d;
            for (var s = 0u; s < r; s++) {
                a[s] += fac_i[(li * TD + k) * r + s] * d;
                b[s] += fac_j[(lj * TD + k) * r + s] * d;
                ta[s] += tan_i[(li * TD + k) * r + s] * d;
                tb[s] += tan_j[(lj * TD + k) * r + s] * d;
            }
        }
        workgroupBarrier();
    }
    let i = tile_i0 + li;
    let j = tile_j0 + lj;
    if (i >= n || j >= n) { return 0.0; }
    var d2 = 0.0;
    var pa = 0.0;
    var pb = 0.0;
    for (var s = 0u; s < r; s++) {
        d2 += a[s] * a[s] + b[s] * b[s];
        pa += ta[s] * ta[s];
        pb += tb[s] * tb[s];
    }
    // Rounding can make |d|^2 - |V^T d|^2 slightly negative: clamp, as the CPU twin does.
    d2 += max(dd - pa, 0.0) * normal_w[i] + max(dd - pb, 0.0) * normal_w[j];
    return 0.5 * d2;
}
