//! Which device computes: [`open`] turns a [`BackendChoice`] into a CPU or GPU [`Device`]. Kept
//! apart from the contract in [`backend`](crate::backend), which the twins implement, so that the
//! contract imports neither twin.

use crate::backend::{BackendChoice, Device};
use crate::error::Result;

/// Opens a device for `choice`, with a note saying why when `Auto` chose the CPU.
///
/// `Auto` computes on the GPU only when the adapter is hardware. A software adapter (Mesa's lavapipe,
/// which the GPU tests use on machines without a GPU) is refused: measured 25× slower than the CPU
/// path on the mushroom case and 150× at N = 20 000 (BENCHMARKS.md), because it runs the WGSL on the
/// same cores with less optimisation. `Gpu` computes on whatever adapter there is.
pub fn open(choice: BackendChoice) -> Result<(Box<dyn Device>, Option<String>)> {
    let cpu = || Box::new(crate::cpu::CpuDevice::new()) as Box<dyn Device>;
    match choice {
        BackendChoice::Cpu => Ok((cpu(), None)),
        BackendChoice::Gpu => Ok((Box::new(crate::gpu::GpuDevice::new(crate::gpu::GpuContext::shared()?)), None)),
        BackendChoice::Auto => match crate::gpu::GpuContext::shared() {
            Ok(ctx) if ctx.is_software() => Ok((
                cpu(),
                Some(format!(
                    "chose the CPU: {} is a software adapter, slower than the CPU path (--backend gpu computes there anyway)",
                    ctx.describe()
                )),
            )),
            Ok(ctx) => Ok((Box::new(crate::gpu::GpuDevice::new(ctx)), None)),
            Err(e) => Ok((cpu(), Some(format!("chose the CPU: no GPU adapter ({e})")))),
        },
    }
}
