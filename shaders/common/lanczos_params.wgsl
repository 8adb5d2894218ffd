// The uniform parameters shared by the four lanczos_* kernels (prepended to each by
// src/gpu/shaders.rs). Keep in sync with `StepParams` in src/gpu/lanczos.rs.
struct Params {
    n: u32,
    ncols: u32,
    hcol: u32,
    tmp: u32,
    flag: u32,
    dst: u32,
    m: u32,
    k: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
