//! GPU stage `csr_matmat` (shaders/csr_matmat.wgsl): Y = S X for the sparse k-NN kernel in CSR and a
//! block of up to [`super::matmat::WIDTH`] interleaved vectors. CPU twin:
//! [`crate::cpu::csr_matmat::csr_matmat`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Uniform parameters of `csr_matmat.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CsrParams {
    /// N (rows).
    pub n: u32,
    /// Padding to 32 bytes.
    pub _pad: [u32; 7],
}

/// Encodes the product into `pass`: one invocation per row, 64 per workgroup.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: CsrParams,
) -> Result<()> {
    let groups = params.n.div_ceil(64);
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::CsrMatmat,
        bind_group,
        &params,
        (groups.min(65535), groups.div_ceil(65535)),
    )
}
