//! The backends behind one trait. A [`Device`] holds the N×N kernel matrix (GPU buffers in row blocks,
//! or CPU rows) and a Krylov basis, and offers the handful of operations the host-side drivers in
//! [`kernel`](crate::kernel) and [`lanczos`](crate::lanczos) compose. Both implementations use f32 storage
//! for the matrix and the basis, so the CPU path is the GPU path's twin and a fair baseline.
//!
//! Krylov protocol (see [`lanczos`](crate::lanczos)): the basis has m+1 columns of length N; the
//! coefficient matrix H is (m+1)×m, column-major, H[c + j(m+1)] = ⟨v_c, S v_j⟩ after orthogonalisation
//! and H[j+1 + j(m+1)] = β_j. `krylov_expand` runs steps from..to entirely on the device and returns H
//! once (one read-back per restart cycle).

use crate::error::{Error, Result};
use crate::kernel::GeometryF32;

/// Which backend to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// GPU when an adapter is found, else CPU (said in the summary).
    Auto,
    /// GPU or an error.
    Gpu,
    /// CPU only.
    Cpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "gpu" => Ok(BackendChoice::Gpu),
            "cpu" => Ok(BackendChoice::Cpu),
            _ => Err(Error::param("backend", format!("expected auto, gpu or cpu, got `{s}`"))),
        }
    }
}

/// A place that stores the kernel matrix and runs the O(N²) stages.
pub trait Device {
    /// `"gpu"` or `"cpu"`.
    fn kind(&self) -> &'static str;
    /// Human-readable adapter / thread description.
    fn adapter(&self) -> String;
    /// N of the current matrix (0 before [`Device::build_kernel`]).
    fn n(&self) -> usize;
    /// Computes the N×N matrix: exp(−d²/ε) when `eps` is `Some`, the raw d² when `None` (diagnostics).
    fn build_kernel(&mut self, geom: &GeometryF32, eps: Option<f64>) -> Result<()>;
    /// Reads rows `row0..row0+rows` of the stored matrix (tests and exports; O(rows·N) transfer).
    fn read_rows(&mut self, row0: usize, rows: usize) -> Result<Vec<f32>>;
    /// y = A x with the stored matrix.
    fn matvec(&mut self, x: &[f32]) -> Result<Vec<f32>>;
    /// Y = A X for a column-major N×b block X, reading the stored matrix once for all b vectors (the
    /// block eigensolver's operator); Y is column-major N×b.
    fn matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>>;
    /// Stores the sparse kernel (CSR) for [`Device::csr_matmat`]; independent of the dense matrix.
    fn load_csr(&mut self, csr: &crate::sparse::Csr) -> Result<()>;
    /// Y = S X with the stored sparse kernel, X and Y column-major N×b.
    fn csr_matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>>;
    /// In place A_ij ← w_i A_ij w_j.
    fn normalise(&mut self, w: &[f32]) -> Result<()>;
    /// Allocates a basis of m+1 columns and sets column 0 to `start / ‖start‖`.
    fn krylov_begin(&mut self, m: usize, start: &[f32]) -> Result<()>;
    /// Runs Lanczos steps j = from..to (CGS2, see module doc) and returns H ((m+1)×m, column-major).
    fn krylov_expand(&mut self, from: usize, to: usize) -> Result<Vec<f32>>;
    /// Thick restart: V[:, :k] ← V[:, :m] Y (Y is m×k column-major), V[:, k] ← V[:, m].
    fn krylov_restart(&mut self, y: &[f32], k: usize) -> Result<()>;
    /// Replaces column k with `v` made orthonormal to columns 0..k (CGS2). Used after convergence to
    /// inject a fresh direction: a single-vector Krylov space holds one vector per distinct eigenvalue,
    /// so exactly repeated eigenvalues are only found this way.
    fn krylov_inject(&mut self, k: usize, v: &[f32]) -> Result<()>;
    /// The Ritz vectors V[:, :m] Y (Y m×k column-major), returned column-major (k columns of N).
    fn krylov_vectors(&mut self, y: &[f32], k: usize) -> Result<Vec<f32>>;
}

/// The block products' layout change: columns `c0..c0+w` of the column-major n×b block `x`, written
/// interleaved into `out` (n rows of `width` lanes: row j holds entry j of each vector, the lanes past
/// `w` zero), so that one matrix entry multiplies one contiguous run of lanes.
pub fn interleave(x: &[f32], n: usize, c0: usize, w: usize, width: usize, out: &mut [f32]) {
    out[..n * width].iter_mut().for_each(|v| *v = 0.0);
    for c in 0..w {
        for (j, &v) in x[(c0 + c) * n..(c0 + c + 1) * n].iter().enumerate() {
            out[j * width + c] = v;
        }
    }
}

/// The inverse of [`interleave`]: lanes `0..w` of the n×`width` interleaved `yi` into columns
/// `c0..c0+w` of the column-major n×b block `y`.
pub fn deinterleave(yi: &[f32], n: usize, width: usize, c0: usize, w: usize, y: &mut [f32]) {
    for c in 0..w {
        for (j, out) in y[(c0 + c) * n..(c0 + c + 1) * n].iter_mut().enumerate() {
            *out = yi[j * width + c];
        }
    }
}

/// Opens a device for `choice`. `Auto` falls back to the CPU when no adapter is found and says why in
/// the returned note.
pub fn open(choice: BackendChoice) -> Result<(Box<dyn Device>, Option<String>)> {
    match choice {
        BackendChoice::Cpu => Ok((Box::new(crate::cpu::CpuDevice::new()), None)),
        BackendChoice::Gpu => Ok((Box::new(crate::gpu::GpuDevice::new(crate::gpu::GpuContext::shared()?)), None)),
        BackendChoice::Auto => match crate::gpu::GpuContext::shared() {
            Ok(ctx) => Ok((Box::new(crate::gpu::GpuDevice::new(ctx)), None)),
            Err(e) => Ok((Box::new(crate::cpu::CpuDevice::new()), Some(format!("fell back to CPU: {e}")))),
        },
    }
}
