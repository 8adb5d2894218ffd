//! The GPU backend — the only module that names `wgpu`. [`GpuDevice`] keeps the N×N matrix in row
//! blocks (each within the adapter's `max_storage_buffer_binding_size` and at most 65 535 rows, the
//! dispatch limit), the Krylov basis in two ping-pong buffers, and bind groups built once per
//! allocation. Each public operation is one submit; a Lanczos restart cycle is one submit and one
//! read-back of the coefficient matrix ([`krylov`]). Every submit records its pass through
//! [`one_pass`] / [`record_pass`]; every stage names its kernel by [`shaders::Shader`].

pub(crate) mod buffers;
pub mod context;
pub mod csr_matmat;
pub mod kernel;
pub mod kernel_gemm;
pub mod kernel_gemm_matmat;
pub mod kernel_matmat;
pub mod krylov;
pub mod lanczos;
pub mod matmat;
pub mod matvec;
pub mod normalise;
pub mod pipelines;
pub(crate) mod readback;
pub mod render;
pub mod shaders;

use std::sync::Arc;

pub use context::{AdapterSummary, GpuContext, list_adapters};

use self::buffers::{GpuBuffer, ParamArena, bind};
use self::krylov::Krylov;
use self::readback::Reader;
use self::shaders::Shader;
use crate::backend::GeometryF32;
use crate::backend::{Device, KernelMethod, Precision, check_precision, deinterleave, interleave, no_rows_stored};
use crate::error::{Error, Result};

/// Parameter slots in the arena (256 B each on most adapters).
const ARENA_SLOTS: usize = 8192;

/// Rows `row0..row0+rows` of the matrix: f32 bits, or f16 pairs (see [`Precision`]).
struct Block {
    row0: usize,
    rows: usize,
    buf: GpuBuffer<u32>,
}

/// The sparse kernel on the device and the interleaved N×16 blocks of its product.
struct GpuCsr {
    n: usize,
    x: GpuBuffer<f32>,
    y: GpuBuffer<f32>,
    bind_group: wgpu::BindGroup,
    // Held for the bind group's lifetime.
    _arrays: (GpuBuffer<u32>, GpuBuffer<u32>, GpuBuffer<f32>),
}

/// The matrix-free operator: the geometry on the device and the interleaved N×16 blocks.
struct GpuFree {
    params: FreeParams,
    x: GpuBuffer<f32>,
    y: GpuBuffer<f32>,
    bind_group: wgpu::BindGroup,
    // Held for the bind group's lifetime.
    _geometry: Vec<GpuBuffer<f32>>,
}

/// Which product recomputes the matrix-free kernel.
#[derive(Clone, Copy)]
enum FreeParams {
    Pairwise(kernel_matmat::KernelMatmatParams),
    Gemm(kernel_gemm_matmat::KernelGemmMatmatParams),
}

/// The GPU backend (see the module doc).
pub struct GpuDevice {
    ctx: Arc<GpuContext>,
    arena: ParamArena,
    reader: Reader,
    max_block_rows: Option<usize>,
    n: usize,
    precision: Precision,
    /// The diagonal scale of f16 storage, applied on the host around each product (ones until
    /// `normalise`).
    scale: Vec<f32>,
    blocks: Vec<Block>,
    vec_in: Option<GpuBuffer<f32>>,
    vec_out: Option<GpuBuffer<f32>>,
    bg_matvec: Vec<wgpu::BindGroup>,
    /// Interleaved N×16 blocks for `matmat` and their bind groups (one per matrix block).
    mm_in: Option<GpuBuffer<f32>>,
    mm_out: Option<GpuBuffer<f32>>,
    bg_matmat: Vec<wgpu::BindGroup>,
    csr: Option<GpuCsr>,
    free: Option<GpuFree>,
    bg_normalise: Vec<wgpu::BindGroup>,
    krylov: Option<Krylov>,
    /// The requested kernel method, and the one the last build used.
    method: (KernelMethod, KernelMethod),
}

impl GpuDevice {
    /// A device on `ctx` (pipelines come from the context; buffers are allocated per matrix).
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        let arena = ParamArena::new(&ctx, ARENA_SLOTS);
        GpuDevice {
            ctx,
            arena,
            reader: Reader::default(),
            max_block_rows: None,
            n: 0,
            precision: Precision::F32,
            scale: Vec::new(),
            blocks: Vec::new(),
            vec_in: None,
            vec_out: None,
            bg_matvec: Vec::new(),
            mm_in: None,
            mm_out: None,
            bg_matmat: Vec::new(),
            csr: None,
            free: None,
            bg_normalise: Vec::new(),
            krylov: None,
            method: (KernelMethod::Auto, KernelMethod::Auto),
        }
    }

    /// Caps the rows per matrix block below what the limits allow, and the matrix-free product's
    /// columns per dispatch likewise (tests use it to exercise the splits at small N).
    pub fn with_max_block_rows(mut self, rows: usize) -> Self {
        self.max_block_rows = Some(rows.max(1));
        self
    }

    /// Number of row blocks of the current matrix.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Host read-backs this device has performed (see [`Reader::reads`]).
    pub fn readbacks(&self) -> usize {
        self.reader.reads()
    }

    /// The context.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn rows_per_block(&self, n: usize, precision: Precision) -> Result<usize> {
        let limit = self.ctx.limits.max_storage_buffer_binding_size.min(self.ctx.limits.max_buffer_size);
        block_rows(n, precision, limit, self.max_block_rows)
    }

    /// `self.half` for the shaders' `half` flag.
    fn half_flag(&self) -> u32 {
        u32::from(self.precision == Precision::F16)
    }

    /// Whether the normalisation is a host-side diagonal scale (f16 and matrix-free) rather than
    /// applied to a stored f32 matrix.
    fn scales(&self) -> bool {
        self.precision == Precision::F16 || self.free.is_some()
    }

    /// diag(scale)·v column by column when [`Self::scales`]; `v` itself otherwise.
    fn scaled<'a>(&self, v: &'a [f32]) -> std::borrow::Cow<'a, [f32]> {
        if self.scales() {
            std::borrow::Cow::Owned(crate::backend::scale_columns(v, &self.scale))
        } else {
            std::borrow::Cow::Borrowed(v)
        }
    }

    /// [`Self::scaled`] for a product's result.
    fn scale_result(&self, y: Vec<f32>) -> Vec<f32> {
        if self.scales() { crate::backend::scale_columns(&y, &self.scale) } else { y }
    }

    fn encoder(&self) -> wgpu::CommandEncoder {
        self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("netmatch") })
    }
}

/// The geometry buffers of bindings 1–4 of the `kernel` and `kernel_matmat` shaders (the layout
/// `shaders/common/tile_d2.wgsl` declares): observations, factors, tangents, normal weights.
fn upload_geometry(ctx: &GpuContext, geom: &GeometryF32) -> Result<[GpuBuffer<f32>; 4]> {
    Ok([
        GpuBuffer::from_slice(ctx, "obs", &geom.obs)?,
        GpuBuffer::from_slice(ctx, "factors", &geom.factors)?,
        GpuBuffer::from_slice(ctx, "tangents", &geom.tangents)?,
        GpuBuffer::from_slice(ctx, "normal weights", &geom.normal_weights)?,
    ])
}

/// The product kernels' operands on the device: the factor (and tangent) column matrices, their self
/// projections (prepared by [`crate::cpu::kernel_gemm::GemmGeometry`], so both twins multiply the same
/// numbers), the number of column matrices and whether the normal term takes part.
fn upload_gemm_operands(ctx: &GpuContext, geom: &GeometryF32) -> Result<(GpuBuffer<f32>, GpuBuffer<f32>, usize, bool)> {
    let g = crate::cpu::kernel_gemm::GemmGeometry::new(geom);
    let (cols, selfs) = g.flat();
    let nmat = cols.len() / (geom.n * geom.dim).max(1);
    Ok((
        GpuBuffer::from_slice(ctx, "gemm columns", &cols)?,
        GpuBuffer::from_slice(ctx, "gemm self projections", &selfs)?,
        nmat,
        g.normal(),
    ))
}

/// 32-bit words per stored row: N for f32, ⌈N/2⌉ for f16 pairs.
pub fn row_words(n: usize, precision: Precision) -> usize {
    match precision {
        Precision::F32 => n,
        Precision::F16 => n.div_ceil(2),
    }
}

/// Rows per matrix block for N under a per-buffer byte `limit`: as many rows of `precision` as fit,
/// at most 65 535 (the dispatch-dimension limit) and at most `cap`. An error when not even one row
/// fits.
pub fn block_rows(n: usize, precision: Precision, limit: u64, cap: Option<usize>) -> Result<usize> {
    let row_bytes = 4 * row_words(n, precision) as u64;
    let by_limit = (limit / row_bytes.max(1)) as usize;
    if by_limit == 0 {
        return Err(Error::TooLarge {
            n,
            needed: row_bytes,
            limit,
            what: "one row of the matrix; max storage buffer binding",
        });
    }
    Ok(by_limit.min(65535).min(cap.unwrap_or(usize::MAX)).min(n).max(1))
}

/// Records one compute pass into `enc`: clears the parameter arena, lets `body` encode the
/// dispatches, then uploads the arena (its parameters must be on the device before the submit).
/// Every submit of the device goes through here or [`one_pass`].
fn record_pass(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    arena: &mut ParamArena,
    label: &str,
    body: impl FnOnce(&mut wgpu::ComputePass<'_>, &mut ParamArena) -> Result<()>,
) -> Result<()> {
    arena.clear();
    {
        let mut pass =
            enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: None });
        body(&mut pass, arena)?;
    }
    arena.upload(ctx);
    Ok(())
}

/// A new encoder holding one pass recorded by [`record_pass`], for the caller to submit or to read
/// back from.
fn one_pass(
    ctx: &GpuContext,
    arena: &mut ParamArena,
    label: &str,
    body: impl FnOnce(&mut wgpu::ComputePass<'_>, &mut ParamArena) -> Result<()>,
) -> Result<wgpu::CommandEncoder> {
    let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
    record_pass(ctx, &mut enc, arena, label, body)?;
    Ok(enc)
}

/// Y = S X for the two block products (`matmat`, `csr_matmat`), [`matmat::WIDTH`] vectors per pass:
/// interleave them into `xbuf`, let `record` encode the pass, read `ybuf` back (one submit and one
/// read-back per pass), de-interleave. `x` is (column-major X, n, b).
fn blocked_passes(
    ctx: &GpuContext,
    arena: &mut ParamArena,
    reader: &mut Reader,
    (x, n, b): (&[f32], usize, usize),
    (xbuf, ybuf): (&GpuBuffer<f32>, &GpuBuffer<f32>),
    label: &str,
    mut record: impl FnMut(&mut wgpu::ComputePass<'_>, &mut ParamArena) -> Result<()>,
) -> Result<Vec<f32>> {
    const W: usize = matmat::WIDTH;
    let mut y = vec![0.0f32; n * b];
    let mut xi = vec![0.0f32; n * W];
    for c0 in (0..b).step_by(W) {
        let w = (b - c0).min(W);
        interleave(x, n, c0, w, W, &mut xi);
        xbuf.write(ctx, 0, &xi);
        let enc = one_pass(ctx, arena, label, &mut record)?;
        let yi: Vec<f32> = reader.finish(ctx, enc, &ybuf.buffer, 0, n * W)?;
        deinterleave(&yi, n, W, c0, w, &mut y);
    }
    Ok(y)
}

impl Device for GpuDevice {
    fn kind(&self) -> &'static str {
        "gpu"
    }
    fn adapter(&self) -> String {
        self.ctx.describe()
    }
    fn n(&self) -> usize {
        self.n
    }

    fn build_kernel_as(&mut self, geom: &GeometryF32, eps: Option<f64>, precision: Precision) -> Result<()> {
        check_precision(eps, precision)?;
        let ctx = self.ctx.clone();
        let n = geom.n;
        if n > u32::MAX as usize / 2 {
            return Err(Error::TooLarge { n, needed: n as u64, limit: u32::MAX as u64, what: "N (32-bit indices)" });
        }
        // Drop the previous matrix first so its memory is free for the new one.
        self.blocks.clear();
        self.free = None;
        self.krylov = None;
        self.n = 0;
        let per = self.rows_per_block(n, precision)?;
        let words = row_words(n, precision);
        let total = 4 * (n as u64) * (words as u64);
        let mut blocks = Vec::new();
        let mut row0 = 0;
        while row0 < n {
            let rows = per.min(n - row0);
            let buf = GpuBuffer::<u32>::zeroed(&ctx, "matrix block", rows * words).map_err(|e| match e {
                Error::Gpu(m) => Error::Gpu(format!("dense matrix for N = {n} needs {total} bytes in all: {m}")),
                other => other,
            })?;
            blocks.push(Block { row0, rows, buf });
            row0 += rows;
        }
        let [obs, factors, tangents, normal_w] = upload_geometry(&ctx, geom)?;
        // One spare (zero) entry: the f16 pad column multiplies it.
        let vec_in = GpuBuffer::<f32>::zeroed(&ctx, "vec in", n + 1)?;
        let vec_out = GpuBuffer::<f32>::zeroed(&ctx, "vec out", n)?;
        self.bg_matvec = blocks
            .iter()
            .map(|b| bind(&ctx, Shader::Matvec, &self.arena, &[b.buf.binding(), vec_in.binding(), vec_out.binding()]))
            .collect();
        let mm_in = GpuBuffer::<f32>::zeroed(&ctx, "matmat in", (n + 1) * matmat::WIDTH)?;
        let mm_out = GpuBuffer::<f32>::zeroed(&ctx, "matmat out", n * matmat::WIDTH)?;
        self.bg_matmat = blocks
            .iter()
            .map(|b| bind(&ctx, Shader::Matmat, &self.arena, &[b.buf.binding(), mm_in.binding(), mm_out.binding()]))
            .collect();
        self.bg_normalise = blocks
            .iter()
            .map(|b| bind(&ctx, Shader::Normalise, &self.arena, &[vec_in.binding(), b.buf.binding()]))
            .collect();
        let method = self.method.0.resolve(geom.dim);
        // The products' operands: the factor (and tangent) columns as matrices, with their self
        // projections; the pair-by-pair kernel reads the geometry as uploaded.
        let gemm = match method {
            KernelMethod::Gemm => Some(upload_gemm_operands(&ctx, geom)?),
            _ => None,
        };
        let bg_kernel: Vec<_> = blocks
            .iter()
            .map(|b| match &gemm {
                Some((cols, selfs, _, _)) => bind(
                    &ctx,
                    Shader::KernelGemm,
                    &self.arena,
                    &[obs.binding(), cols.binding(), selfs.binding(), normal_w.binding(), b.buf.binding()],
                ),
                None => bind(
                    &ctx,
                    Shader::Kernel,
                    &self.arena,
                    &[obs.binding(), factors.binding(), tangents.binding(), normal_w.binding(), b.buf.binding()],
                ),
            })
            .collect();
        let enc = one_pass(&ctx, &mut self.arena, "kernel", |pass, arena| {
            let inv_eps = eps.map(|e| (1.0 / e) as f32).unwrap_or(0.0);
            let half = u32::from(precision == Precision::F16);
            for (b, bg) in blocks.iter().zip(&bg_kernel) {
                match &gemm {
                    Some((_, _, nmat, normal)) => {
                        let p = kernel_gemm::KernelGemmParams {
                            n: n as u32,
                            dim: geom.dim as u32,
                            rank: geom.rank as u32,
                            row0: b.row0 as u32,
                            rows: b.rows as u32,
                            flags: u32::from(eps.is_none()) | (half << 1) | (u32::from(*normal) << 2),
                            inv_eps,
                            nmat: *nmat as u32,
                        };
                        kernel_gemm::encode(&ctx, pass, arena, bg, p)?;
                    }
                    None => {
                        let p = kernel::KernelParams {
                            n: n as u32,
                            dim: geom.dim as u32,
                            rank: geom.rank as u32,
                            row0: b.row0 as u32,
                            rows: b.rows as u32,
                            write_distance: u32::from(eps.is_none()),
                            inv_eps,
                            half,
                        };
                        kernel::encode(&ctx, pass, arena, bg, p)?;
                    }
                }
            }
            Ok(())
        })?;
        ctx.queue.submit(Some(enc.finish()));
        ctx.wait()?;
        self.blocks = blocks;
        self.vec_in = Some(vec_in);
        self.vec_out = Some(vec_out);
        self.mm_in = Some(mm_in);
        self.mm_out = Some(mm_out);
        self.n = n;
        self.precision = precision;
        self.scale = vec![1.0; n];
        self.method.1 = method;
        Ok(())
    }

    fn precision(&self) -> Precision {
        self.precision
    }

    fn set_kernel_method(&mut self, method: KernelMethod) {
        self.method.0 = method;
    }

    fn kernel_method(&self) -> KernelMethod {
        self.method.1
    }

    fn build_matrix_free(&mut self, geom: &GeometryF32, eps: f64) -> Result<()> {
        let ctx = self.ctx.clone();
        let n = geom.n;
        if n > u32::MAX as usize / 16 {
            return Err(Error::TooLarge {
                n,
                needed: n as u64,
                limit: u32::MAX as u64 / 16,
                what: "N (32-bit indices)",
            });
        }
        self.blocks.clear();
        self.krylov = None;
        self.free = None;
        (self.vec_in, self.vec_out, self.mm_in, self.mm_out) = (None, None, None, None);
        self.bg_matvec.clear();
        self.bg_matmat.clear();
        self.bg_normalise.clear();
        self.n = 0;
        let [obs, factors, tangents, normal_w] = upload_geometry(&ctx, geom)?;
        let x = GpuBuffer::<f32>::zeroed(&ctx, "matrix-free x", n * matmat::WIDTH)?;
        let y = GpuBuffer::<f32>::zeroed(&ctx, "matrix-free y", n * matmat::WIDTH)?;
        let method = self.method.0.resolve(geom.dim);
        let (params, bind_group, held) = if method == KernelMethod::Gemm {
            let (cols, selfs, nmat, normal) = upload_gemm_operands(&ctx, geom)?;
            let bind_group = bind(
                &ctx,
                Shader::KernelGemmMatmat,
                &self.arena,
                &[obs.binding(), cols.binding(), selfs.binding(), normal_w.binding(), x.binding(), y.binding()],
            );
            let params = FreeParams::Gemm(kernel_gemm_matmat::KernelGemmMatmatParams {
                n: n as u32,
                dim: geom.dim as u32,
                rank: geom.rank as u32,
                col0: 0,
                cols: 0,
                flags: u32::from(normal) << 2,
                inv_eps: (1.0 / eps) as f32,
                nmat: nmat as u32,
            });
            (params, bind_group, vec![obs, cols, selfs, normal_w])
        } else {
            let bind_group = bind(
                &ctx,
                Shader::KernelMatmat,
                &self.arena,
                &[obs.binding(), factors.binding(), tangents.binding(), normal_w.binding(), x.binding(), y.binding()],
            );
            let params = FreeParams::Pairwise(kernel_matmat::KernelMatmatParams {
                n: n as u32,
                dim: geom.dim as u32,
                rank: geom.rank as u32,
                col0: 0,
                cols: 0,
                first: 1,
                inv_eps: (1.0 / eps) as f32,
                _pad: 0,
            });
            (params, bind_group, vec![obs, factors, tangents, normal_w])
        };
        self.free = Some(GpuFree { params, x, y, bind_group, _geometry: held });
        self.method.1 = method;
        self.precision = Precision::F32;
        self.scale = vec![1.0; n];
        self.n = n;
        ctx.check()
    }

    fn is_matrix_free(&self) -> bool {
        self.free.is_some()
    }

    fn memory_budget(&self) -> Option<u64> {
        // A software or integrated adapter allocates from host memory; a discrete one does not say.
        match self.ctx.info.device_type {
            wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu => crate::backend::host_memory_budget(),
            _ => None,
        }
    }

    fn recomputes_cheaply(&self) -> bool {
        !self.ctx.is_software()
    }

    fn max_block_bytes(&self) -> u64 {
        self.ctx.limits.max_storage_buffer_binding_size.min(self.ctx.limits.max_buffer_size)
    }

    fn read_rows(&mut self, row0: usize, rows: usize) -> Result<Vec<f32>> {
        let n = self.n;
        if row0 + rows > n {
            return Err(Error::Shape(format!("rows {row0}..{} outside N = {n}", row0 + rows)));
        }
        if self.free.is_some() {
            return Err(no_rows_stored());
        }
        let words = row_words(n, self.precision);
        let mut out = Vec::with_capacity(rows * n);
        for b in &self.blocks {
            let lo = row0.max(b.row0);
            let hi = (row0 + rows).min(b.row0 + b.rows);
            if lo >= hi {
                continue;
            }
            let enc = self.encoder();
            let raw: Vec<u32> =
                self.reader.finish(&self.ctx, enc, &b.buf.buffer, (lo - b.row0) * words, (hi - lo) * words)?;
            for (r, row) in raw.chunks_exact(words).enumerate() {
                match self.precision {
                    Precision::F32 => out.extend(row.iter().map(|&w| f32::from_bits(w))),
                    Precision::F16 => {
                        let si = self.scale[lo + r];
                        out.extend((0..n).map(|j| {
                            let h = (row[j / 2] >> (16 * (j % 2))) as u16;
                            si * half::f16::from_bits(h).to_f32() * self.scale[j]
                        }))
                    }
                }
            }
        }
        Ok(out)
    }

    fn matvec(&mut self, x: &[f32]) -> Result<Vec<f32>> {
        if self.free.is_some() {
            return self.matmat(x, 1);
        }
        let ctx = self.ctx.clone();
        let n = self.n;
        let (vin, vout) = match (&self.vec_in, &self.vec_out) {
            (Some(a), Some(b)) if x.len() == n => (a, b),
            _ => return Err(Error::Shape(format!("matvec: vector of length {} for N = {n}", x.len()))),
        };
        vin.write(&ctx, 0, &self.scaled(x));
        let half = self.half_flag();
        let enc = one_pass(&ctx, &mut self.arena, "matvec", |pass, arena| {
            for (b, bg) in self.blocks.iter().zip(&self.bg_matvec) {
                let p = matvec::MatvecParams {
                    n: n as u32,
                    rows: b.rows as u32,
                    row0: b.row0 as u32,
                    x_off: 0,
                    y_off: 0,
                    half,
                    _pad: [0; 2],
                };
                matvec::encode(&ctx, pass, arena, bg, p)?;
            }
            Ok(())
        })?;
        let y: Vec<f32> = self.reader.finish(&ctx, enc, &vout.buffer, 0, n)?;
        Ok(self.scale_result(y))
    }

    fn matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>> {
        let ctx = self.ctx.clone();
        let n = self.n;
        if let Some(f) = &self.free {
            if b == 0 || x.len() != n * b {
                return Err(Error::Shape(format!("matmat: block of {} values for N = {n}, b = {b}", x.len())));
            }
            let xs = self.scaled(x);
            // `with_max_block_rows` also narrows the column chunks, so tests exercise the split.
            let chunk = self.max_block_rows.map_or(kernel_matmat::COLS_PER_DISPATCH, |r| {
                (r.div_ceil(64) * 64).min(kernel_matmat::COLS_PER_DISPATCH)
            });
            let y = blocked_passes(
                &ctx,
                &mut self.arena,
                &mut self.reader,
                (&xs, n, b),
                (&f.x, &f.y),
                "kernel_matmat",
                |pass, arena| {
                    for (c, col0) in (0..n).step_by(chunk).enumerate() {
                        let cols = chunk.min(n - col0);
                        let (col0, cols, first) = (col0 as u32, cols as u32, u32::from(c == 0));
                        match f.params {
                            FreeParams::Pairwise(p) => {
                                let p = kernel_matmat::KernelMatmatParams { col0, cols, first, ..p };
                                kernel_matmat::encode(&ctx, pass, arena, &f.bind_group, p)?;
                            }
                            FreeParams::Gemm(p) => {
                                let p = kernel_gemm_matmat::KernelGemmMatmatParams {
                                    col0,
                                    cols,
                                    flags: (p.flags & !1) | first,
                                    ..p
                                };
                                kernel_gemm_matmat::encode(&ctx, pass, arena, &f.bind_group, p)?;
                            }
                        }
                    }
                    Ok(())
                },
            )?;
            return Ok(self.scale_result(y));
        }
        let (xbuf, ybuf) = match (&self.mm_in, &self.mm_out) {
            (Some(a), Some(o)) if b > 0 && x.len() == n * b => (a, o),
            _ => return Err(Error::Shape(format!("matmat: block of {} values for N = {n}, b = {b}", x.len()))),
        };
        let (blocks, bgs, half) = (&self.blocks, &self.bg_matmat, self.half_flag());
        let xs = self.scaled(x);
        let y = blocked_passes(
            &ctx,
            &mut self.arena,
            &mut self.reader,
            (&xs, n, b),
            (xbuf, ybuf),
            "matmat",
            |pass, arena| {
                for (blk, bg) in blocks.iter().zip(bgs) {
                    let p = matmat::MatmatParams {
                        n: n as u32,
                        rows: blk.rows as u32,
                        row0: blk.row0 as u32,
                        half,
                        _pad: [0; 4],
                    };
                    matmat::encode(&ctx, pass, arena, bg, p)?;
                }
                Ok(())
            },
        )?;
        Ok(self.scale_result(y))
    }

    fn load_csr(&mut self, csr: &crate::backend::Csr) -> Result<()> {
        let ctx = self.ctx.clone();
        self.csr = None;
        let n = csr.n;
        let what = |e: Error| match e {
            Error::Gpu(m) => Error::Gpu(format!("sparse kernel (N = {n}, nnz {}): {m}", csr.nnz())),
            other => other,
        };
        let indptr = GpuBuffer::from_slice(&ctx, "csr indptr", &csr.indptr).map_err(what)?;
        let indices = GpuBuffer::from_slice(&ctx, "csr indices", &csr.indices).map_err(what)?;
        let values = GpuBuffer::from_slice(&ctx, "csr values", &csr.values).map_err(what)?;
        let x = GpuBuffer::<f32>::zeroed(&ctx, "csr x", n * matmat::WIDTH).map_err(what)?;
        let y = GpuBuffer::<f32>::zeroed(&ctx, "csr y", n * matmat::WIDTH).map_err(what)?;
        let bind_group = bind(
            &ctx,
            Shader::CsrMatmat,
            &self.arena,
            &[indptr.binding(), indices.binding(), values.binding(), x.binding(), y.binding()],
        );
        self.csr = Some(GpuCsr { n, x, y, bind_group, _arrays: (indptr, indices, values) });
        ctx.check()
    }

    fn csr_matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>> {
        let ctx = self.ctx.clone();
        let c = self.csr.as_ref().ok_or_else(|| Error::Shape("csr_matmat before load_csr".into()))?;
        let n = c.n;
        if b == 0 || x.len() != n * b {
            return Err(Error::Shape(format!("csr_matmat: block of {} values for N = {n}, b = {b}", x.len())));
        }
        blocked_passes(&ctx, &mut self.arena, &mut self.reader, (x, n, b), (&c.x, &c.y), "csr_matmat", |pass, arena| {
            let p = csr_matmat::CsrParams { n: n as u32, _pad: [0; 7] };
            csr_matmat::encode(&ctx, pass, arena, &c.bind_group, p)
        })
    }

    fn normalise(&mut self, w: &[f32]) -> Result<()> {
        let ctx = self.ctx.clone();
        let n = self.n;
        if self.scales() && w.len() == n {
            // Kept as a scale: f16's normalised entries would lose its precision (see `Precision`),
            // and a matrix-free operator has no entries to scale.
            self.scale.iter_mut().zip(w).for_each(|(s, w)| *s *= w);
            return Ok(());
        }
        let vin = match &self.vec_in {
            Some(v) if w.len() == n => v,
            _ => return Err(Error::Shape(format!("normalise: vector of length {} for N = {n}", w.len()))),
        };
        vin.write(&ctx, 0, w);
        let enc = one_pass(&ctx, &mut self.arena, "normalise", |pass, arena| {
            for (b, bg) in self.blocks.iter().zip(&self.bg_normalise) {
                let p =
                    normalise::NormaliseParams { n: n as u32, rows: b.rows as u32, row0: b.row0 as u32, _pad: [0; 5] };
                normalise::encode(&ctx, pass, arena, bg, p)?;
            }
            Ok(())
        })?;
        ctx.queue.submit(Some(enc.finish()));
        ctx.wait()
    }

    fn krylov_begin(&mut self, m: usize, start: &[f32]) -> Result<()> {
        self.start_basis(m, start)
    }

    fn krylov_expand(&mut self, from: usize, to: usize) -> Result<Vec<f32>> {
        self.expand_basis(from, to)
    }

    fn krylov_restart(&mut self, y: &[f32], kk: usize) -> Result<()> {
        self.restart_basis(y, kk)
    }

    fn krylov_inject(&mut self, kk: usize, v: &[f32]) -> Result<()> {
        self.inject_into_basis(kk, v)
    }

    fn krylov_vectors(&mut self, y: &[f32], kk: usize) -> Result<Vec<f32>> {
        self.ritz_vectors(y, kk)
    }
}
