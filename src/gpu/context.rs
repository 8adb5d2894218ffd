//! The GPU context: instance, adapter, device (with the adapter's own limits), queue and the compiled
//! pipelines, built once per process and shared ([`GpuContext::shared`]). Validation errors that wgpu
//! would otherwise turn into panics are captured here and surfaced as [`Error::Gpu`].

use std::sync::{Arc, Mutex, OnceLock};

use super::pipelines::Pipelines;
use crate::error::{Error, Result};

/// Everything netmatch needs from wgpu, created once.
pub struct GpuContext {
    /// The adapter in use.
    pub adapter: wgpu::Adapter,
    /// The logical device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Adapter description (name, backend, driver).
    pub info: wgpu::AdapterInfo,
    /// The limits the device was created with (the adapter's).
    pub limits: wgpu::Limits,
    /// All compute pipelines, declared in [`super::pipelines`].
    pub pipelines: Pipelines,
    errors: Arc<Mutex<Vec<String>>>,
}

/// A short description of one adapter, for `netmatch info`.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// Adapter name.
    pub name: String,
    /// Backend (Vulkan, Metal, Dx12, Gl).
    pub backend: String,
    /// Device type (DiscreteGpu, Cpu, ...).
    pub device_type: String,
    /// Driver and driver info.
    pub driver: String,
    /// Max storage buffer binding size in bytes.
    pub max_storage_binding: u64,
    /// Max buffer size in bytes.
    pub max_buffer: u64,
    /// Max workgroup storage in bytes.
    pub max_workgroup_storage: u32,
    /// Whether the adapter offers `SHADER_F16`.
    pub shader_f16: bool,
}

fn instance() -> wgpu::Instance {
    // WGPU_BACKEND (e.g. "vulkan") narrows the backends; by default all are tried, Vulkan first.
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    if std::env::var_os("WGPU_BACKEND").is_none() {
        desc.backends = wgpu::Backends::all();
    }
    wgpu::Instance::new(desc)
}

fn summarise(a: &wgpu::Adapter) -> AdapterSummary {
    let info = a.get_info();
    let limits = a.limits();
    AdapterSummary {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
        max_storage_binding: limits.max_storage_buffer_binding_size,
        max_buffer: limits.max_buffer_size,
        max_workgroup_storage: limits.max_compute_workgroup_storage_size,
        shader_f16: a.features().contains(wgpu::Features::SHADER_F16),
    }
}

/// All adapters wgpu can see (for `netmatch info`).
pub fn list_adapters() -> Vec<AdapterSummary> {
    let inst = instance();
    pollster::block_on(inst.enumerate_adapters(wgpu::Backends::all())).iter().map(summarise).collect()
}

impl GpuContext {
    /// Creates a context on the best adapter (high performance preferred).
    pub fn new() -> Result<Self> {
        let inst = instance();
        let adapter = pollster::block_on(inst.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|e| Error::NoGpu(format!("no adapter: {e}")))?;
        let limits = adapter.limits();
        if limits.max_compute_workgroup_storage_size < 18 * 1024 || limits.max_compute_invocations_per_workgroup < 256 {
            return Err(Error::NoGpu(format!(
                "adapter `{}` offers {} bytes of workgroup storage and {} invocations per workgroup; netmatch needs 18 KiB and 256",
                adapter.get_info().name,
                limits.max_compute_workgroup_storage_size,
                limits.max_compute_invocations_per_workgroup
            )));
        }
        // pack2x16float / unpack2x16float (f16 kernel storage, in the kernel and product shaders).
        if !adapter.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::SHADER_F16_IN_F32) {
            return Err(Error::NoGpu(format!(
                "adapter `{}` lacks f16 pack/unpack in shaders (downlevel SHADER_F16_IN_F32), which netmatch's \
                 kernel and product shaders use",
                adapter.get_info().name
            )));
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("netmatch"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::NoGpu(format!("device request failed: {e}")))?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let pipelines = Pipelines::new(&device)?;
        let info = adapter.get_info();
        let ctx = GpuContext { adapter, device, queue, info, limits, pipelines, errors };
        ctx.check()?;
        Ok(ctx)
    }

    /// The process-wide context, created on first use. The error is cached too: a machine without an
    /// adapter does not retry on every call.
    pub fn shared() -> Result<Arc<GpuContext>> {
        static CTX: OnceLock<std::result::Result<Arc<GpuContext>, String>> = OnceLock::new();
        CTX.get_or_init(|| GpuContext::new().map(Arc::new).map_err(|e| e.to_string())).clone().map_err(Error::NoGpu)
    }

    /// A one-line description: `name (backend, type)`.
    pub fn describe(&self) -> String {
        format!("{} ({:?}, {:?})", self.info.name, self.info.backend, self.info.device_type)
    }

    /// Whether the adapter is a software rasteriser on the CPU (lavapipe, llvmpipe, WARP): a real
    /// device for correctness, but for branchy work such as ray marching slower than the CPU twins.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The adapter summary of this context.
    pub fn summary(&self) -> AdapterSummary {
        summarise(&self.adapter)
    }

    /// Returns the first captured device error since the last check, if any.
    pub fn check(&self) -> Result<()> {
        let mut v = self.errors.lock().map_err(|_| Error::Gpu("error sink poisoned".into()))?;
        if v.is_empty() {
            return Ok(());
        }
        let msg = v.join("; ");
        v.clear();
        Err(Error::Gpu(msg))
    }

    /// Blocks until all submitted work is done, then reports captured errors.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("device poll failed: {e}")))?;
        self.check()
    }
}
