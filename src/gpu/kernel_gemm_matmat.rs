//! GPU stage `kernel_gemm_matmat` (shaders/kernel_gemm_matmat.wgsl): the matrix-free block product with
//! the kernel recomputed by tiled matrix products (64 rows per workgroup, 64-wide column tiles). CPU
//! twin: [`crate::cpu::kernel_gemm::kernel_gemm_matmat`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::kernel_gemm::TILE;
use super::shaders::Shader;
use crate::error::Result;

/// Uniform parameters of `kernel_gemm_matmat.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct KernelGemmMatmatParams {
    /// N.
    pub n: u32,
    /// D.
    pub dim: u32,
    /// r.
    pub rank: u32,
    /// First column of this dispatch.
    pub col0: u32,
    /// Columns in this dispatch.
    pub cols: u32,
    /// Bit 0: first chunk (write Y, else add); bit 2: normal term.
    pub flags: u32,
    /// 1/ε.
    pub inv_eps: f32,
    /// Column matrices: r, or 2r with the normal term.
    pub nmat: u32,
}

/// Encodes one column chunk of the product for all rows into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: KernelGemmMatmatParams,
) -> Result<()> {
    let tiles = params.n.div_ceil(TILE);
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::KernelGemmMatmat,
        bind_group,
        &params,
        (tiles.min(65535), tiles.div_ceil(65535)),
    )
}
