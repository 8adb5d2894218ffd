//! Steps 2–5 for one network: local geometry → ε → kernel → normalisation → eigensolve → diffusion
//! coordinates ψ = D^{-1/2} v with deterministic signs. Backend-neutral: the O(N²) work goes through
//! the [`Device`] it is given; timings per stage are recorded (each stage ends synchronised, so the
//! times are real device times).

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::Array2;

use crate::backend::Device;
use crate::block::{BlockParams, Solver, block_lanczos, eigensolve};
use crate::covariance::{CovarianceParams, local_geometry};
use crate::data::Observations;
use crate::dense::fix_sign;
use crate::error::{Error, Result};
use crate::kernel::{EpsilonChoice, EpsilonRule, GeometryF32, check_alpha, choose_epsilon, normalise};
use crate::lanczos::{LanczosInfo, LanczosParams};
use crate::sparse::{SparseParams, knn_kernel, normalise_csr};

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
    /// Kernel storage: dense N×N on the device, or the k-NN sparse kernel; `Auto` picks by N.
    pub storage: Storage,
    /// Parameters of the sparse kernel (used when the storage is sparse).
    pub sparse: SparseParams,
    /// Seed for the ε subsample and the start vector.
    pub seed: u64,
    /// Print each stage (and each Lanczos restart) on stderr as it completes.
    pub verbose: bool,
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
            sparse: SparseParams::default(),
            seed: 0,
            verbose: false,
        }
    }
}

/// Largest dense matrix [`Storage::Auto`] builds: 4 GiB of f32 (N ≤ 32 768). Above it the O(N²) memory
/// and time of the dense path stop being a sensible default and the k-NN kernel takes over.
pub const DENSE_LIMIT_BYTES: u64 = 4 << 30;

/// The sparse path warns when a point's k-th neighbour still has a kernel value above this.
pub const SPARSE_WARN_DROPPED: f64 = 1e-2;

/// How the kernel matrix is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Storage {
    /// Dense when 4N² ≤ [`DENSE_LIMIT_BYTES`], else sparse.
    #[default]
    Auto,
    /// The dense N×N f32 matrix on the device.
    Dense,
    /// The k-NN sparse kernel ([`crate::sparse`]): built on the host, its CSR products on the device.
    Sparse,
}

impl Storage {
    /// The storage `Auto` resolves to at N.
    pub fn resolve(self, n: usize) -> Storage {
        match self {
            Storage::Auto if 4 * (n as u64) * (n as u64) <= DENSE_LIMIT_BYTES => Storage::Dense,
            Storage::Auto => Storage::Sparse,
            s => s,
        }
    }
}

impl std::str::FromStr for Storage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Storage::Auto),
            "dense" => Ok(Storage::Dense),
            "sparse" => Ok(Storage::Sparse),
            _ => Err(Error::param("storage", format!("expected auto, dense or sparse, got `{s}`"))),
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
}

/// Computes the embedding of `data` on `dev`.
pub fn embed(data: &Observations, params: &EmbedParams, dev: &mut dyn Device) -> Result<Embedding> {
    let n = data.n();
    if n < params.k + 2 {
        return Err(Error::Shape(format!(
            "need N ≥ k+2 = {} points for k = {} coordinates, got N = {n}",
            params.k + 2,
            params.k
        )));
    }
    if params.k == 0 {
        return Err(Error::param("k", "must be at least 1"));
    }
    check_alpha(params.alpha)?;
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let verbose = params.verbose;
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, f64)>| {
        let secs = t.elapsed().as_secs_f64();
        if verbose {
            eprintln!("netmatch: {name:<12} {secs:8.3} s");
        }
        timings.push((name, secs));
        t = Instant::now();
    };
    let geom = local_geometry(data, &params.covariance)?;
    lap("covariance", &mut timings);
    let mut eps = choose_epsilon(&geom, params.eps, params.seed)?;
    lap("epsilon", &mut timings);
    let storage = params.storage.resolve(n);
    if storage == Storage::Sparse && params.solver == Solver::Lanczos {
        return Err(Error::param("solver", "the single-vector Lanczos needs dense storage; use the block solver"));
    }
    let lp = LanczosParams {
        nev: params.k + 1,
        tol: params.tol,
        basis: None,
        max_matvecs: params.max_matvecs,
        seed: params.seed,
        verbose,
    };
    let (norm, eig, storage) = if storage == Storage::Dense {
        dev.build_kernel(&GeometryF32::from(&geom), Some(eps.eps))?;
        lap("kernel", &mut timings);
        let norm = normalise(dev, params.alpha)?;
        lap("normalise", &mut timings);
        let eig = eigensolve(dev, params.solver, &lp)?;
        lap("eigensolve", &mut timings);
        (norm, eig, format!("dense N×N f32 ({:.2} GB)", 4.0 * (n as f64).powi(2) / 1e9))
    } else {
        let given = (params.eps != EpsilonRule::Auto).then_some(eps.eps);
        let (mut csr, st) = knn_kernel(&geom, given, &params.sparse)?;
        if given.is_none() {
            eps = EpsilonChoice { eps: st.eps, rule: "knn", slope: None, dimension: None, plateau: None };
        }
        lap("kernel", &mut timings);
        let norm = normalise_csr(&mut csr, params.alpha)?;
        lap("normalise", &mut timings);
        let bp = BlockParams::from_lanczos(&lp);
        dev.load_csr(&csr)?;
        let eig = block_lanczos(n, &mut |x, b| dev.csr_matmat(x, b), &bp)?;
        lap("eigensolve", &mut timings);
        if st.max_dropped > SPARSE_WARN_DROPPED {
            eprintln!(
                "netmatch: warning: the sparse kernel drops values up to {:.1e} at the k-th neighbour (k = {}): \
                 k does not cover the kernel's support at ε = {:.3e}; raise --knn or lower ε",
                st.max_dropped, st.k, eps.eps
            );
        }
        let what = format!(
            "sparse k-NN CSR on the {} (k = {}, nnz {}, {:.2} GB; largest kernel value at a k-th neighbour {:.1e})",
            dev.kind(),
            st.k,
            st.nnz,
            csr.bytes() as f64 / 1e9,
            st.max_dropped
        );
        (norm, eig, what)
    };
    if verbose {
        eprintln!("netmatch: storage: {storage}");
    }
    let kk = eig.values.len();
    let mut coords = Array2::zeros((n, kk));
    for c in 0..kk {
        let mut psi: Vec<f64> = (0..n).map(|i| eig.vectors[c * n + i] * norm.inv_sqrt_degree[i]).collect();
        fix_sign(&mut psi);
        for i in 0..n {
            coords[[i, c]] = psi[i];
        }
    }
    lap("coordinates", &mut timings);
    Ok(Embedding {
        eigenvalues: eig.values,
        coords,
        eps,
        rank: geom.rank,
        rank_histogram: geom.rank_histogram,
        info: eig.info,
        timings,
        backend: dev.kind(),
        storage,
        adapter: dev.adapter(),
    })
}
