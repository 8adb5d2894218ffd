//! Pipelines declared once: each kernel's binding list is data ([`DECLS`]), from which the bind-group
//! layout, pipeline layout and compute pipeline are built when the context is created. Binding 0 is
//! always the kernel's uniform parameter struct, bound with a dynamic offset into a shared parameter
//! arena (see [`super::buffers::ParamArena`]).

use super::shaders::Shader;
use crate::error::Result;

/// How a binding is used by its kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Uniform params with a dynamic offset.
    Params,
    /// Read-only storage.
    Read,
    /// Read-write storage.
    Write,
}

/// One kernel's declaration: its name and bindings (from [`Shader`]).
#[derive(Clone, Copy, Debug)]
pub struct Decl {
    /// Shader (and stage) name.
    pub name: &'static str,
    /// Bindings 0.. in order.
    pub slots: &'static [Slot],
}

const fn decls() -> [Decl; Shader::ALL.len()] {
    let mut out = [Decl { name: "", slots: &[] }; Shader::ALL.len()];
    let mut i = 0;
    while i < Shader::ALL.len() {
        out[i] = Decl { name: Shader::ALL[i].name(), slots: Shader::ALL[i].slots() };
        i += 1;
    }
    out
}

const DECL_TABLE: [Decl; Shader::ALL.len()] = decls();

/// Every pipeline netmatch uses, as [`Shader::ALL`] orders them.
pub const DECLS: &[Decl] = &DECL_TABLE;

/// A built pipeline with its bind-group layout.
pub struct Pipeline {
    /// The compute pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Layout of its group 0.
    pub layout: wgpu::BindGroupLayout,
    /// Size of the uniform parameter struct (binding 0), in bytes.
    pub params_size: u64,
}

/// All pipelines, indexed by [`Shader`].
pub struct Pipelines {
    list: Vec<Pipeline>,
}

/// Size of every uniform parameter struct (eight 32-bit fields; each kernel's layout test checks it).
pub const PARAMS_SIZE: u64 = 32;

impl Pipelines {
    /// Compiles every declared kernel.
    pub fn new(device: &wgpu::Device) -> Result<Self> {
        let mut list = Vec::with_capacity(Shader::ALL.len());
        for shader in Shader::ALL {
            let decl = Decl { name: shader.name(), slots: shader.slots() };
            let src = shader.source();
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(decl.name),
                source: wgpu::ShaderSource::Wgsl(src.into()),
            });
            let entries: Vec<wgpu::BindGroupLayoutEntry> = decl
                .slots
                .iter()
                .enumerate()
                .map(|(b, slot)| wgpu::BindGroupLayoutEntry {
                    binding: b as u32,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: match slot {
                            Slot::Params => wgpu::BufferBindingType::Uniform,
                            Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                            Slot::Write => wgpu::BufferBindingType::Storage { read_only: false },
                        },
                        has_dynamic_offset: *slot == Slot::Params,
                        min_binding_size: None,
                    },
                    count: None,
                })
                .collect();
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(decl.name),
                entries: &entries,
            });
            let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(decl.name),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(decl.name),
                layout: Some(&pl),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            list.push(Pipeline { pipeline, layout, params_size: PARAMS_SIZE });
        }
        Ok(Pipelines { list })
    }

    /// The pipeline of `shader` (built for every shader in [`Pipelines::new`]).
    pub fn get(&self, shader: Shader) -> &Pipeline {
        &self.list[shader as usize]
    }
}

/// Records one dispatch of `shader`'s pipeline: stages `params` in the arena, binds `bind_group` at that
/// slot's dynamic offset, and dispatches `groups` workgroups. Every stage encoder goes through here.
pub fn dispatch<P: bytemuck::Pod>(
    ctx: &super::context::GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut super::buffers::ParamArena,
    shader: Shader,
    bind_group: &wgpu::BindGroup,
    params: &P,
    groups: (u32, u32),
) -> Result<()> {
    let off = arena.push(params)?;
    pass.set_pipeline(&ctx.pipelines.get(shader).pipeline);
    pass.set_bind_group(0, bind_group, &[off]);
    pass.dispatch_workgroups(groups.0, groups.1, 1);
    Ok(())
}
