//! Typed storage buffers and the parameter arena. Buffers are created when a matrix or basis is
//! allocated and reused for every call on it; allocation failures are caught with an error scope and
//! reported with the sizes involved instead of panicking.

use std::marker::PhantomData;

use super::context::GpuContext;
use crate::error::{Error, Result};

/// A storage buffer of values of `T` (its length is the caller's: every user knows its N).
pub struct GpuBuffer<T: bytemuck::Pod> {
    /// The wgpu buffer.
    pub buffer: wgpu::Buffer,
    _t: PhantomData<T>,
}

impl<T: bytemuck::Pod> GpuBuffer<T> {
    /// A zero-initialised storage buffer (STORAGE | COPY_SRC | COPY_DST).
    pub fn zeroed(ctx: &GpuContext, label: &str, len: usize) -> Result<Self> {
        let bytes = (len.max(1) * std::mem::size_of::<T>()) as u64;
        if bytes > ctx.limits.max_buffer_size || bytes > ctx.limits.max_storage_buffer_binding_size {
            return Err(Error::Gpu(format!(
                "buffer `{label}` needs {bytes} bytes; adapter limits: max_buffer_size {}, max_storage_buffer_binding_size {}",
                ctx.limits.max_buffer_size, ctx.limits.max_storage_buffer_binding_size
            )));
        }
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("allocating `{label}` ({bytes} bytes) failed: {e}")));
        }
        Ok(GpuBuffer { buffer, _t: PhantomData })
    }

    /// A buffer holding `data`.
    pub fn from_slice(ctx: &GpuContext, label: &str, data: &[T]) -> Result<Self> {
        let b = Self::zeroed(ctx, label, data.len())?;
        b.write(ctx, 0, data);
        Ok(b)
    }

    /// Queues a write of `data` at element offset `at` (ordered before the next submit).
    pub fn write(&self, ctx: &GpuContext, at: usize, data: &[T]) {
        if !data.is_empty() {
            ctx.queue.write_buffer(&self.buffer, (at * std::mem::size_of::<T>()) as u64, bytemuck::cast_slice(data));
        }
    }

    /// Binding of the whole buffer.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        self.buffer.as_entire_binding()
    }
}

/// A uniform buffer of parameter slots. Each dispatch's parameters go into their own slot (aligned to
/// the adapter's `min_uniform_buffer_offset_alignment`), the whole batch is written once, and the
/// dispatches select their slot by dynamic offset — so a restart cycle of hundreds of dispatches needs
/// one write and one submit.
pub struct ParamArena {
    /// The uniform buffer.
    pub buffer: wgpu::Buffer,
    stride: usize,
    capacity: usize,
    staged: Vec<u8>,
}

impl ParamArena {
    /// An arena of `capacity` slots.
    pub fn new(ctx: &GpuContext, capacity: usize) -> Self {
        let stride =
            (ctx.limits.min_uniform_buffer_offset_alignment as usize).max(super::pipelines::PARAMS_SIZE as usize);
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: (stride * capacity) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ParamArena { buffer, stride, capacity, staged: Vec::new() }
    }

    /// Starts a new batch.
    pub fn clear(&mut self) {
        self.staged.clear();
    }

    /// Stages `p` and returns its dynamic offset.
    pub fn push<P: bytemuck::Pod>(&mut self, p: &P) -> Result<u32> {
        let slot = self.staged.len() / self.stride;
        if slot >= self.capacity {
            return Err(Error::Gpu(format!("parameter arena full ({} slots); use a smaller basis", self.capacity)));
        }
        let off = self.staged.len();
        self.staged.extend_from_slice(bytemuck::bytes_of(p));
        self.staged.resize(off + self.stride, 0);
        Ok(off as u32)
    }

    /// Writes the staged batch (before the submit that uses it).
    pub fn upload(&self, ctx: &GpuContext) {
        if !self.staged.is_empty() {
            ctx.queue.write_buffer(&self.buffer, 0, &self.staged);
        }
    }

    /// The uniform binding (one struct wide; the offset is dynamic).
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: 0,
            size: std::num::NonZeroU64::new(super::pipelines::PARAMS_SIZE),
        })
    }
}

/// Builds a bind group for pipeline `name` with the arena at binding 0 and `rest` at 1...
pub fn bind(
    ctx: &GpuContext,
    shader: super::shaders::Shader,
    arena: &ParamArena,
    rest: &[wgpu::BindingResource<'_>],
) -> wgpu::BindGroup {
    let (p, name) = (ctx.pipelines.get(shader), shader.name());
    let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: arena.binding() }];
    for (k, r) in rest.iter().enumerate() {
        entries.push(wgpu::BindGroupEntry { binding: k as u32 + 1, resource: r.clone() });
    }
    ctx.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(name), layout: &p.layout, entries: &entries })
}
