//! The rotating-horse image set (design.md §2c): the procedural horse of `assets/horse.json` as a
//! signed-distance field, ray-marched orthographically from a fixed camera under a fixed light,
//! rotated by an azimuth θ about the vertical axis and optionally tilted by an elevation φ. Grayscale
//! in [0, 1], row 0 at the top. The GPU stage (`shaders/render.wgsl`, [`crate::gpu::render`]) and its
//! CPU twin ([`crate::cpu::render`]) share the packed scene and the constants here; they agree pixel
//! by pixel up to f32 rounding at silhouette edges.

use serde_json::Value;

use crate::error::{Error, Result};

/// The horse description, embedded at compile time.
pub const HORSE_JSON: &str = include_str!("../../assets/horse.json");
/// Half-width of the orthographic view in scene units.
pub const VIEW_HALF_WIDTH: f32 = 1.45;
/// Camera distance along +z (rays start there and march towards −z).
pub const CAMERA_Z: f32 = 4.0;
/// Largest number of ray-marching steps (shaders/render.wgsl has the same constant).
pub const MAX_STEPS: u32 = 160;
/// Rays per pixel side (shaders/render.wgsl has the same constant): 2 × 2 rays per pixel.
pub const SUPERSAMPLE: u32 = 2;
/// Golden-section iterations locating a ray's closest approach to the surface (shaders/render.wgsl has
/// the same constant): the bracket shrinks to 0.618⁸ ≈ 2 %, the distance's error to its square.
pub const GOLDEN_STEPS: u32 = 8;
/// Surface hit threshold.
pub const HIT_EPS: f32 = 5e-4;
/// Light direction (normalised where used), world frame (shaders/render.wgsl has the same constant).
pub const LIGHT: [f32; 3] = [-0.4, 0.7, 0.6];

/// A scene packed for both twins: per part two vec4 — (kind, a.xyz), (b.xyz, r) — where kind 0 is a
/// capsule from a to b of radius r and kind 1 an ellipsoid at a with radii b.
#[derive(Clone, Debug)]
pub struct Scene {
    /// Packed parts, 8 floats each.
    pub packed: Vec<f32>,
    /// Smooth-union radius.
    pub smooth_k: f32,
    /// Part names, in order.
    pub names: Vec<String>,
}

fn vec3(v: &Value, what: &str) -> Result<[f32; 3]> {
    let a = v
        .as_array()
        .filter(|a| a.len() == 3)
        .ok_or_else(|| Error::param("scene", format!("{what}: expected [x, y, z]")))?;
    let mut out = [0.0f32; 3];
    for (o, x) in out.iter_mut().zip(a) {
        *o = x.as_f64().ok_or_else(|| Error::param("scene", format!("{what}: not a number")))? as f32;
    }
    Ok(out)
}

impl Scene {
    /// Parses a scene description (the format of `assets/horse.json`).
    pub fn parse(text: &str) -> Result<Scene> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::param("scene", format!("not JSON: {e}")))?;
        let smooth_k = v["smooth_k"].as_f64().unwrap_or(0.08) as f32;
        let parts = v["parts"].as_array().ok_or_else(|| Error::param("scene", "missing `parts`"))?;
        let (mut packed, mut names) = (Vec::new(), Vec::new());
        for p in parts {
            let name = p["name"].as_str().unwrap_or("?").to_string();
            if let Some(c) = p.get("capsule") {
                let (a, b) = (vec3(&c["a"], &name)?, vec3(&c["b"], &name)?);
                let r = c["r"]
                    .as_f64()
                    .filter(|r| *r > 0.0)
                    .ok_or_else(|| Error::param("scene", format!("{name}: r must be positive")))?;
                packed.extend_from_slice(&[0.0, a[0], a[1], a[2], b[0], b[1], b[2], r as f32]);
            } else if let Some(e) = p.get("ellipsoid") {
                let (c, r) = (vec3(&e["center"], &name)?, vec3(&e["radii"], &name)?);
                if r.iter().any(|&x| x <= 0.0) {
                    return Err(Error::param("scene", format!("{name}: radii must be positive")));
                }
                packed.extend_from_slice(&[1.0, c[0], c[1], c[2], r[0], r[1], r[2], 0.0]);
            } else {
                return Err(Error::param("scene", format!("{name}: expected `capsule` or `ellipsoid`")));
            }
            names.push(name);
        }
        if names.is_empty() {
            return Err(Error::param("scene", "no parts"));
        }
        Ok(Scene { packed, smooth_k, names })
    }

    /// The built-in horse.
    pub fn horse() -> Scene {
        Scene::parse(HORSE_JSON).expect("assets/horse.json is valid (checked by a test)")
    }

    /// Number of parts.
    pub fn parts(&self) -> usize {
        self.names.len()
    }
}

/// Largest image side rendered.
pub const MAX_SIZE: usize = 4096;
/// Most frames in one set (azimuths × elevations).
pub const MAX_FRAMES: usize = 1_000_000;
/// Most bytes a frame set may take in memory, with what the caller holds per pixel (8 GiB).
pub const MAX_SET_BYTES: u64 = 8 << 30;

/// Checks a frame set before anything is allocated: frames × elevations (checked arithmetic) within
/// [`MAX_FRAMES`], the side within 8..=[`MAX_SIZE`], and `bytes_per_pixel` (what the caller holds per
/// pixel of every frame: 4 for the images alone) times the pixels within [`MAX_SET_BYTES`]. Returns the
/// number of frames.
pub fn check_set(frames: usize, elevations: usize, size: usize, bytes_per_pixel: u64) -> Result<usize> {
    use crate::error::Error;
    let count = frames.checked_mul(elevations).filter(|c| (1..=MAX_FRAMES).contains(c)).ok_or_else(|| {
        Error::param("frames", format!("frames × elevations = {frames} × {elevations} must lie in 1..={MAX_FRAMES}"))
    })?;
    if !(8..=MAX_SIZE).contains(&size) {
        return Err(Error::param("size", format!("must lie in 8..={MAX_SIZE}, got {size}")));
    }
    let bytes = (count as u64).checked_mul(size as u64 * size as u64).and_then(|b| b.checked_mul(bytes_per_pixel));
    match bytes {
        Some(b) if b <= MAX_SET_BYTES => Ok(count),
        _ => Err(Error::param(
            "frames",
            format!(
                "{count} frames of {size}×{size} pixels need {:.1} GiB, above the {} GiB limit: render fewer frames \
                 or smaller images",
                count as f64 * (size * size) as f64 * bytes_per_pixel as f64 / (1u64 << 30) as f64,
                MAX_SET_BYTES >> 30
            ),
        )),
    }
}

/// Frame angles: `frames` azimuths evenly over [0, 2π) for each of `elevations` elevations evenly
/// over [−0.35, 0.35] rad (one elevation: 0). Returns (θ, φ) per frame, azimuth fastest.
pub fn frame_angles(frames: usize, elevations: usize) -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(frames.saturating_mul(elevations).min(MAX_FRAMES));
    for e in 0..elevations {
        let phi = if elevations == 1 { 0.0 } else { -0.35 + 0.7 * e as f64 / (elevations - 1) as f64 };
        for f in 0..frames {
            let theta = 2.0 * std::f64::consts::PI * f as f64 / frames as f64;
            out.push((theta as f32, phi as f32));
        }
    }
    out
}

/// A renderer for one scene and image size, built once and reused for every batch of frames: the GPU
/// stage when a context is given, else the CPU twin.
pub enum FrameRenderer {
    /// The WGSL stage (its buffers and bind group live as long as this value).
    Gpu(crate::gpu::render::GpuRenderer),
    /// The CPU twin.
    Cpu {
        /// The scene.
        scene: Scene,
        /// Image side in pixels.
        size: usize,
    },
}

impl FrameRenderer {
    /// A renderer on `gpu` (or the CPU twin when `None`).
    pub fn new(gpu: Option<std::sync::Arc<crate::gpu::GpuContext>>, scene: &Scene, size: usize) -> Result<Self> {
        if !(8..=MAX_SIZE).contains(&size) {
            return Err(crate::error::Error::param("size", format!("must lie in 8..={MAX_SIZE}, got {size}")));
        }
        Ok(match gpu {
            Some(ctx) => FrameRenderer::Gpu(crate::gpu::render::GpuRenderer::new(ctx, scene, size)?),
            None => FrameRenderer::Cpu { scene: scene.clone(), size },
        })
    }

    /// Renders the frames (θ, φ); frame-major, row-major, row 0 at the top.
    pub fn render(&mut self, angles: &[(f32, f32)]) -> Result<Vec<f32>> {
        match self {
            FrameRenderer::Gpu(g) => g.render(angles),
            FrameRenderer::Cpu { scene, size } => Ok(crate::cpu::render::render(scene, angles, *size)),
        }
    }

    /// [`Self::render`] in ten slices, each a step of a task named `label` sent to `observe`: large
    /// sets take minutes on a software adapter.
    pub fn render_with_progress(
        &mut self,
        angles: &[(f32, f32)],
        label: &str,
        observe: &crate::observe::Observe,
    ) -> Result<Vec<f32>> {
        check_set(angles.len().max(1), 1, self.size(), 4)?;
        let slices = 10.min(angles.len().max(1));
        let chunk = angles.len().div_ceil(slices).max(1);
        let mut bar = observe.task(label, angles.len().div_ceil(chunk));
        let mut out = Vec::with_capacity(angles.len() * self.size() * self.size());
        for (k, part) in angles.chunks(chunk).enumerate() {
            bar.start(&format!("frames {}–{} of {}", k * chunk + 1, k * chunk + part.len(), angles.len()))?;
            out.extend(self.render(part)?);
            bar.step();
        }
        bar.finish(&format!("{} frames", angles.len()));
        Ok(out)
    }

    /// Image side in pixels.
    pub fn size(&self) -> usize {
        match self {
            FrameRenderer::Gpu(g) => g.size(),
            FrameRenderer::Cpu { size, .. } => *size,
        }
    }

    /// Where it renders: the adapter, or "CPU twin".
    pub fn describe(&self) -> String {
        match self {
            FrameRenderer::Gpu(g) => g.context().describe(),
            FrameRenderer::Cpu { .. } => "CPU twin".into(),
        }
    }
}

/// Observations of the image map (the `embed` / `compare` input): `obs` = the frames flattened (N × S²),
/// `jacobians` = forward differences of the frames in θ (and in φ when `dims` = 2) with step `h`
/// radians (N × S² × dims), `inputs` = the angles (θ, φ). Forward, not central, differences: each extra
/// angle costs one more render of the whole set, and the frames are smooth enough in the angle (see
/// the coverage ramp in the renderer) that the O(h) error stays far below the metric's own noise.
/// Each extra render is a task sent to `observe`.
pub fn angle_observations(
    renderer: &mut FrameRenderer,
    angles: &[(f32, f32)],
    images: &[f32],
    dims: usize,
    h: f32,
    observe: &crate::observe::Observe,
) -> Result<crate::data::Observations> {
    let (n, px) = (angles.len(), renderer.size() * renderer.size());
    if !(1..=2).contains(&dims) || !(h > 0.0) || images.len() != n * px {
        return Err(crate::error::Error::param("jacobians", format!("need 1 or 2 angles and h > 0, got {dims}, {h}")));
    }
    let mut jac = ndarray::Array3::<f64>::zeros((n, px, dims));
    for k in 0..dims {
        let shifted: Vec<(f32, f32)> =
            angles.iter().map(|&(t, f)| if k == 0 { (t + h, f) } else { (t, f + h) }).collect();
        let label = if k == 0 { "render ∂/∂θ" } else { "render ∂/∂φ" };
        let moved = renderer.render_with_progress(&shifted, label, observe)?;
        for i in 0..n {
            for p in 0..px {
                jac[[i, p, k]] = (moved[i * px + p] - images[i * px + p]) as f64 / h as f64;
            }
        }
    }
    let obs = ndarray::Array2::from_shape_vec((n, px), images.iter().map(|&v| v as f64).collect())
        .expect("sizes checked above");
    let inputs = ndarray::Array2::from_shape_fn((n, 2), |(i, k)| if k == 0 { angles[i].0 } else { angles[i].1 } as f64);
    crate::data::Observations::new(obs, crate::data::LocalSource::Jacobians(jac), 1.0, Some(inputs))
}

/// A contact sheet: up to `max` frames spaced evenly through the set, each labelled by its azimuth
/// (drawn by [`crate::report::figures::contact_sheet`]).
pub fn contact_sheet(
    images: &[f32],
    angles: &[(f32, f32)],
    size: usize,
    max: usize,
) -> Result<crate::report::figures::Image> {
    crate::report::figures::contact_sheet(images, angles, size, max)
}

/// One rendered frame (grey levels in [0, 1], side `size`) as an image to save.
pub fn gray_image(image: &[f32], size: usize) -> Result<crate::report::figures::Image> {
    crate::report::figures::Image::gray(image, size)
}
