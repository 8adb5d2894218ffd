// kernel: one row block of the all-pairs Mahalanobis matrix, d2 from tile_d2 (shaders/common/tile_d2.wgsl,
// prepended by the shader registry):
//   out = exp(-d2 * inv_eps)   (write_distance == 0)   or   d2   (write_distance == 1)
// Storage: f32 bits, row stride N words (half == 0); or f16 (half == 1), two columns per word via
// pack2x16float, row stride ceil(N/2) words, the pad half of an odd N zero. CPU twin: src/cpu/kernel.rs.

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

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

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
    let valid = local_row < p.rows && i < p.n && j < p.n;
    let d2 = tile_d2(p.n, p.dim, p.rank, tile_i0, tile_j0, li, lj);
    var v = d2;
    if (p.write_distance == 0u) { v = exp(-d2 * p.inv_eps); }
    if (!valid) { v = 0.0; }
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
