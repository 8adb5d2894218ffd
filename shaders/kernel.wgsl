// kernel: one row block of the all-pairs Mahalanobis matrix.
//   d2_ij = 0.5 * (|U_i^T d|^2 + w_i (|d|^2 - |V_i^T d|^2) + |U_j^T d|^2 + w_j (|d|^2 - |V_j^T d|^2)),  d = o_i - o_j
//   out   = exp(-d2 * inv_eps)   (write_distance == 0)   or   d2   (write_distance == 1)
// Storage: f32 bits, row stride N words (half == 0); or f16 (half == 1), two columns per word via
// pack2x16float, row stride ceil(N/2) words, the pad half of an odd N zero.
// U: pseudo-inverse factors, V: orthonormal tangent bases, w: normal weights (src/covariance.rs).
// Tiled 16x16: each workgroup stages a chunk of TD observation coordinates, factor rows and tangent
// rows for its 16 rows and 16 columns in workgroup memory, so every global value is read once per tile,
// not once per pair. CPU twin: src/cpu/kernel.rs.

// Keep in sync with `KernelParams` in src/gpu/kernel.rs.
struct Params {
    n: u32,
    dim: u32,
    rank: u32,
    row0: u32,
    rows: u32,
    write_distance: u32,
    inv_eps: f32,
    half: u32,
}

const TILE: u32 = 16u;
const TD: u32 = 8u;
// Keep in sync with `MAX_RANK` in src/covariance.rs.
const MAX_RANK: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> factors: array<f32>;
@group(0) @binding(3) var<storage, read> tangents: array<f32>;
@group(0) @binding(4) var<storage, read> normal_w: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

var<workgroup> obs_i: array<f32, 128>;          // TILE * TD
var<workgroup> obs_j: array<f32, 128>;
var<workgroup> fac_i: array<f32, 1024>;         // TILE * TD * MAX_RANK
var<workgroup> fac_j: array<f32, 1024>;
var<workgroup> tan_i: array<f32, 1024>;
var<workgroup> tan_j: array<f32, 1024>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let li = lid.y;
    let lj = lid.x;
    let local_row = wg.y * TILE + li;        // row inside this block
    let i = p.row0 + local_row;
    let j = wg.x * TILE + lj;
    let tile_i0 = p.row0 + wg.y * TILE;
    let tile_j0 = wg.x * TILE;
    let lin = li * TILE + lj;                // 0..255: this invocation's loading slot
    let r = p.rank;

    var a: array<f32, 8>;
    var b: array<f32, 8>;
    var ta: array<f32, 8>;
    var tb: array<f32, 8>;
    var dd = 0.0;

    for (var c0 = 0u; c0 < p.dim; c0 += TD) {
        // Observations: the first 128 slots load (point t, coordinate cc).
        if (lin < TILE * TD) {
            let t = lin / TD;
            let c = c0 + lin % TD;
            var vi = 0.0;
            var vj = 0.0;
            if (c < p.dim && tile_i0 + t < p.n) { vi = obs[(tile_i0 + t) * p.dim + c]; }
            if (c < p.dim && tile_j0 + t < p.n) { vj = obs[(tile_j0 + t) * p.dim + c]; }
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
            if (cq < p.dim && tile_i0 + pt < p.n) {
                let at = ((tile_i0 + pt) * p.dim + cq) * r + s;
                fi = factors[at];
                gi = tangents[at];
            }
            if (cq < p.dim && tile_j0 + pt < p.n) {
                let at = ((tile_j0 + pt) * p.dim + cq) * r + s;
                fj = factors[at];
                gj = tangents[at];
            }
            fac_i[q] = fi;
            fac_j[q] = fj;
            tan_i[q] = gi;
            tan_j[q] = gj;
        }
        workgroupBarrier();
        let cmax = min(TD, p.dim - c0);
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

    let valid = local_row < p.rows && i < p.n && j < p.n;
    var v = 0.0;
    if (valid) {
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
        d2 = 0.5 * d2;
        v = d2;
        if (p.write_distance == 0u) { v = exp(-d2 * p.inv_eps); }
    }
    if (p.half == 0u) {
        if (valid) { out[local_row * p.n + j] = bitcast<u32>(v); }
    } else {
        // Neighbouring columns meet in workgroup memory (fac_i is free after the last barrier above);
        // even lanes pack their pair. Columns past N hold 0, which is the pad half of an odd N.
        fac_i[lin] = v;
        workgroupBarrier();
        if (valid && lj % 2u == 0u) {
            out[local_row * ((p.n + 1u) / 2u) + j / 2u] = pack2x16float(vec2<f32>(fac_i[lin], fac_i[lin + 1u]));
        }
    }
}
