//! The backends behind one trait. A [`Device`] holds the N×N kernel matrix (GPU buffers in row blocks,
//! or CPU rows) and a Krylov basis, and offers the handful of operations the host-side drivers in
//! [`kernel`](crate::pipeline::kernel) and [`lanczos`](crate::solve::lanczos) compose. Both implementations use f32 storage
//! for the matrix and the basis, so the CPU path is the GPU path's twin and a fair baseline.
//!
//! Krylov protocol (see [`lanczos`](crate::solve::lanczos)): the basis has m+1 columns of length N; the
//! coefficient matrix H is (m+1)×m, column-major, H[c + j(m+1)] = ⟨v_c, S v_j⟩ after orthogonalisation
//! and H[j+1 + j(m+1)] = β_j. `krylov_expand` runs steps from..to entirely on the device and returns H
//! once (one read-back per restart cycle).

use crate::error::{Error, Result};

/// The local geometry in the f32 layout the devices consume (same indexing as
/// [`LocalGeometry`](crate::pipeline::covariance::LocalGeometry)).
#[derive(Clone, Debug)]
pub struct GeometryF32 {
    /// N.
    pub n: usize,
    /// D.
    pub dim: usize,
    /// r.
    pub rank: usize,
    /// N×D centred observations.
    pub obs: Vec<f32>,
    /// N×D×r factors.
    pub factors: Vec<f32>,
    /// N×D×r tangent bases.
    pub tangents: Vec<f32>,
    /// N normal weights.
    pub normal_weights: Vec<f32>,
}

/// A symmetric sparse matrix in compressed-row form (f32 values, u32 column indices).
#[derive(Clone, Debug, Default)]
pub struct Csr {
    /// Order N.
    pub n: usize,
    /// Row starts (N + 1 entries).
    pub indptr: Vec<u32>,
    /// Column of each stored entry, ascending within a row.
    pub indices: Vec<u32>,
    /// Value of each stored entry.
    pub values: Vec<f32>,
}

/// Which backend to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum BackendChoice {
    /// GPU when an adapter is found, else CPU (said in the summary).
    Auto,
    /// GPU or an error.
    Gpu,
    /// CPU only.
    Cpu,
}

impl BackendChoice {
    /// `"auto"`, `"gpu"` or `"cpu"`: the `--backend` spelling.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Gpu => "gpu",
            BackendChoice::Cpu => "cpu",
        }
    }
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

/// How the dense kernel matrix is stored. Arithmetic is f32 either way; f16 halves the memory and the
/// bytes each pass over the matrix reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Precision {
    /// 4 bytes per entry; the stored matrix is normalised in place.
    #[default]
    F32,
    /// 2 bytes per entry (IEEE binary16, two per 32-bit word on the GPU). The device stores the
    /// *unnormalised* kernel K rounded to f16 and keeps the normalisation as a diagonal scale s, so that
    /// the operator is diag(s)·K₁₆·diag(s): K ∈ (0, 1] keeps f16's relative precision, where the
    /// normalised entries (about K/M for M neighbours) would fall into f16's subnormal range. The
    /// degrees are computed from K₁₆ itself, so the rounded operator is still exactly a normalised
    /// kernel (top eigenvalue 1).
    F16,
}

impl Precision {
    /// Bytes per stored entry.
    pub fn bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }
    /// `"f32"` or `"f16"`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            _ => Err(Error::param("precision", format!("expected f32 or f16, got `{s}`"))),
        }
    }
}

/// How the O(N²) kernel entries are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum KernelMethod {
    /// The products wherever they pay, which is everywhere measured so far (see [`KernelMethod::resolve`]).
    #[default]
    Auto,
    /// Tiled matrix products: U_iᵀo_j for a tile of pairs as one GEMM, exp and storage fused after.
    Gemm,
    /// Each pair's D-dimensional projections computed on their own (the original kernel).
    Pairwise,
}

impl KernelMethod {
    /// `Gemm` or `Pairwise` for observations of dimension `dim`. `Auto` is `Gemm` at every D: on the
    /// CPU path the products won at every D measured (`bench embed --kernel gemm,pairwise`, 2 cores:
    /// 2.5–4.4× at D = 2–4, 6.6× at 16, 27× at 256; BENCHMARKS.md), and on lavapipe 4.5× at D = 256.
    /// A real GPU's small-D crossover is unmeasured (`benches/gpu/run.sh` measures it); `dim` is kept
    /// for when one is.
    pub fn resolve(self, dim: usize) -> KernelMethod {
        let _ = dim;
        match self {
            KernelMethod::Auto => KernelMethod::Gemm,
            m => m,
        }
    }
    /// `"auto"`, `"gemm"` or `"pairwise"`.
    pub fn name(self) -> &'static str {
        match self {
            KernelMethod::Auto => "auto",
            KernelMethod::Gemm => "gemm",
            KernelMethod::Pairwise => "pairwise",
        }
    }
}

impl std::str::FromStr for KernelMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(KernelMethod::Auto),
            "gemm" => Ok(KernelMethod::Gemm),
            "pairwise" => Ok(KernelMethod::Pairwise),
            _ => Err(Error::param("kernel", format!("expected auto, gemm or pairwise, got `{s}`"))),
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
    /// Computes the N×N matrix in f32: exp(−d²/ε) when `eps` is `Some`, the raw d² when `None`
    /// (diagnostics).
    fn build_kernel(&mut self, geom: &GeometryF32, eps: Option<f64>) -> Result<()> {
        self.build_kernel_as(geom, eps, Precision::F32)
    }
    /// [`Device::build_kernel`] with a choice of storage. [`Precision::F16`] needs `eps` (it stores
    /// kernel values in (0, 1], not distances).
    fn build_kernel_as(&mut self, geom: &GeometryF32, eps: Option<f64>, precision: Precision) -> Result<()>;
    /// The storage of the current matrix.
    fn precision(&self) -> Precision;
    /// Chooses how later builds compute the kernel entries (default [`KernelMethod::Auto`]).
    fn set_kernel_method(&mut self, method: KernelMethod);
    /// The method the last build used (resolved: `Gemm` or `Pairwise`; `Auto` before any build).
    fn kernel_method(&self) -> KernelMethod;
    /// Keeps only the geometry: the products recompute K = exp(−d²/ε) tile by tile, for N whose
    /// matrix does not fit (one kernel build's arithmetic per pass, no N×N memory). `normalise` then
    /// keeps a diagonal scale as for f16; `read_rows` and the single-vector Krylov calls are refused.
    fn build_matrix_free(&mut self, geom: &GeometryF32, eps: f64) -> Result<()>;
    /// Whether the current operator is matrix-free.
    fn is_matrix_free(&self) -> bool;
    /// Bytes this device can give a dense matrix, when it knows (host memory for the CPU and for
    /// adapters that live in host memory; `None` for a discrete GPU, whose free memory wgpu does not
    /// report).
    fn memory_budget(&self) -> Option<u64> {
        None
    }
    /// Whether recomputing the kernel on every pass (the matrix-free path) is a sensible default here:
    /// a hardware GPU, whose arithmetic makes one kernel build per pass cheap. Not a software adapter
    /// or the CPU, where a pass would cost a whole kernel build on a few cores.
    fn recomputes_cheaply(&self) -> bool {
        false
    }
    /// Largest single buffer (one block of matrix rows) the device accepts, in bytes.
    fn max_block_bytes(&self) -> u64 {
        u64::MAX
    }
    /// Reads rows `row0..row0+rows` of the stored matrix as f32, normalisation applied (tests and
    /// exports; O(rows·N) transfer).
    fn read_rows(&mut self, row0: usize, rows: usize) -> Result<Vec<f32>>;
    /// y = A x with the stored matrix.
    fn matvec(&mut self, x: &[f32]) -> Result<Vec<f32>>;
    /// Y = A X for a column-major N×b block X, reading the stored matrix once for all b vectors (the
    /// block eigensolver's operator); Y is column-major N×b.
    fn matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>>;
    /// Stores the sparse kernel (CSR) for [`Device::csr_matmat`]; independent of the dense matrix.
    fn load_csr(&mut self, csr: &crate::backend::Csr) -> Result<()>;
    /// Y = S X with the stored sparse kernel, X and Y column-major N×b.
    fn csr_matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>>;
    /// A_ij ← w_i A_ij w_j: in place for f32 storage, as a diagonal scale for f16 (see [`Precision`]).
    fn normalise(&mut self, w: &[f32]) -> Result<()>;
    /// Allocates a basis of m+1 columns and sets column 0 to `start / ‖start‖`. The single-vector
    /// Krylov protocol needs f32 storage (its device-side matvec has no diagonal scale).
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

/// diag(scale)·X for a column-major block X of columns of length scale.len(): the diagonal scale
/// that f16 and matrix-free storage apply around each product (see [`Precision::F16`]).
pub fn scale_columns(x: &[f32], scale: &[f32]) -> Vec<f32> {
    x.iter().zip(scale.iter().cycle()).map(|(a, s)| a * s).collect()
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

/// 70 % of the host's available memory (`MemAvailable` in /proc/meminfo), or `None` where that file
/// does not exist: the share a dense matrix may take and leave room for the rest of the process.
pub fn host_memory_budget() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024 / 10 * 7)
}

/// The error for a single-vector Krylov call on f16 or matrix-free storage.
pub fn krylov_needs_f32() -> Error {
    Error::param(
        "solver",
        "the single-vector Lanczos needs a stored f32 matrix; use the block solver or --storage dense --precision f32",
    )
}

/// The error for reading rows of a matrix-free operator.
pub fn no_rows_stored() -> Error {
    Error::Shape("the matrix-free operator stores no rows to read".into())
}

/// Checks the arguments of [`Device::build_kernel_as`].
pub fn check_precision(eps: Option<f64>, precision: Precision) -> Result<()> {
    if precision == Precision::F16 && eps.is_none() {
        return Err(Error::param("precision", "f16 storage holds kernel values; distances (no ε) need f32"));
    }
    Ok(())
}
