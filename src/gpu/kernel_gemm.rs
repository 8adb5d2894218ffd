//! GPU stage `kernel_gemm` (shaders/kernel_gemm.wgsl): one row block of d² or exp(−d²/ε) as tiled
//! matrix products with 4×4 register blocks. CPU twin: [`crate::cpu::kernel_gemm::kernel_gemm`]; the
//! operands (factor column matrices and their self projections) come from
//! [`crate::cpu::kernel_gemm::GemmGeometry`], so both paths multiply the same numbers.

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Rows and columns of one workgroup's tile (`BM` in the shader).
pub const TILE: u32 = 64;

/// Uniform parameters of `kernel_gemm.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct KernelGemmParams {
    /// N.
    pub n: u32,
    /// D.
    pub dim: u32,
    /// r: the first r column matrices are factor columns, the rest tangent columns.
    pub rank: u32,
    /// First row of the block.
    pub row0: u32,
    /// Rows in the block.
    pub rows: u32,
    /// Bit 0: write d² (else the kernel); bit 1: f16 storage; bit 2: normal term.
    pub flags: u32,
    /// 1/ε.
    pub inv_eps: f32,
    /// Column matrices: r, or 2r with the normal term.
    pub nmat: u32,
}

/// Encodes the kernel for one block into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: KernelGemmParams,
) -> Result<()> {
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::KernelGemm,
        bind_group,
        &params,
        (params.n.div_ceil(TILE), params.rows.div_ceil(TILE)),
    )
}
