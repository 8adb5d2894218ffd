//! Which device computes: [`choose_gpu`] applies the backend policy, [`open`] turns a
//! [`BackendChoice`] into a CPU or GPU [`Device`]. Kept
//! apart from the contract in [`backend`](crate::backend), which the twins implement, so that the
//! contract imports neither twin.

use std::sync::Arc;

use crate::backend::{BackendChoice, Device};
use crate::error::Result;
use crate::gpu::GpuContext;

/// The GPU context `choice` computes on, or `None` with the reason when it is the CPU.
///
/// `Auto` takes the GPU only when the adapter is hardware. A software adapter (Mesa's lavapipe, which
/// the GPU tests use on machines without a GPU) is passed over: it runs the WGSL on the same cores
/// with less optimisation, measured 25× slower than the CPU path on the mushroom case, 150× at
/// N = 20 000, and 5× slower at ray marching than the CPU renderer (BENCHMARKS.md). `Gpu` takes
/// whatever adapter there is; `Cpu` none.
pub fn choose_gpu(choice: BackendChoice) -> Result<(Option<Arc<GpuContext>>, Option<String>)> {
    match choice {
        BackendChoice::Cpu => Ok((None, None)),
        BackendChoice::Gpu => Ok((Some(GpuContext::shared()?), None)),
        BackendChoice::Auto => match GpuContext::shared() {
            Ok(ctx) if ctx.is_software() => Ok((
                None,
                Some(format!(
                    "{} is a software adapter, slower than the CPU (--backend gpu uses it anyway)",
                    ctx.describe()
                )),
            )),
            Ok(ctx) => Ok((Some(ctx), None)),
            Err(e) => Ok((None, Some(format!("no GPU adapter ({e})")))),
        },
    }
}

/// Opens a device for `choice` (see [`choose_gpu`]), with a note saying why when it is the CPU
/// although `auto` was asked for.
pub fn open(choice: BackendChoice) -> Result<(Box<dyn Device>, Option<String>)> {
    Ok(match choose_gpu(choice)? {
        (Some(ctx), _) => (Box::new(crate::gpu::GpuDevice::new(ctx)), None),
        (None, why) => (Box::new(crate::cpu::CpuDevice::new()), why.map(|w| format!("chose the CPU: {w}"))),
    })
}
