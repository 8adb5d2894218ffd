//! GPU stage `kernel` (shaders/kernel.wgsl): one row block of d² or exp(−d²/ε). CPU twin:
//! [`crate::cpu::kernel::kernel`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Uniform parameters of `kernel.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct KernelParams {
    /// N.
    pub n: u32,
    /// D.
    pub dim: u32,
    /// r.
    pub rank: u32,
    /// First row of the block.
    pub row0: u32,
    /// Rows in the block.
    pub rows: u32,
    /// 1: write d²; 0: write exp(−d²/ε).
    pub write_distance: u32,
    /// 1/ε.
    pub inv_eps: f32,
    /// 1: store f16 pairs (pack2x16float, row stride ⌈N/2⌉ words); 0: f32 (row stride N).
    pub half: u32,
}

/// Encodes the kernel for one block into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: KernelParams,
) -> Result<()> {
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::Kernel,
        bind_group,
        &params,
        (params.n.div_ceil(16), params.rows.div_ceil(16)),
    )
}
