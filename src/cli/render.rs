//! `netmatch render horse`: the image set as PNG frames, `horse.npz`, a contact sheet and, with
//! `--jacobians`, the `observations.npz` that `embed` and `compare` read.

use std::process::ExitCode;
use std::sync::Arc;

use netmatch::backend::BackendChoice;
use netmatch::data::npz;
use netmatch::error::{Error, Result};
use netmatch::gpu::GpuContext;
use netmatch::render::{FrameRenderer, Scene, contact_sheet, frame_angles};

use super::args::RenderArgs;
use super::term::{Term, note};

/// The GPU context to render on, if any: the same policy as computing ([`netmatch::devices::choose_gpu`]),
/// saying on stderr when the CPU renderer takes over.
pub fn render_context(backend: BackendChoice, quiet: bool) -> Result<Option<Arc<GpuContext>>> {
    let (ctx, why) = netmatch::devices::choose_gpu(backend)?;
    if let Some(why) = why {
        note(quiet, &format!("rendering on the CPU: {why}"));
    }
    Ok(ctx)
}

/// Renders the set into a staged directory and commits it whole.
pub fn run(a: RenderArgs) -> Result<ExitCode> {
    // Images (4 bytes a pixel); with --jacobians also the shifted renders, the f64 observations and
    // the Jacobians.
    let dims = if a.elevations > 1 { 2 } else { 1 };
    let per_pixel = if a.jacobians { 4 + 4 + 8 + 8 * dims as u64 } else { 4 };
    netmatch::render::check_set(a.frames, a.elevations, a.size, per_pixel)?;
    netmatch::report::check_dir(&a.out, a.run.force)?;
    let observe = Term::observe(a.run.quiet);
    let mut renderer = FrameRenderer::new(render_context(a.run.backend, a.run.quiet)?, &Scene::horse(), a.size)?;
    let where_ = renderer.describe();
    let angles = frame_angles(a.frames, a.elevations);
    let t0 = std::time::Instant::now();
    let big = if angles.len() >= 1000 { observe.clone() } else { Default::default() };
    let images = renderer.render_with_progress(&angles, "render", &big)?;
    let secs = t0.elapsed().as_secs_f64();
    let (n, size) = (angles.len(), a.size);
    note(a.run.quiet, &format!("rendered {n} frames of {size}×{size} on {where_} in {secs:.2} s"));
    let imgs = ndarray::Array3::from_shape_vec((n, size, size), images.clone())
        .map_err(|e| Error::Shape(format!("rendered images do not match {n} frames of {size}×{size}: {e}")))?;
    let ang = ndarray::Array2::from_shape_fn((n, 2), |(i, k)| if k == 0 { angles[i].0 } else { angles[i].1 });
    let stage = netmatch::report::OutputDir::create(&a.out, a.run.force)?;
    let dir = stage.path().to_path_buf();
    npz::write_atomic(&dir.join("horse.npz"), |w| {
        w.add_array("images", &imgs)?;
        w.add_array("angles", &ang)?;
        Ok(())
    })?;
    contact_sheet(&images, &angles, size, 48)?.save_png(&dir.join("contact_sheet.png"))?;
    let mut jac_secs = None;
    if a.jacobians {
        let t1 = std::time::Instant::now();
        let o = netmatch::render::angle_observations(&mut renderer, &angles, &images, dims, a.h, &big)?;
        npz::write_observations(&dir.join("observations.npz"), &o)?;
        let s = t1.elapsed().as_secs_f64();
        note(
            a.run.quiet,
            &format!("rendered the {dims} finite-difference set(s) and wrote observations.npz in {s:.2} s"),
        );
        jac_secs = Some(s);
    }
    if !a.no_frames {
        let frames = dir.join("frames");
        std::fs::create_dir_all(&frames).map_err(|e| Error::io(&frames, e))?;
        for (k, image) in images.chunks(size * size).enumerate() {
            netmatch::render::gray_image(image, size)?.save_png(&frames.join(format!("frame_{k:05}.png")))?;
        }
    }
    stage.commit()?;
    let record = serde_json::json!({"frames": n, "size": size, "elevations": a.elevations, "device": where_,
        "seconds": secs, "jacobian_seconds": jac_secs, "out": a.out.display().to_string()});
    println!("{record}");
    Ok(ExitCode::SUCCESS)
}
