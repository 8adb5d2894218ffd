// lanczos_restart: the thick-restart rotation into a second basis buffer.
//   new[c*n + i] = sum_{l < m} old[l*n + i] * y[c*m + l]   for c < k
//   new[k*n + i] = old[m*n + i]                              for c == k when flag == 1 (the residual)
// One invocation per (row i, column c). The same kernel (flag 0) forms the final Ritz vectors.
// CPU twin: src/cpu/lanczos.rs `lanczos_restart`.

// Params and binding 0 (`p`): shaders/common/lanczos_params.wgsl.
@group(0) @binding(1) var<storage, read> old: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> new_basis: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let c = gid.y;
    if (i >= p.n) { return; }
    if (c < p.k) {
        var s = 0.0;
        for (var l = 0u; l < p.m; l++) {
            s += old[l * p.n + i] * y[c * p.m + l];
        }
        new_basis[c * p.n + i] = s;
    } else if (c == p.k && p.flag == 1u) {
        new_basis[p.k * p.n + i] = old[p.m * p.n + i];
    }
}
