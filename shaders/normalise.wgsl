// normalise: A[r, j] <- w[row0 + r] * A[r, j] * w[j] in place, for one row block: turns the kernel K
// into S = D^{-1/2} K^alpha D^{-1/2} (w folds the alpha and degree scalings). CPU twin:
// src/cpu/normalise.rs.

// Keep in sync with `NormaliseParams` in src/gpu/normalise.rs.
struct Params {
    n: u32,
    rows: u32,
    row0: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    _pad4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let r = gid.y;
    if (j >= p.n || r >= p.rows) { return; }
    let idx = r * p.n + j;
    a[idx] = w[p.row0 + r] * a[idx] * w[j];
}
