// matmat: Y[row0 + r, :] = sum_j A[r, j] * X[j, :] for the rows r of one matrix block and a block of
// 16 vectors. X and Y are interleaved (row j holds entry j of all 16 vectors, as four vec4; unused
// vectors are zero), so one matrix entry multiplies four contiguous vec4 loads. The workgroup shape is
// matvec's: 8 rows × 32 lanes, each lane striding the row, then a workgroup tree per vec4 slot. A pass
// reads A once for all 16 vectors, which is what the block eigensolver buys (src/solve/block.rs).
// The matrix is f32 bits (half == 0) or f16 pairs from pack2x16float (half == 1, row stride ceil(N/2)
// words; X then holds N+1 rows, the last zero, for the pad column). CPU twin: src/cpu/matmat.rs.

// Keep in sync with `MatmatParams` in src/gpu/matmat.rs.
struct Params {
    n: u32,
    rows: u32,
    row0: u32,
    half: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    _pad4: u32,
}

const ROWS_PER_GROUP: u32 = 8u;
const LANES: u32 = 32u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;

var<workgroup> partial: array<vec4<f32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let group = wg.x + wg.y * 65535u;
    let lane = t % LANES;
    let r = group * ROWS_PER_GROUP + t / LANES;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    // No early return: every invocation must reach the barriers below.
    if (r < p.rows && p.half == 0u) {
        let base = r * p.n;
        for (var j = lane; j < p.n; j += LANES) {
            let s = bitcast<f32>(a[base + j]);
            let xj = 4u * j;
            acc0 += s * x[xj];
            acc1 += s * x[xj + 1u];
            acc2 += s * x[xj + 2u];
            acc3 += s * x[xj + 3u];
        }
    } else if (r < p.rows) {
        let words = (p.n + 1u) / 2u;
        let base = r * words;
        for (var q = lane; q < words; q += LANES) {
            let v = unpack2x16float(a[base + q]);
            let xj = 8u * q;
            acc0 += v.x * x[xj] + v.y * x[xj + 4u];
            acc1 += v.x * x[xj + 1u] + v.y * x[xj + 5u];
            acc2 += v.x * x[xj + 2u] + v.y * x[xj + 6u];
            acc3 += v.x * x[xj + 3u] + v.y * x[xj + 7u];
        }
    }
    for (var q = 0u; q < 4u; q++) {
        switch q {
            case 0u: { partial[t] = acc0; }
            case 1u: { partial[t] = acc1; }
            case 2u: { partial[t] = acc2; }
            default: { partial[t] = acc3; }
        }
        workgroupBarrier();
        for (var w = LANES / 2u; w > 0u; w >>= 1u) {
            if (lane < w) { partial[t] += partial[t + w]; }
            workgroupBarrier();
        }
        if (lane == 0u && r < p.rows) { y[4u * (p.row0 + r) + q] = partial[t]; }
        workgroupBarrier();
    }
}
