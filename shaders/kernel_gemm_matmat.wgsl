// kernel_gemm_matmat: the matrix-free block product Y[i, :] (+)= sum_j K_ij X[j, :] for 16 interleaved
// vectors with the kernel recomputed by matrix products: a workgroup owns 64 rows and walks the 64-wide
// column tiles of col0..col0+cols; per tile, tile_gemm (shaders/common/tile_gemm.wgsl) gives d2, the
// tile's K = exp(-d2 * inv_eps) goes to workgroup memory, and invocation lin accumulates row lin / 4,
// vector lanes 4 (lin % 4) .. + 4. X and Y are N x 16 row-major as in kernel_matmat.wgsl; bit 0 of
// flags writes Y (first column chunk), else adds to it. The normalisation's diagonal scale is applied
// on the host. CPU twin: src/cpu/kernel_gemm.rs (kernel_gemm_matmat).

// Keep in sync with `KernelGemmMatmatParams` in src/gpu/kernel_gemm_matmat.rs.
struct Params {
    n: u32,
    dim: u32,
    rank: u32,
    col0: u32,
    cols: u32,
    // bit 0: first chunk (write Y); bit 2: normal term (nmat = 2 rank).
    flags: u32,
    inv_eps: f32,
    nmat: u32,
}

const WIDTH: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let lin = ty * 16u + tx;
    let ti0 = (wg.x + wg.y * 65535u) * BM;
    let normal = (p.flags & 4u) != 0u;
    let row = lin / 4u;
    let lane0 = 4u * (lin % 4u);
    var out: array<f32, 4>;
    let c_end = p.col0 + p.cols;
    for (var tj0 = p.col0; tj0 < c_end; tj0 += BM) {
        let d2 = tile_gemm(p.n, p.dim, p.rank, p.nmat, normal, ti0, tj0, p.n, tx, ty);
        // tile_gemm ends with a barrier: smem is free.
        for (var a = 0u; a < 4u; a++) {
            for (var b = 0u; b < 4u; b++) {
                let gj = tj0 + 4u * tx + b;
                var k = 0.0;
                if (gj < min(c_end, p.n)) { k = exp(-d2[a * 4u + b] * p.inv_eps); }
                smem[(ty + 16u * a) * BM + 4u * tx + b] = k;
            }
        }
        workgroupBarrier();
        for (var jj = 0u; jj < BM; jj++) {
            let jc = tj0 + jj;
            if (jc < p.n) {
                let k = smem[row * BM + jj];
                for (var v = 0u; v < 4u; v++) {
                    out[v] += k * x[jc * WIDTH + lane0 + v];
                }
            }
        }
        workgroupBarrier();
    }
    let gi = ti0 + row;
    if (gi < p.n) {
        for (var v = 0u; v < 4u; v++) {
            let at = gi * WIDTH + lane0 + v;
            if ((p.flags & 1u) != 0u) { y[at] = out[v]; } else { y[at] += out[v]; }
        }
    }
}
