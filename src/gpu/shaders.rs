//! The shader registry: every `shaders/*.wgsl` file, embedded at compile time under the name of its
//! Rust stage and CPU twin. WGSL has no includes, so a kernel that shares a function with another gets
//! the shared file (`shaders/common/`) prepended here. Tests validate each entry with naga.

/// (name, WGSL source) for every kernel. One kernel per file, entry point `main`.
pub const SHADERS: &[(&str, &str)] = &[
    ("kernel", concat!(include_str!("../../shaders/common/tile_d2.wgsl"), include_str!("../../shaders/kernel.wgsl"))),
    (
        "kernel_gemm",
        concat!(include_str!("../../shaders/common/tile_gemm.wgsl"), include_str!("../../shaders/kernel_gemm.wgsl")),
    ),
    (
        "kernel_gemm_matmat",
        concat!(
            include_str!("../../shaders/common/tile_gemm.wgsl"),
            include_str!("../../shaders/kernel_gemm_matmat.wgsl")
        ),
    ),
    ("matvec", include_str!("../../shaders/matvec.wgsl")),
    ("matmat", include_str!("../../shaders/matmat.wgsl")),
    (
        "kernel_matmat",
        concat!(include_str!("../../shaders/common/tile_d2.wgsl"), include_str!("../../shaders/kernel_matmat.wgsl")),
    ),
    ("csr_matmat", include_str!("../../shaders/csr_matmat.wgsl")),
    ("normalise", include_str!("../../shaders/normalise.wgsl")),
    (
        "lanczos_project",
        concat!(
            include_str!("../../shaders/common/lanczos_params.wgsl"),
            include_str!("../../shaders/lanczos_project.wgsl")
        ),
    ),
    (
        "lanczos_orthogonalise",
        concat!(
            include_str!("../../shaders/common/lanczos_params.wgsl"),
            include_str!("../../shaders/lanczos_orthogonalise.wgsl")
        ),
    ),
    (
        "lanczos_normalise",
        concat!(
            include_str!("../../shaders/common/lanczos_params.wgsl"),
            include_str!("../../shaders/lanczos_normalise.wgsl")
        ),
    ),
    (
        "lanczos_restart",
        concat!(
            include_str!("../../shaders/common/lanczos_params.wgsl"),
            include_str!("../../shaders/lanczos_restart.wgsl")
        ),
    ),
    ("render", include_str!("../../shaders/render.wgsl")),
];

/// The WGSL source of `name`.
pub fn source(name: &str) -> Option<&'static str> {
    SHADERS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}
