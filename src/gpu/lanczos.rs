//! GPU stages `lanczos_project`, `lanczos_orthogonalise`, `lanczos_normalise` and `lanczos_restart`
//! (shaders/lanczos_*.wgsl): the vector half of a Lanczos step and the thick-restart rotation. CPU
//! twins: [`crate::cpu::lanczos`]. All four share one parameter struct.

use super::buffers::ParamArena;
use super::context::GpuContext;
use super::shaders::Shader;
use crate::error::Result;

/// Uniform parameters of the four `lanczos_*.wgsl` kernels — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StepParams {
    /// N.
    pub n: u32,
    /// Columns to project on / orthogonalise against.
    pub ncols: u32,
    /// Offset of the H column (project) or of the β slot (normalise) in `coef`.
    pub hcol: u32,
    /// Offset of the temporary projection vector in `coef`.
    pub tmp: u32,
    /// project: 1 accumulates into H; normalise: 1 stores β; restart: 1 carries the residual column.
    pub flag: u32,
    /// normalise: element offset of the destination column in the basis.
    pub dst: u32,
    /// restart: basis columns combined (m).
    pub m: u32,
    /// restart: columns produced (k).
    pub k: u32,
}

/// The four kernels.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `lanczos_project`: one workgroup per column.
    Project,
    /// `lanczos_orthogonalise`: one invocation per row.
    Orthogonalise,
    /// `lanczos_normalise`: a single workgroup.
    Normalise,
    /// `lanczos_restart`: one invocation per (row, column).
    Restart,
}

/// Encodes one Lanczos kernel into `pass`.
pub(crate) fn encode(
    ctx: &GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut ParamArena,
    bind_group: &wgpu::BindGroup,
    op: Op,
    p: StepParams,
) -> Result<()> {
    let (name, groups) = match op {
        Op::Project => (Shader::LanczosProject, (p.ncols, 1)),
        Op::Orthogonalise => (Shader::LanczosOrthogonalise, (p.n.div_ceil(256), 1)),
        Op::Normalise => (Shader::LanczosNormalise, (1, 1)),
        Op::Restart => (Shader::LanczosRestart, (p.n.div_ceil(256), p.k + p.flag)),
    };
    super::pipelines::dispatch(ctx, pass, arena, name, bind_group, &p, groups)
}
