// kernel_matmat: the matrix-free block product Y[i, :] (+)= sum_j K_ij X[j, :] for 16 interleaved
// vectors, K_ij = exp(-d2_ij * inv_eps) recomputed from the local geometry instead of read from a
// stored matrix (for N whose matrix does not fit). d2_ij is kernel.wgsl's formula with its tiling: a
// workgroup owns 16 rows and walks the column tiles col0..col0+cols; per tile it stages the geometry
// in workgroup memory, computes the 16×16 kernel values (one pair per invocation), then each
// invocation (row li, vector lane lj) accumulates its row's 16 products. X and Y are N×16 row-major
// (row j holds entry j of every vector, unused vectors zero). `first` = 1 writes Y, 0 adds to it, so
// the host can split the columns over several dispatches. The diagonal scale of the normalisation is
// applied on the host. CPU twin: src/cpu/kernel_matmat.rs.

// Keep in sync with `KernelMatmatParams` in src/gpu/kernel_matmat.rs.
struct Params {
    n: u32,
    dim: u32,
    rank: u32,
    col0: u32,
    cols: u32,
    first: u32,
    inv_eps: f32,
    _pad: u32,
}

const TILE: u32 = 16u;
const TD: u32 = 8u;
const WIDTH: u32 = 16u;
// Keep in sync with `MAX_RANK` in src/covariance.rs.
const MAX_RANK: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> factors: array<f32>;
@group(0) @binding(3) var<storage, read> tangents: array<f32>;
@group(0) @binding(4) var<storage, read> normal_w: array<f32>;
@group(0) @binding(5) var<storage, read> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

var<workgroup> obs_i: array<f32, 128>;          // TILE * TD
var<workgroup> obs_j: array<f32, 128>;
var<workgroup> fac_i: array<f32, 1024>;         // TILE * TD * MAX_RANK
var<workgroup> fac_j: array<f32, 1024>;
var<workgroup> tan_i: array<f32, 1024>;
var<workgroup> tan_j: array<f32, 1024>;
var<workgroup> kv: array<f32, 256>;             // this tile's TILE × TILE kernel values

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let li = lid.y;
    let lj = lid.x;
    let tile_i0 = (wg.x + wg.y * 65535u) * TILE;
    let i = tile_i0 + li;
    let lin = li * TILE + lj;
    let r = p.rank;
    var out = 0.0;

    let t_end = (p.col0 + p.cols + TILE - 1u) / TILE;
    for (var t = p.col0 / TILE; t < t_end; t++) {
        let tile_j0 = t * TILE;
        let j = tile_j0 + lj;
        var a: array<f32, 8>;
        var b: array<f32, 8>;
        var ta: array<f32, 8>;
        var tb: array<f32, 8>;
        var dd = 0.0;
        for (var c0 = 0u; c0 < p.dim; c0 += TD) {
            if (lin < TILE * TD) {
                let pt = lin / TD;
                let c = c0 + lin % TD;
                var vi = 0.0;
                var vj = 0.0;
                if (c < p.dim && tile_i0 + pt < p.n) { vi = obs[(tile_i0 + pt) * p.dim + c]; }
                if (c < p.dim && tile_j0 + pt < p.n) { vj = obs[(tile_j0 + pt) * p.dim + c]; }
                obs_i[lin] = vi;
                obs_j[lin] = vj;
            }
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
        // Columns outside [col0, col0 + cols) or past N contribute nothing.
        var v = 0.0;
        if (i < p.n && j < p.n && j >= p.col0 && j < p.col0 + p.cols) {
            var d2 = 0.0;
            var pa = 0.0;
            var pb = 0.0;
            for (var s = 0u; s < r; s++) {
                d2 += a[s] * a[s] + b[s] * b[s];
                pa += ta[s] * ta[s];
                pb += tb[s] * tb[s];
            }
            d2 += max(dd - pa, 0.0) * normal_w[i] + max(dd - pb, 0.0) * normal_w[j];
            v = exp(-0.5 * d2 * p.inv_eps);
        }
        kv[lin] = v;
        workgroupBarrier();
        // Invocation (li, lj): row li of the tile times column lj of X.
        for (var jj = 0u; jj < TILE; jj++) {
            let jc = tile_j0 + jj;
            if (jc < p.n) { out += kv[li * TILE + jj] * x[jc * WIDTH + lj]; }
        }
        workgroupBarrier();
    }
    if (i < p.n) {
        let at = i * WIDTH + lj;
        if (p.first == 1u) { y[at] = out; } else { y[at] += out; }
    }
}
