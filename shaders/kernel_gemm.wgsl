// kernel_gemm: one row block of the Mahalanobis d2 or kernel matrix as tiled matrix products (the
// default kernel; kernel.wgsl is the pair-by-pair one). d2 of each 64x64 tile comes from tile_gemm
// (shaders/common/tile_gemm.wgsl, prepended by the shader registry); out = exp(-d2 * inv_eps) or d2.
// Storage as kernel.wgsl: f32 bits (row stride N) or f16 pairs (row stride ceil(N/2) words, the pad
// half of an odd N zero). CPU twin: src/cpu/kernel_gemm.rs.

// Keep in sync with `KernelGemmParams` in src/gpu/kernel_gemm.rs.
struct Params {
    n: u32,
    dim: u32,
    rank: u32,
    row0: u32,
    rows: u32,
    // bit 0: write d2 (else the kernel); bit 1: f16 storage; bit 2: normal term (nmat = 2 rank).
    flags: u32,
    inv_eps: f32,
    nmat: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let ti0 = p.row0 + wg.y * BM;
    let tj0 = wg.x * BM;
    let row_end = min(p.row0 + p.rows, p.n);
    let d2 = tile_gemm(p.n, p.dim, p.rank, p.nmat, (p.flags & 4u) != 0u, ti0, tj0, row_end, tx, ty);
    let half = (p.flags & 2u) != 0u;
    let stride = select(p.n, (p.n + 1u) / 2u, half);
    for (var a = 0u; a < 4u; a++) {
        let gi = ti0 + ty + 16u * a;
        if (gi >= row_end) { continue; }
        var v: array<f32, 4>;
        for (var b = 0u; b < 4u; b++) {
            let gj = tj0 + 4u * tx + b;
            var x = d2[a * 4u + b];
            if ((p.flags & 1u) == 0u) { x = exp(-x * p.inv_eps); }
            if (gj >= p.n) { x = 0.0; }
            v[b] = x;
        }
        let base = (gi - p.row0) * stride;
        if (half) {
            for (var b = 0u; b < 4u; b += 2u) {
                let gj = tj0 + 4u * tx + b;
                if (gj < p.n) { out[base + gj / 2u] = pack2x16float(vec2<f32>(v[b], v[b + 1u])); }
            }
        } else {
            for (var b = 0u; b < 4u; b++) {
                let gj = tj0 + 4u * tx + b;
                if (gj < p.n) { out[base + gj] = bitcast<u32>(v[b]); }
            }
        }
    }
}
