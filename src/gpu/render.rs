//! GPU stage `render` (shaders/render.wgsl): ray-marches a batch of frames, one invocation per pixel.
//! CPU twin: [`crate::cpu::render::render`]. The renderer keeps its scene, angle and image buffers,
//! parameter arena and bind group for the life of the object, and renders any number of frames in
//! batches sized to the adapter's storage-binding limit (and ≤ 65 535 frames per dispatch).

use std::sync::Arc;

use super::buffers::{GpuBuffer, ParamArena, bind};
use super::context::GpuContext;
use super::readback::Reader;
use super::shaders::Shader;
use crate::error::{Error, Result};
use crate::render::{CAMERA_Z, HIT_EPS, Scene, VIEW_HALF_WIDTH};

/// Uniform parameters of `render.wgsl` — keep in sync with `struct Params` there.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RenderParams {
    /// Image side in pixels.
    pub size: u32,
    /// Frames in this batch.
    pub frames: u32,
    /// Scene parts.
    pub parts: u32,
    /// Padding.
    pub _pad0: u32,
    /// Half-width of the orthographic view.
    pub half_width: f32,
    /// Camera distance.
    pub camera_z: f32,
    /// Smooth-union radius.
    pub smooth_k: f32,
    /// Hit threshold.
    pub hit_eps: f32,
}

/// A GPU renderer for one scene and one image size.
pub struct GpuRenderer {
    ctx: Arc<GpuContext>,
    parts: u32,
    smooth_k: f32,
    size: usize,
    batch: usize,
    _scene: GpuBuffer<f32>,
    angles: GpuBuffer<[f32; 2]>,
    image: GpuBuffer<f32>,
    arena: ParamArena,
    bind_group: wgpu::BindGroup,
    reader: Reader,
}

impl GpuRenderer {
    /// Uploads `scene` and allocates buffers for `size`×`size` frames.
    pub fn new(ctx: Arc<GpuContext>, scene: &Scene, size: usize) -> Result<Self> {
        if size == 0 || size > 4096 {
            return Err(Error::param("size", format!("must lie in 1..=4096, got {size}")));
        }
        let frame_bytes = (size * size * 4) as u64;
        let limit = ctx.limits.max_storage_buffer_binding_size.min(ctx.limits.max_buffer_size);
        if frame_bytes > limit {
            return Err(Error::param(
                "size",
                format!("one {size}×{size} frame needs {frame_bytes} bytes, above the adapter's binding limit {limit}"),
            ));
        }
        // Whole frames per batch within the binding limit; at most 4096 keeps one submit short.
        let batch = ((limit / frame_bytes) as usize).clamp(1, 4096);
        let scene_buf: GpuBuffer<f32> = GpuBuffer::from_slice(&ctx, "scene", &scene.packed)?;
        let angles: GpuBuffer<[f32; 2]> = GpuBuffer::zeroed(&ctx, "angles", batch)?;
        let image: GpuBuffer<f32> = GpuBuffer::zeroed(&ctx, "image", batch * size * size)?;
        let arena = ParamArena::new(&ctx, 4);
        let bind_group = bind(&ctx, Shader::Render, &arena, &[scene_buf.binding(), angles.binding(), image.binding()]);
        Ok(GpuRenderer {
            parts: scene.parts() as u32,
            smooth_k: scene.smooth_k,
            size,
            batch,
            _scene: scene_buf,
            angles,
            image,
            arena,
            bind_group,
            reader: Reader::default(),
            ctx,
        })
    }

    /// Frames per submit.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Image side in pixels.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The context it renders on.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Renders the frames (θ, φ); frame-major, row-major, row 0 at the top (as the CPU twin).
    pub fn render(&mut self, angles: &[(f32, f32)]) -> Result<Vec<f32>> {
        let ctx = self.ctx.clone();
        let px = self.size * self.size;
        let mut out = Vec::with_capacity(angles.len() * px);
        for chunk in angles.chunks(self.batch) {
            let a: Vec<[f32; 2]> = chunk.iter().map(|&(t, p)| [t, p]).collect();
            self.angles.write(&ctx, 0, &a);
            let params = RenderParams {
                size: self.size as u32,
                frames: chunk.len() as u32,
                parts: self.parts,
                _pad0: 0,
                half_width: VIEW_HALF_WIDTH,
                camera_z: CAMERA_Z,
                smooth_k: self.smooth_k,
                hit_eps: HIT_EPS,
            };
            let groups = ((px as u32).div_ceil(64), chunk.len() as u32);
            let enc = super::one_pass(&ctx, &mut self.arena, "render", |pass, arena| {
                super::pipelines::dispatch(&ctx, pass, arena, Shader::Render, &self.bind_group, &params, groups)
            })?;
            out.extend(self.reader.finish::<f32>(&ctx, enc, &self.image.buffer, 0, chunk.len() * px)?);
        }
        ctx.check()?;
        Ok(out)
    }
}
