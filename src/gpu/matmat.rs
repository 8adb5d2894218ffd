//! GPU stage `matmat` (shaders/matmat.wgsl): Y = A X for one row block and a block of up to
//! [`WIDTH`] vectors, interleaved. CPU twin: [`crate::cpu::matmat::matmat`].

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Vectors per pass in the shader (four vec4 accumulators); narrower blocks are zero-padded, wider
/// ones take several passes.
pub const WIDTH: usize = 16;

/// Uniform parameters of `matmat.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MatmatParams {
    /// N (row length).
    pub n: u32,
    /// Rows in this block.
    pub rows: u32,
    /// First row of the block (offset into Y's rows).
    pub row0: u32,
    /// 1: the matrix holds f16 pairs (row stride ⌈N/2⌉ words); 0: f32.
    pub half: u32,
    /// Padding to 32 bytes.
    pub _pad: [u32; 4],
}

/// Encodes the product for one block into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    params: MatmatParams,
) -> Result<()> {
    // Eight rows per workgroup (matmat.wgsl ROWS_PER_GROUP).
    let groups = params.rows.div_ceil(8);
    super::pipelines::dispatch(
        ctx,
        pass,
        arena,
        Shader::Matmat,
        bind_group,
        &params,
        (groups.min(65535), groups.div_ceil(65535)),
    )
}
