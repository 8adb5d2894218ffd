//! Pipelines declared once: each kernel's binding list is data ([`DECLS`]), from which the bind-group
//! layout, pipeline layout and compute pipeline are built when the context is created. Binding 0 is
//! always the kernel's uniform parameter struct, bound with a dynamic offset into a shared parameter
//! arena (see [`super::buffers::ParamArena`]).

use std::collections::HashMap;

use super::shaders;
use crate::error::{Error, Result};

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

/// One kernel's declaration.
pub struct Decl {
    /// Shader (and stage) name.
    pub name: &'static str,
    /// Bindings 0.. in order.
    pub slots: &'static [Slot],
}

use Slot::{Params, Read, Write};

/// Every pipeline netmatch uses.
pub const DECLS: &[Decl] = &[
    Decl { name: "kernel", slots: &[Params, Read, Read, Read, Read, Write] },
    Decl { name: "kernel_gemm", slots: &[Params, Read, Read, Read, Read, Write] },
    Decl { name: "kernel_gemm_matmat", slots: &[Params, Read, Read, Read, Read, Read, Write] },
    Decl { name: "matvec", slots: &[Params, Read, Read, Write] },
    Decl { name: "matmat", slots: &[Params, Read, Read, Write] },
    Decl { name: "kernel_matmat", slots: &[Params, Read, Read, Read, Read, Read, Write] },
    Decl { name: "csr_matmat", slots: &[Params, Read, Read, Read, Read, Write] },
    Decl { name: "normalise", slots: &[Params, Read, Write] },
    Decl { name: "lanczos_project", slots: &[Params, Read, Read, Write] },
    Decl { name: "lanczos_orthogonalise", slots: &[Params, Read, Read, Write] },
    Decl { name: "lanczos_normalise", slots: &[Params, Read, Write, Write] },
    Decl { name: "lanczos_restart", slots: &[Params, Read, Read, Write] },
    Decl { name: "render", slots: &[Params, Read, Read, Write] },
];

/// A built pipeline with its bind-group layout.
pub struct Pipeline {
    /// The compute pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Layout of its group 0.
    pub layout: wgpu::BindGroupLayout,
    /// Size of the uniform parameter struct (binding 0), in bytes.
    pub params_size: u64,
}

/// All pipelines by name.
pub struct Pipelines {
    map: HashMap<&'static str, Pipeline>,
}

/// Size of every uniform parameter struct (eight 32-bit fields; each kernel's layout test checks it).
pub const PARAMS_SIZE: u64 = 32;

impl Pipelines {
    /// Compiles every declared kernel.
    pub fn new(device: &wgpu::Device) -> Result<Self> {
        let mut map = HashMap::new();
        for decl in DECLS {
            let src = shaders::source(decl.name)
                .ok_or_else(|| Error::Gpu(format!("no shader registered for pipeline `{}`", decl.name)))?;
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
            map.insert(decl.name, Pipeline { pipeline, layout, params_size: PARAMS_SIZE });
        }
        Ok(Pipelines { map })
    }

    /// The pipeline `name` (a name from [`DECLS`]).
    pub fn get(&self, name: &str) -> &Pipeline {
        self.map.get(name).unwrap_or_else(|| panic!("pipeline `{name}` is not declared in DECLS"))
    }
}

/// Records one dispatch of pipeline `name`: stages `params` in the arena, binds `bind_group` at that
/// slot's dynamic offset, and dispatches `groups` workgroups. Every stage encoder goes through here.
pub fn dispatch<P: bytemuck::Pod>(
    ctx: &super::context::GpuContext,
    pass: &mut wgpu::ComputePass<'_>,
    arena: &mut super::buffers::ParamArena,
    name: &str,
    bind_group: &wgpu::BindGroup,
    params: &P,
    groups: (u32, u32),
) -> Result<()> {
    let off = arena.push(params)?;
    pass.set_pipeline(&ctx.pipelines.get(name).pipeline);
    pass.set_bind_group(0, bind_group, &[off]);
    pass.dispatch_workgroups(groups.0, groups.1, 1);
    Ok(())
}
