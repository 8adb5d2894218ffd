// matvec: y[y_off + row0 + r] = sum_j A[r, j] * x[x_off + j] for the rows r of one matrix block.
// One workgroup per row: 256 invocations stride across the row (coalesced loads) and reduce in
// workgroup memory. Rows past 65535 go to the y dimension of the dispatch. CPU twin: src/cpu/matvec.rs.

// Keep in sync with `MatvecParams` in src/gpu/matvec.rs.
struct Params {
    n: u32,
    rows: u32,
    row0: u32,
    x_off: u32,
    y_off: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let r = wg.x + wg.y * 65535u;
    if (r >= p.rows) { return; }   // uniform per workgroup: safe around the barriers below
    let base = r * p.n;
    var s = 0.0;
    for (var j = t; j < p.n; j += 256u) {
        s += a[base + j] * x[p.x_off + j];
    }
    partial[t] = s;
    workgroupBarrier();
    for (var w = 128u; w > 0u; w >>= 1u) {
        if (t < w) { partial[t] += partial[t + w]; }
        workgroupBarrier();
    }
    if (t == 0u) { y[p.y_off + p.row0 + r] = partial[0]; }
}
