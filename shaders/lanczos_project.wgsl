// lanczos_project: one Gram-Schmidt projection of a CGS2 pass. For each basis column c < ncols:
//   h = <v_c, w>;  coef[tmp + c] = h;  coef[hcol + c] = h (flag 0) or += h (flag 1, the second pass).
// One workgroup per column, 256-way reduction. CPU twin: src/cpu/lanczos.rs `lanczos_project`.

// Params and binding 0 (`p`): shaders/common/lanczos_params.wgsl.
@group(0) @binding(1) var<storage, read> basis: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> coef: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let c = wg.x;
    if (c >= p.ncols) { return; }
    let base = c * p.n;
    var s = 0.0;
    for (var i = t; i < p.n; i += 256u) {
        s += basis[base + i] * w[i];
    }
    partial[t] = s;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) { partial[t] += partial[t + h]; }
        workgroupBarrier();
    }
    if (t == 0u) {
        let v = partial[0];
        coef[p.tmp + c] = v;
        if (p.flag == 1u) {
            coef[p.hcol + c] = coef[p.hcol + c] + v;
        } else {
            coef[p.hcol + c] = v;
        }
    }
}
