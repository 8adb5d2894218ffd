// kernel_matmat: the matrix-free block product Y[i, :] (+)= sum_j K_ij X[j, :] for 16 interleaved
// vectors, K_ij = exp(-d2_ij * inv_eps) recomputed from the local geometry instead of read from a
// stored matrix (for N whose matrix does not fit). d2_ij comes from tile_d2 (shaders/common/tile_d2.wgsl,
// prepended by the shader registry, shared with kernel.wgsl): a workgroup owns 16 rows and walks the
// column tiles col0..col0+cols; per tile it computes the 16×16 kernel values (one pair per
// invocation), then each invocation (row li, vector lane lj) accumulates its row's 16 products. X and Y are N×16 row-major
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

const WIDTH: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

var<workgroup> kv: array<f32, 256>;             // this tile's TILE × TILE kernel values

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let li = lid.y;
    let lj = lid.x;
    let tile_i0 = (wg.x + wg.y * 65535u) * TILE;
    let i = tile_i0 + li;
    let lin = li * TILE + lj;
    var out = 0.0;

    let t_end = (p.col0 + p.cols + TILE - 1u) / TILE;
    for (var t = p.col0 / TILE; t < t_end; t++) {
        let tile_j0 = t * TILE;
        let j = tile_j0 + lj;
        let d2 = tile_d2(p.n, p.dim, p.rank, tile_i0, tile_j0, li, lj);
        // Columns outside [col0, col0 + cols) or past N contribute nothing.
        var v = 0.0;
        if (i < p.n && j < p.n && j >= p.col0 && j < p.col0 + p.cols) { v = exp(-d2 * p.inv_eps); }
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
