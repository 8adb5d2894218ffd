//! GPU stage `matvec` (shaders/matvec.wgsl): y = A x for one row block. CPU twin:
//! [`crate::cpu::matvec::matvec`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Uniform parameters of `matvec.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MatvecParams {
    /// N (row length).
    pub n: u32,
    /// Rows in this block.
    pub rows: u32,
    /// First row of the block (offset into y).
    pub row0: u32,
    /// Element offset of x in its buffer.
    pub x_off: u32,
    /// Element offset of y in its buffer.
    pub y_off: u32,
    /// 1: the matrix holds f16 pairs (row stride ⌈N/2⌉ words); 0: f32.
    pub half: u32,
    /// Padding to 32 bytes.
    pub _pad: [u32; 2],
}

/// Encodes the product for one block into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: MatvecParams,
) -> Result<()> {
    // Eight rows per workgroup (matvec.wgsl ROWS_PER_GROUP).
    let groups = params.rows.div_ceil(8);
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::Matvec,
        bind_group,
        &params,
        (groups.min(65535), groups.div_ceil(65535)),
    )
}
