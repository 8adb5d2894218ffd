// csr_matmat: Y[i, :] = sum_p values[p] * X[indices[p], :] over the stored entries p of row i of the
// sparse kernel (CSR), for a block of 16 vectors interleaved as four vec4 per row (unused vectors are
// zero). One invocation per row: a k-NN row holds tens of entries, too few to share across lanes.
// Rows past 65535 × 64 go to the y dimension. CPU twin: src/cpu/csr_matmat.rs.

// Keep in sync with `CsrParams` in src/gpu/csr_matmat.rs.
struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    _pad4: u32,
    _pad5: u32,
    _pad6: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> indptr: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * 65535u * 64u;
    if (i >= p.n) { return; }
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var q = indptr[i]; q < indptr[i + 1u]; q++) {
        let v = values[q];
        let j = 4u * indices[q];
        acc0 += v * x[j];
        acc1 += v * x[j + 1u];
        acc2 += v * x[j + 2u];
        acc3 += v * x[j + 3u];
    }
    y[4u * i] = acc0;
    y[4u * i + 1u] = acc1;
    y[4u * i + 2u] = acc2;
    y[4u * i + 3u] = acc3;
}
