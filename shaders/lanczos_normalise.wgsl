// lanczos_normalise: beta = |w|; basis[dst + i] = w[i] / beta (zero when beta underflows: an invariant
// subspace, which the host detects from beta); with flag 1 also coef[hcol] = beta (H[j+1, j]).
// A single workgroup: the norm must be complete before any element is scaled, and there is no global
// barrier inside a dispatch. CPU twin: src/cpu/lanczos.rs `lanczos_normalise`.

// Params and binding 0 (`p`): shaders/common/lanczos_params.wgsl.
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> basis: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_index) t: u32) {
    var s = 0.0;
    for (var i = t; i < p.n; i += 256u) {
        s += w[i] * w[i];
    }
    partial[t] = s;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) { partial[t] += partial[t + h]; }
        workgroupBarrier();
    }
    let beta = sqrt(partial[0]);
    var inv = 0.0;
    if (beta > 1e-30) { inv = 1.0 / beta; }
    for (var i = t; i < p.n; i += 256u) {
        basis[p.dst + i] = w[i] * inv;
    }
    if (t == 0u && p.flag == 1u) { coef[p.hcol] = beta; }
}
