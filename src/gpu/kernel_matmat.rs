//! GPU stage `kernel_matmat` (shaders/kernel_matmat.wgsl): the matrix-free block product, recomputing
//! the kernel tile by tile from the local geometry. CPU twin:
//! [`crate::cpu::kernel_matmat::kernel_matmat`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Columns per dispatch: bounds one dispatch's run time (a desktop driver resets a GPU whose single
/// dispatch runs for seconds) at the cost of re-reading Y once per chunk.
pub const COLS_PER_DISPATCH: usize = 8192;

/// Uniform parameters of `kernel_matmat.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct KernelMatmatParams {
    /// N.
    pub n: u32,
    /// D.
    pub dim: u32,
    /// r.
    pub rank: u32,
    /// First column of this dispatch (a multiple of 16).
    pub col0: u32,
    /// Columns in this dispatch.
    pub cols: u32,
    /// 1: write Y; 0: add to it.
    pub first: u32,
    /// 1/ε.
    pub inv_eps: f32,
    /// Padding to 32 bytes.
    pub _pad: u32,
}

/// Encodes one column chunk of the product for all rows into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: KernelMatmatParams,
) -> Result<()> {
    let tiles = params.n.div_ceil(16);
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::KernelMatmat,
        bind_group,
        &params,
        (tiles.min(65535), tiles.div_ceil(65535)),
    )
}
