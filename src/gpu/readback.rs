//! The one place that maps buffers for reading. A staging buffer is kept and grown as needed; a read
//! appends one copy to the caller's encoder, submits it, waits, and copies the bytes out — so each
//! caller decides where its single synchronisation point goes.

use super::context::GpuContext;
use crate::error::{Error, Result};

/// A reusable staging buffer.
#[derive(Default)]
pub struct Reader {
    staging: Option<wgpu::Buffer>,
    cap: u64,
    reads: usize,
}

impl Reader {
    /// Host read-backs (synchronisation points) so far; tests use it to prove a restart cycle has one.
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// Appends a copy of `count` values of `T` from `src` (starting at element `at`) to `encoder`, submits
    /// it, waits and returns the values.
    pub fn finish<T: bytemuck::Pod>(
        &mut self,
        ctx: &GpuContext,
        mut encoder: wgpu::CommandEncoder,
        src: &wgpu::Buffer,
        at: usize,
        count: usize,
    ) -> Result<Vec<T>> {
        self.reads += 1;
        let size = std::mem::size_of::<T>();
        let bytes = (count * size) as u64;
        if bytes == 0 {
            ctx.queue.submit(Some(encoder.finish()));
            ctx.wait()?;
            return Ok(Vec::new());
        }
        if self.staging.is_none() || self.cap < bytes {
            let cap = bytes.next_power_of_two().max(1 << 16);
            self.staging = Some(ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size: cap,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
            self.cap = cap;
        }
        let staging = self.staging.as_ref().expect("allocated above");
        encoder.copy_buffer_to_buffer(src, (at * size) as u64, staging, 0, bytes);
        ctx.queue.submit(Some(encoder.finish()));
        let slice = staging.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        ctx.wait()?;
        rx.recv()
            .map_err(|_| Error::Gpu("map callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the read-back buffer failed: {e}")))?;
        let out = {
            let view = slice.get_mapped_range().map_err(|e| Error::Gpu(format!("mapped range: {e}")))?;
            bytemuck::cast_slice::<u8, T>(&view).to_vec()
        };
        staging.unmap();
        Ok(out)
    }
}
