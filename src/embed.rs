//! Steps 2–5 for one network: local geometry → ε → kernel → normalisation → eigensolve → diffusion
//! coordinates ψ = D^{-1/2} v with deterministic signs. Backend-neutral: the O(N²) work goes through
//! the [`Device`] it is given; timings per stage are recorded (each stage ends synchronised, so the
//! times are real device times).

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::Array2;

use crate::backend::Device;
use crate::block::{Solver, eigensolve};
use crate::covariance::{CovarianceParams, local_geometry};
use crate::data::Observations;
use crate::dense::fix_sign;
use crate::error::{Error, Result};
use crate::kernel::{EpsilonChoice, EpsilonRule, GeometryF32, check_alpha, choose_epsilon, normalise};
use crate::lanczos::{LanczosInfo, LanczosParams};

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
            seed: 0,
            verbose: false,
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
    let eps = choose_epsilon(&geom, params.eps, params.seed)?;
    lap("epsilon", &mut timings);
    dev.build_kernel(&GeometryF32::from(&geom), Some(eps.eps))?;
    lap("kernel", &mut timings);
    let norm = normalise(dev, params.alpha)?;
    lap("normalise", &mut timings);
    let lp = LanczosParams {
        nev: params.k + 1,
        tol: params.tol,
        basis: None,
        max_matvecs: params.max_matvecs,
        seed: params.seed,
        verbose,
    };
    let eig = eigensolve(dev, params.solver, &lp)?;
    lap("eigensolve", &mut timings);
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
        adapter: dev.adapter(),
    })
}
