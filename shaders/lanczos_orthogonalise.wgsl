// lanczos_orthogonalise: w[i] <- w[i] - sum_{c < ncols} basis[c*n + i] * coef[tmp + c], the update half of
// a CGS2 pass. One invocation per row i (coalesced across the workgroup for every c). CPU twin:
// src/cpu/lanczos.rs `lanczos_orthogonalise`.

// Params and binding 0 (`p`): shaders/common/lanczos_params.wgsl.
@group(0) @binding(1) var<storage, read> basis: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) { return; }
    var s = 0.0;
    for (var c = 0u; c < p.ncols; c++) {
        s += basis[c * p.n + i] * coef[p.tmp + c];
    }
    w[i] = w[i] - s;
}
