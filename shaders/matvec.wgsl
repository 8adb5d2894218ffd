// matvec: y[y_off + row0 + r] = sum_j A[r, j] * x[x_off + j] for the rows r of one matrix block.
// A workgroup of 256 invocations takes 8 rows with 32 lanes each: the lanes of a row read consecutive
// addresses (coalesced on hardware with 32-wide subgroups) and reduce in workgroup memory. Eight rows per
// workgroup rather than one keeps the workgroup count, and its fixed cost, down (it dominates on
// software rasterisers). Workgroups past 65535 go to the y dimension. The matrix is f32 bits (half == 0)
// or f16 pairs from pack2x16float (half == 1, row stride ceil(N/2) words; x then holds N+1 entries, the
// last zero, so the pad column reads a zero). CPU twin: src/cpu/matvec.rs.

// Keep in sync with `MatvecParams` in src/gpu/matvec.rs.
struct Params {
    n: u32,
    rows: u32,
    row0: u32,
    x_off: u32,
    y_off: u32,
    half: u32,
    _pad1: u32,
    _pad2: u32,
}

const ROWS_PER_GROUP: u32 = 8u;
const LANES: u32 = 32u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let group = wg.x + wg.y * 65535u;
    let lane = t % LANES;
    let r = group * ROWS_PER_GROUP + t / LANES;
    var s = 0.0;
    // No early return: every invocation must reach the barriers below.
    if (r < p.rows && p.half == 0u) {
        let base = r * p.n;
        for (var j = lane; j < p.n; j += LANES) {
            s += bitcast<f32>(a[base + j]) * x[p.x_off + j];
        }
    } else if (r < p.rows) {
        let words = (p.n + 1u) / 2u;
        let base = r * words;
        for (var q = lane; q < words; q += LANES) {
            let v = unpack2x16float(a[base + q]);
            s += v.x * x[p.x_off + 2u * q] + v.y * x[p.x_off + 2u * q + 1u];
        }
    }
    partial[t] = s;
    workgroupBarrier();
    for (var w = LANES / 2u; w > 0u; w >>= 1u) {
        if (lane < w) { partial[t] += partial[t + w]; }
        workgroupBarrier();
    }
    if (lane == 0u && r < p.rows) { y[p.y_off + p.row0 + r] = partial[t]; }
}
