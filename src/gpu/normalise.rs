//! GPU stage `normalise` (shaders/normalise.wgsl): A_ij ← w_i A_ij w_j for one row block. CPU twin:
//! [`crate::cpu::normalise::normalise`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Uniform parameters of `normalise.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct NormaliseParams {
    /// N.
    pub n: u32,
    /// Rows in this block.
    pub rows: u32,
    /// First row of the block.
    pub row0: u32,
    /// Padding to 32 bytes.
    pub _pad: [u32; 5],
}

/// Encodes the scaling of one block into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: NormaliseParams,
) -> Result<()> {
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::Normalise,
        bind_group,
        &params,
        (params.n.div_ceil(256), params.rows),
    )
}
