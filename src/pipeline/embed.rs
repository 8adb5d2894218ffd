//! Steps 2–5 for one network: local geometry → ε → kernel → normalisation → eigensolve → diffusion
//! coordinates ψ = D^{-1/2} v with deterministic signs. Backend-neutral: the O(N²) work goes through
//! the [`Device`] it is given; timings per stage are recorded (each stage ends synchronised, so the
//! times are real device times).

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::Array2;

use crate::backend::{Device, KernelMethod, Precision};
use crate::data::Observations;
use crate::error::{Error, Result};
use crate::observe::Observe;
use crate::pipeline::covariance::{CovarianceParams, local_geometry};
use crate::pipeline::kernel::{EpsilonChoice, EpsilonRule, GeometryF32, check_alpha, choose_epsilon, normalise};
use crate::pipeline::sparse::{SparseParams, knn_kernel, normalise_csr};
use crate::solve::block::{BlockParams, Solver, block_lanczos, eigensolve};
use crate::solve::dense::fix_sign;
use crate::solve::lanczos::{LanczosInfo, LanczosParams};
use crate::solve::shift_invert::shift_invert;

/// Parameters of an embedding.
#[derive(Clone, Debug)]
pub struct EmbedParams {
    /// Non-trivial coordinates wanted (k; k+1 eigenpairs are computed).
    pub k: usize,
    /// ε rule.
    pub eps: EpsilonRule,
    /// α of the α-normalisation (1 = Laplace–Beltrami).
    pub alpha: f64,
    /// Local-geometry parameters (rank, rcond, gap ratio).
    pub covariance: CovarianceParams,
    /// Relative residual tolerance of the eigen-solve.
    pub tol: f64,
    /// Matvec budget (`None`: the solver's default).
    pub max_matvecs: Option<usize>,
    /// Eigensolver (block Lanczos by default; `Lanczos` is the single-vector reference).
    pub solver: Solver,
    /// Kernel storage: dense N×N on the device, or the k-NN sparse kernel; `Auto` picks by N and the
    /// device (see [`plan_storage`]).
    pub storage: Storage,
    /// Precision of dense storage; `None` lets [`plan_storage`] choose (f32 where it fits, else f16).
    pub precision: Option<Precision>,
    /// How the dense and matrix-free kernels compute their entries (matrix products or pair by pair).
    pub kernel: KernelMethod,
    /// Parameters of the sparse kernel (used when the storage is sparse).
    pub sparse: SparseParams,
    /// How the sparse kernel is solved: shift-invert (default) or plain Krylov on the device.
    pub sparse_solve: SparseSolve,
    /// Seed for the ε subsample and the start vector.
    pub seed: u64,
    /// Report each stage (and each Lanczos restart) to [`EmbedParams::observe`] as it completes.
    pub verbose: bool,
    /// Where details (when `verbose`) and warnings go; none by default.
    pub observe: Observe,
}

impl Default for EmbedParams {
    fn default() -> Self {
        EmbedParams {
            k: 10,
            eps: EpsilonRule::Auto,
            alpha: 1.0,
            covariance: CovarianceParams::default(),
            tol: 1e-5,
            max_matvecs: None,
            solver: Solver::Block,
            storage: Storage::Auto,
            precision: None,
            kernel: KernelMethod::Auto,
            sparse_solve: SparseSolve::ShiftInvert,
            sparse: SparseParams::default(),
            seed: 0,
            verbose: false,
            observe: Observe::default(),
        }
    }
}

impl EmbedParams {
    /// Checks the values a caller can set by hand, in the ranges the command line enforces; errors
    /// name the command-line flag.
    pub fn validate(&self) -> Result<()> {
        if !(1..=1000).contains(&self.k) {
            return Err(Error::param("k", format!("must lie in 1..=1000, got {}", self.k)));
        }
        crate::pipeline::kernel::check_alpha(self.alpha)?;
        if !(self.tol > 0.0 && self.tol < 1.0) {
            return Err(Error::param("tol", format!("must lie strictly between 0 and 1, got {}", self.tol)));
        }
        let nu = self.covariance.normal_weight;
        if !(nu >= 0.0 && nu.is_finite()) {
            return Err(Error::param("normal-weight", format!("must be ≥ 0 and finite, got {nu}")));
        }
        if self.covariance.rank == Some(0) {
            return Err(Error::param("rank", "must be at least 1"));
        }
        if !(2..=4096).contains(&self.sparse.k) {
            return Err(Error::param("knn", format!("must lie in 2..=4096, got {}", self.sparse.k)));
        }
        if self.max_matvecs == Some(0) {
            return Err(Error::param("max-matvecs", "must be at least 1"));
        }
        Ok(())
    }
}

/// Largest dense matrix [`Storage::Auto`] builds: 4 GiB (f32 up to N = 32 768, f16 up to 46 340).
/// Above it the O(N²) time of the dense path stops being a sensible default and the k-NN kernel takes
/// over; the device's own budget ([`Device::memory_budget`]) can lower it.
pub const DENSE_LIMIT_BYTES: u64 = 4 << 30;

/// The sparse path warns when a point's k-th neighbour still has a kernel value above this.
pub const SPARSE_WARN_DROPPED: f64 = 1e-2;

/// How the kernel matrix is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Storage {
    /// Dense when the matrix fits (see [`plan_storage`]), else sparse.
    #[default]
    Auto,
    /// The dense N×N matrix on the device (f32 or f16).
    Dense,
    /// The k-NN sparse kernel ([`crate::pipeline::sparse`]): built on the host, its CSR products on the device.
    Sparse,
    /// No stored matrix: every product recomputes the kernel from the geometry
    /// ([`Device::build_matrix_free`]); exact like dense, one kernel build per pass.
    MatrixFree,
}

/// Largest N [`Storage::Auto`] sends to the matrix-free path (on a hardware GPU, past the dense
/// budget); above it the sparse kernel, whose cost grows with N·k rather than N².
pub const MATRIX_FREE_MAX_N: usize = 100_000;

/// The sparse path's eigen-solve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum SparseSolve {
    /// Block Lanczos on ((1 + μ)I − S)⁻¹ through a sparse Cholesky factor on the host
    /// ([`crate::solve::shift_invert`]): a few passes however crowded the top of the spectrum is.
    #[default]
    ShiftInvert,
    /// Block Lanczos on S itself, its CSR products on the device (`csr_matmat`): needs many passes
    /// when the top eigenvalues crowd against 1, as they do at large N.
    Krylov,
}

impl std::str::FromStr for SparseSolve {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "shift-invert" => Ok(SparseSolve::ShiftInvert),
            "krylov" => Ok(SparseSolve::Krylov),
            _ => Err(Error::param("sparse-solve", format!("expected shift-invert or krylov, got `{s}`"))),
        }
    }
}

/// What [`plan_storage`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoragePlan {
    /// Dense or sparse (never `Auto`).
    pub storage: Storage,
    /// Precision of dense storage (f32 for sparse, whose CSR values are f32).
    pub precision: Precision,
    /// The byte budget the decision used.
    pub budget: u64,
}

/// Resolves `Auto` storage and precision at N on a device whose dense budget is `budget` bytes (the
/// smaller of [`DENSE_LIMIT_BYTES`] and the device's own [`Device::memory_budget`]) and whose largest
/// buffer is `max_block` bytes: dense f32 when 4N² fits, else dense f16 when 2N² fits (its eigenvalue
/// error vs float64 stays near 1e-7 in the tests and benches, under the 1e-4 that allows it), else
/// matrix-free when `recompute` (a hardware GPU, [`Device::recomputes_cheaply`]) and N ≤
/// [`MATRIX_FREE_MAX_N`], else the sparse k-NN kernel. An explicit precision is kept; an explicit
/// storage is kept, with f16 chosen for a forced dense matrix that only fits as f16.
pub fn plan_storage(
    storage: Storage,
    precision: Option<Precision>,
    n: usize,
    (budget, max_block, recompute): (u64, u64, bool),
) -> StoragePlan {
    let bytes = |p: Precision| p.bytes() * (n as u64) * (n as u64);
    // One row must fit in one buffer for the dense path at all.
    let fits = |p: Precision| bytes(p) <= budget && p.bytes() * n as u64 <= max_block;
    let dense_precision = match precision {
        Some(p) => p,
        None if fits(Precision::F32) => Precision::F32,
        None if fits(Precision::F16) => Precision::F16,
        None => Precision::F32,
    };
    let storage = match storage {
        Storage::Auto if fits(dense_precision) => Storage::Dense,
        Storage::Auto if recompute && n <= MATRIX_FREE_MAX_N && precision != Some(Precision::F16) => {
            Storage::MatrixFree
        }
        Storage::Auto => Storage::Sparse,
        s => s,
    };
    let precision = if storage == Storage::Dense { dense_precision } else { Precision::F32 };
    StoragePlan { storage, precision, budget }
}

impl std::str::FromStr for Storage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Storage::Auto),
            "dense" => Ok(Storage::Dense),
            "sparse" => Ok(Storage::Sparse),
            "matrix-free" => Ok(Storage::MatrixFree),
            _ => Err(Error::param("storage", format!("expected auto, dense, sparse or matrix-free, got `{s}`"))),
        }
    }
}

/// A diffusion-map embedding of one network's observations.
#[derive(Clone, Debug)]
pub struct Embedding {
    /// k+1 eigenvalues, descending; λ₀ ≈ 1.
    pub eigenvalues: Vec<f64>,
    /// N×(k+1) diffusion coordinates ψ (column 0 trivial).
    pub coords: Array2<f64>,
    /// The ε used.
    pub eps: EpsilonChoice,
    /// The common rank r.
    pub rank: usize,
    /// Per-point rank estimates.
    pub rank_histogram: BTreeMap<usize, usize>,
    /// Eigen-solve statistics.
    pub info: LanczosInfo,
    /// Seconds per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
    /// `"gpu"` or `"cpu"`.
    pub backend: &'static str,
    /// Which storage ran and its size, e.g. `dense N×N f32 (1.60 GB)` or the sparse kernel's k, nnz and
    /// largest dropped kernel value.
    pub storage: String,
    /// Adapter description.
    pub adapter: String,
    /// How the kernel entries were computed (`"gemm"` or `"pairwise"`; `"knn"` for the sparse kernel).
    pub kernel: &'static str,
    /// What the user should know about this embedding (e.g. a sparse kernel that cuts its support);
    /// each was also sent to [`EmbedParams::observe`].
    pub warnings: Vec<String>,
}

/// Computes the embedding of `data` on `dev`.
pub fn embed(data: &Observations, params: &EmbedParams, dev: &mut dyn Device) -> Result<Embedding> {
    let n = data.n();
    // The block solver's own minimum (a basis of k+1 pairs plus one vector, in N − 1 dimensions).
    if n < params.k.saturating_add(3) {
        return Err(Error::Shape(format!(
            "need N ≥ k+3 = {} points for k = {} coordinates, got N = {n}",
            params.k.saturating_add(3),
            params.k
        )));
    }
    if params.k == 0 {
        return Err(Error::param("k", "must be at least 1"));
    }
    check_alpha(params.alpha)?;
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let detail = params.observe.when(params.verbose);
    let mut warnings = Vec::new();
    // Each stage ends with a chance for the caller to stop the work (see `Observer::cancelled`).
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, f64)>| -> Result<()> {
        let secs = t.elapsed().as_secs_f64();
        detail.detail(|| format!("{name:<12} {secs:8.3} s"));
        timings.push((name, secs));
        t = Instant::now();
        detail.check()
    };
    let geom = local_geometry(data, &params.covariance)?;
    lap("covariance", &mut timings)?;
    let mut eps = choose_epsilon(&geom, params.eps, params.seed)?;
    lap("epsilon", &mut timings)?;
    let budget = dev.memory_budget().map_or(DENSE_LIMIT_BYTES, |b| b.min(DENSE_LIMIT_BYTES));
    // The single-vector solver keeps its basis on the device without f16's diagonal scale.
    let precision = params.precision.or((params.solver == Solver::Lanczos).then_some(Precision::F32));
    let plan = plan_storage(params.storage, precision, n, (budget, dev.max_block_bytes(), dev.recomputes_cheaply()));
    let storage = plan.storage;
    if storage != Storage::Dense && params.precision == Some(Precision::F16) {
        return Err(Error::param(
            "precision",
            "f16 applies to dense storage; the sparse and matrix-free kernels are f32",
        ));
    }
    if params.solver == Solver::Lanczos && (storage != Storage::Dense || plan.precision == Precision::F16) {
        return Err(Error::param(
            "solver",
            "the single-vector Lanczos needs dense f32 storage; use the block solver (or --storage dense --precision f32)",
        ));
    }
    let lp = LanczosParams {
        nev: params.k + 1,
        tol: params.tol,
        basis: None,
        max_matvecs: params.max_matvecs,
        seed: params.seed,
        observe: detail.clone(),
    };
    dev.set_kernel_method(params.kernel);
    let (norm, eig, storage) = if storage == Storage::Dense {
        dev.build_kernel_as(&GeometryF32::from(&geom), Some(eps.eps), plan.precision)?;
        lap("kernel", &mut timings)?;
        let norm = normalise(dev, params.alpha)?;
        lap("normalise", &mut timings)?;
        let eig = eigensolve(dev, params.solver, &lp)?;
        lap("eigensolve", &mut timings)?;
        let p = plan.precision;
        let bytes = (p.bytes() as f64) * (n as f64).powi(2) / 1e9;
        (norm, eig, format!("dense N×N {} ({bytes:.2} GB), {} kernel", p.name(), dev.kernel_method().name()))
    } else if storage == Storage::MatrixFree {
        dev.build_matrix_free(&GeometryF32::from(&geom), eps.eps)?;
        lap("kernel", &mut timings)?;
        let norm = normalise(dev, params.alpha)?;
        lap("normalise", &mut timings)?;
        let eig = eigensolve(dev, params.solver, &lp)?;
        lap("eigensolve", &mut timings)?;
        let what = format!(
            "matrix-free on the {}, {} kernel (recomputed in every pass, no N×N storage)",
            dev.kind(),
            dev.kernel_method().name()
        );
        (norm, eig, what)
    } else {
        let given = (params.eps != EpsilonRule::Auto).then_some(eps.eps);
        let (mut csr, st) = knn_kernel(&geom, given, &params.sparse)?;
        if given.is_none() {
            eps = EpsilonChoice { eps: st.eps, rule: "knn", slope: None, dimension: None, plateau: None };
        }
        lap("kernel", &mut timings)?;
        let norm = normalise_csr(&mut csr, params.alpha)?;
        lap("normalise", &mut timings)?;
        let bp = BlockParams::from_lanczos(&lp);
        let eig = match params.sparse_solve {
            SparseSolve::ShiftInvert => {
                // S's top eigenvector D^{1/2}·1, deflated by the transformation.
                let trivial: Vec<f64> = norm.inv_sqrt_degree.iter().map(|d| 1.0 / d).collect();
                shift_invert(&csr, Some(&trivial), &bp)?
            }
            SparseSolve::Krylov => {
                dev.load_csr(&csr)?;
                block_lanczos(n, &mut |x, b| dev.csr_matmat(x, b), &bp)?
            }
        };
        lap("eigensolve", &mut timings)?;
        if st.max_dropped > SPARSE_WARN_DROPPED {
            let w = format!(
                "the sparse kernel drops values up to {:.1e} at the k-th neighbour (k = {}): \
                 k does not cover the kernel's support at ε = {:.3e}; raise --knn or lower ε",
                st.max_dropped, st.k, eps.eps
            );
            params.observe.warning(&w);
            warnings.push(w);
        }
        let what = format!(
            "sparse k-NN CSR, {} (k = {}, nnz {}, {:.2} GB; largest kernel value at a k-th neighbour {:.1e})",
            match params.sparse_solve {
                SparseSolve::ShiftInvert => "shift-invert with a sparse Cholesky factor on the host".to_string(),
                SparseSolve::Krylov => format!("Krylov on the {}", dev.kind()),
            },
            st.k,
            st.nnz,
            csr.bytes() as f64 / 1e9,
            st.max_dropped
        );
        (norm, eig, what)
    };
    detail.detail(|| format!("storage: {storage}"));
    let kk = eig.values.len();
    let mut coords = Array2::zeros((n, kk));
    for c in 0..kk {
        let mut psi: Vec<f64> = (0..n).map(|i| eig.vectors[c * n + i] * norm.inv_sqrt_degree[i]).collect();
        fix_sign(&mut psi);
        for i in 0..n {
            coords[[i, c]] = psi[i];
        }
    }
    lap("coordinates", &mut timings)?;
    Ok(Embedding {
        eigenvalues: eig.values,
        coords,
        eps,
        rank: geom.rank,
        rank_histogram: geom.rank_histogram,
        info: eig.info,
        timings,
        backend: dev.kind(),
        kernel: if plan.storage == Storage::Sparse { "knn" } else { dev.kernel_method().name() },
        storage,
        adapter: dev.adapter(),
        warnings,
    })
}
