//! The shader registry: every `shaders/*.wgsl` kernel as a [`Shader`] — one kernel per file, named as
//! its Rust stage and CPU twin, entry point `main` — with its WGSL source (embedded at compile time)
//! and its binding list. A stage names its kernel by the enum, so a typo is a compile error, and
//! every kernel has a source and a declaration because the matches are exhaustive. WGSL has no
//! includes, so a kernel that shares code with others gets the shared file (`shaders/common/`)
//! prepended here. Tests validate each entry with naga.

use super::pipelines::Slot::{self, Params, Read, Write};

/// Every compute kernel netmatch dispatches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shader {
    /// `shaders/kernel.wgsl`.
    Kernel,
    /// `shaders/kernel_gemm.wgsl`.
    KernelGemm,
    /// `shaders/kernel_gemm_matmat.wgsl`.
    KernelGemmMatmat,
    /// `shaders/matvec.wgsl`.
    Matvec,
    /// `shaders/matmat.wgsl`.
    Matmat,
    /// `shaders/kernel_matmat.wgsl`.
    KernelMatmat,
    /// `shaders/csr_matmat.wgsl`.
    CsrMatmat,
    /// `shaders/normalise.wgsl`.
    Normalise,
    /// `shaders/lanczos_project.wgsl`.
    LanczosProject,
    /// `shaders/lanczos_orthogonalise.wgsl`.
    LanczosOrthogonalise,
    /// `shaders/lanczos_normalise.wgsl`.
    LanczosNormalise,
    /// `shaders/lanczos_restart.wgsl`.
    LanczosRestart,
    /// `shaders/render.wgsl`.
    Render,
}

impl Shader {
    /// All kernels, in declaration order (`ALL[s as usize] == s`).
    pub const ALL: [Shader; 13] = [
        Shader::Kernel,
        Shader::KernelGemm,
        Shader::KernelGemmMatmat,
        Shader::Matvec,
        Shader::Matmat,
        Shader::KernelMatmat,
        Shader::CsrMatmat,
        Shader::Normalise,
        Shader::LanczosProject,
        Shader::LanczosOrthogonalise,
        Shader::LanczosNormalise,
        Shader::LanczosRestart,
        Shader::Render,
    ];

    /// The stage name (file stem, Rust stage, CPU twin).
    pub const fn name(self) -> &'static str {
        match self {
            Shader::Kernel => "kernel",
            Shader::KernelGemm => "kernel_gemm",
            Shader::KernelGemmMatmat => "kernel_gemm_matmat",
            Shader::Matvec => "matvec",
            Shader::Matmat => "matmat",
            Shader::KernelMatmat => "kernel_matmat",
            Shader::CsrMatmat => "csr_matmat",
            Shader::Normalise => "normalise",
            Shader::LanczosProject => "lanczos_project",
            Shader::LanczosOrthogonalise => "lanczos_orthogonalise",
            Shader::LanczosNormalise => "lanczos_normalise",
            Shader::LanczosRestart => "lanczos_restart",
            Shader::Render => "render",
        }
    }

    /// The WGSL source, shared prelude included.
    pub const fn source(self) -> &'static str {
        match self {
            Shader::Kernel => {
                concat!(include_str!("../../shaders/common/tile_d2.wgsl"), include_str!("../../shaders/kernel.wgsl"))
            }
            Shader::KernelGemm => concat!(
                include_str!("../../shaders/common/tile_gemm.wgsl"),
                include_str!("../../shaders/kernel_gemm.wgsl")
            ),
            Shader::KernelGemmMatmat => concat!(
                include_str!("../../shaders/common/tile_gemm.wgsl"),
                include_str!("../../shaders/kernel_gemm_matmat.wgsl")
            ),
            Shader::Matvec => include_str!("../../shaders/matvec.wgsl"),
            Shader::Matmat => include_str!("../../shaders/matmat.wgsl"),
            Shader::KernelMatmat => concat!(
                include_str!("../../shaders/common/tile_d2.wgsl"),
                include_str!("../../shaders/kernel_matmat.wgsl")
            ),
            Shader::CsrMatmat => include_str!("../../shaders/csr_matmat.wgsl"),
            Shader::Normalise => include_str!("../../shaders/normalise.wgsl"),
            Shader::LanczosProject => concat!(
                include_str!("../../shaders/common/lanczos_params.wgsl"),
                include_str!("../../shaders/lanczos_project.wgsl")
            ),
            Shader::LanczosOrthogonalise => concat!(
                include_str!("../../shaders/common/lanczos_params.wgsl"),
                include_str!("../../shaders/lanczos_orthogonalise.wgsl")
            ),
            Shader::LanczosNormalise => concat!(
                include_str!("../../shaders/common/lanczos_params.wgsl"),
                include_str!("../../shaders/lanczos_normalise.wgsl")
            ),
            Shader::LanczosRestart => concat!(
                include_str!("../../shaders/common/lanczos_params.wgsl"),
                include_str!("../../shaders/lanczos_restart.wgsl")
            ),
            Shader::Render => include_str!("../../shaders/render.wgsl"),
        }
    }

    /// Bindings 0.. in order; binding 0 is always the uniform parameters (dynamic offset).
    pub const fn slots(self) -> &'static [Slot] {
        match self {
            Shader::Kernel => &[Params, Read, Read, Read, Read, Write],
            Shader::KernelGemm => &[Params, Read, Read, Read, Read, Write],
            Shader::KernelGemmMatmat => &[Params, Read, Read, Read, Read, Read, Write],
            Shader::Matvec => &[Params, Read, Read, Write],
            Shader::Matmat => &[Params, Read, Read, Write],
            Shader::KernelMatmat => &[Params, Read, Read, Read, Read, Read, Write],
            Shader::CsrMatmat => &[Params, Read, Read, Read, Read, Write],
            Shader::Normalise => &[Params, Read, Write],
            Shader::LanczosProject => &[Params, Read, Read, Write],
            Shader::LanczosOrthogonalise => &[Params, Read, Read, Write],
            Shader::LanczosNormalise => &[Params, Read, Write, Write],
            Shader::LanczosRestart => &[Params, Read, Read, Write],
            Shader::Render => &[Params, Read, Read, Write],
        }
    }
}

const fn table() -> [(&'static str, &'static str); 13] {
    let mut out = [("", ""); 13];
    let mut i = 0;
    while i < 13 {
        out[i] = (Shader::ALL[i].name(), Shader::ALL[i].source());
        i += 1;
    }
    out
}

const TABLE: [(&str, &str); 13] = table();

/// (name, WGSL source) for every kernel, as [`Shader::ALL`] orders them.
pub const SHADERS: &[(&str, &str)] = &TABLE;

/// The WGSL source of the kernel called `name`.
pub fn source(name: &str) -> Option<&'static str> {
    Shader::ALL.iter().find(|s| s.name() == name).map(|s| s.source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_discriminant_order() {
        for (i, s) in Shader::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{s:?}");
        }
    }
}
