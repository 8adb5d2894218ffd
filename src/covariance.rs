//! Step 2 of the pipeline: local geometry. For every base point it turns a burst of observations (or a
//! Jacobian) into the covariance C_i (scaled by 1/σ² so that distances come out in input units), picks
//! one rank r for all points, and keeps the factor U_i (D×r) of the truncated pseudo-inverse,
//! C_i⁺ ≈ U_i U_iᵀ.
//!
//! Rank rule (per point, then the median over points): walk down the eigenvalues λ₁ ≥ λ₂ ≥ … and stop at
//! the first gap λ_k/λ_{k+1} ≥ `gap_ratio` (default 1e3), where eigenvalues below `rcond · λ₁` count
//! as that floor; if no gap is that large, take the largest gap. The design asked for "the largest
//! gap"; we take the *first large* one because a burst's spectrum has three tiers — genuine directions,
//! curvature terms (relative size ~σ²‖H‖²/‖J‖², 1e-4…1e-6) and rounding noise — and the gap between
//! the last two can exceed the one we want, which would keep spurious directions whose 1/λ then
//! dominates the distance. This step is N small eigenproblems and runs on the CPU (rayon) for both
//! backends; the O(N²) stages are the GPU's.
//!
//! Normal directions. The rank-r pseudo-inverse measures only the tangential part of a displacement,
//! so where the observed manifold folds back near itself (a nonmonotonic output beside slowly varying
//! neurons) points far apart in input space look close and the kernel short-cuts across the fold. We
//! therefore also keep the orthonormal tangent basis V_i and weight the normal part of δ by
//! w_i = ν/λ_r,i (ν = `normal_weight`; ν = 1 makes normal displacement count like displacement along
//! the weakest genuine direction). `embed` defaults to ν = 0 (the design's plain formula);
//! `compare` defaults to ν = 10, which the folded scalar-network test needs. For neighbours the normal offset is second order (curvature), so
//! the local metric is unchanged; across a fold it is O(1) and disconnects the branches. ν = 0 gives
//! the plain truncated pseudo-inverse; with r = D there is no normal space and nothing changes.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::data::{LocalSource, Observations};
use crate::dense::sym_eig;
use crate::error::{Error, Result};

/// Largest rank the GPU kernel supports (shaders/kernel.wgsl `MAX_RANK`; keep in sync).
pub const MAX_RANK: usize = 8;

/// Parameters of the local-geometry step.
#[derive(Clone, Debug)]
pub struct CovarianceParams {
    /// Fixed rank r (the intrinsic dimension d when known); `None` estimates it from the spectra.
    pub rank: Option<usize>,
    /// Eigenvalues below `rcond · λ₁` are treated as zero (noise floor).
    pub rcond: f64,
    /// A spectral gap at least this large (ratio of consecutive eigenvalues) ends the genuine directions.
    pub gap_ratio: f64,
    /// ν: weight of the normal part of a displacement relative to the weakest kept direction
    /// (default 0 here; [`crate::compare::CompareParams`] defaults to 10).
    pub normal_weight: f64,
}

impl Default for CovarianceParams {
    fn default() -> Self {
        CovarianceParams { rank: None, rcond: 1e-8, gap_ratio: 1e3, normal_weight: 0.0 }
    }
}

/// The local geometry of one network's observations: centred observations and pseudo-inverse factors.
#[derive(Clone, Debug)]
pub struct LocalGeometry {
    /// Number of points N.
    pub n: usize,
    /// Observation dimension D.
    pub dim: usize,
    /// The common rank r.
    pub rank: usize,
    /// Observations minus their mean, row-major N×D (centring keeps f32 differences accurate on the GPU).
    pub obs: Vec<f64>,
    /// Factors U_i, point-major: entry (i, c, s) at `(i * dim + c) * rank + s`.
    pub factors: Vec<f64>,
    /// Orthonormal tangent bases V_i, same layout as `factors`.
    pub tangents: Vec<f64>,
    /// Normal weights w_i = ν/λ_r,i (0 when r = D or ν = 0).
    pub normal_weights: Vec<f64>,
    /// Per-point rank estimates: rank → number of points.
    pub rank_histogram: BTreeMap<usize, usize>,
}

impl LocalGeometry {
    /// The factor U_i as a D×r row-major slice.
    pub fn factor(&self, i: usize) -> &[f64] {
        let w = self.dim * self.rank;
        &self.factors[i * w..(i + 1) * w]
    }
    /// The tangent basis V_i as a D×r row-major slice.
    pub fn tangent(&self, i: usize) -> &[f64] {
        let w = self.dim * self.rank;
        &self.tangents[i * w..(i + 1) * w]
    }
    /// Observation i (centred).
    pub fn point(&self, i: usize) -> &[f64] {
        &self.obs[i * self.dim..(i + 1) * self.dim]
    }
}

/// Per-point spectrum: eigenvalues (descending) and eigenvectors (column-major, D entries each).
struct Spectrum {
    values: Vec<f64>,
    vectors: Vec<Vec<f64>>,
}

/// Spectrum of C = FᵀF where F is `rows × dim` (row-major). Goes through the smaller Gram matrix when
/// rows < dim, so a 64-sample burst of 500 neurons costs a 64×64 eigenproblem, not 500×500.
fn spectrum_of_gram(f: &[f64], rows: usize, dim: usize) -> Result<Spectrum> {
    if rows < dim {
        let mut g = vec![0.0; rows * rows];
        for a in 0..rows {
            for b in 0..=a {
                let s: f64 = (0..dim).map(|c| f[a * dim + c] * f[b * dim + c]).sum();
                g[a * rows + b] = s;
                g[b * rows + a] = s;
            }
        }
        let e = sym_eig(&g, rows)?;
        let mut values = Vec::new();
        let mut vectors = Vec::new();
        for (k, &lam) in e.values.iter().enumerate() {
            if lam <= 0.0 {
                break;
            }
            // v = Fᵀ u / sqrt(λ) is the unit eigenvector of FᵀF for the same λ.
            let u = e.vector(k);
            let inv = 1.0 / lam.sqrt();
            let v: Vec<f64> = (0..dim).map(|c| (0..rows).map(|a| f[a * dim + c] * u[a]).sum::<f64>() * inv).collect();
            values.push(lam);
            vectors.push(v);
        }
        Ok(Spectrum { values, vectors })
    } else {
        let mut c = vec![0.0; dim * dim];
        for a in 0..rows {
            let row = &f[a * dim..(a + 1) * dim];
            for p in 0..dim {
                for q in 0..=p {
                    c[p * dim + q] += row[p] * row[q];
                }
            }
        }
        for p in 0..dim {
            for q in 0..p {
                c[q * dim + p] = c[p * dim + q];
            }
        }
        let e = sym_eig(&c, dim)?;
        let vectors = (0..dim).map(|k| e.vector(k).to_vec()).collect();
        Ok(Spectrum { values: e.values, vectors })
    }
}

/// The rank of one spectrum under the rule in the module doc.
pub fn spectral_rank(values: &[f64], rcond: f64, gap_ratio: f64) -> usize {
    let top = values.first().copied().unwrap_or(0.0);
    if top <= 0.0 {
        return 0;
    }
    let floor = rcond * top;
    let above: Vec<f64> = values.iter().copied().take_while(|&v| v > floor).collect();
    let mut best = (1usize, f64::MIN);
    for k in 0..above.len() {
        let next = above.get(k + 1).copied().unwrap_or(floor);
        let ratio = above[k] / next;
        if ratio >= gap_ratio {
            return k + 1;
        }
        if ratio > best.1 {
            best = (k + 1, ratio);
        }
    }
    best.0
}

/// Builds the local geometry of `data` (validated observations).
pub fn local_geometry(data: &Observations, params: &CovarianceParams) -> Result<LocalGeometry> {
    let n = data.n();
    let dim = data.dim();
    if params.rcond <= 0.0 || params.rcond >= 1.0 || !params.rcond.is_finite() {
        return Err(Error::param("rcond", format!("must lie in (0, 1), got {}", params.rcond)));
    }
    if !(params.normal_weight >= 0.0 && params.normal_weight.is_finite()) {
        return Err(Error::param("normal-weight", format!("must be ≥ 0 and finite, got {}", params.normal_weight)));
    }
    if params.gap_ratio <= 1.0 || !params.gap_ratio.is_finite() {
        return Err(Error::param("gap-ratio", format!("must be > 1, got {}", params.gap_ratio)));
    }
    if let Some(r) = params.rank {
        if r == 0 || r > dim || r > MAX_RANK {
            return Err(Error::param(
                "rank",
                format!(
                    "must lie in 1..={} (observation dimension D = {dim}, kernel limit {MAX_RANK}), got {r}",
                    dim.min(MAX_RANK)
                ),
            ));
        }
    }
    let sigma2 = data.sigma * data.sigma;
    let spectra: Vec<Spectrum> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (f, rows) = match &data.local {
                LocalSource::Bursts(b) => {
                    let m = b.shape()[1];
                    let burst = b.index_axis(ndarray::Axis(0), i);
                    let mean = burst.mean_axis(ndarray::Axis(0)).expect("M >= 2 is validated");
                    // Rows scaled so that FᵀF = Σ (b − b̄)(b − b̄)ᵀ / ((M − 1) σ²).
                    let scale = 1.0 / (((m - 1) as f64) * sigma2).sqrt();
                    let mut f = Vec::with_capacity(m * dim);
                    for a in 0..m {
                        for c in 0..dim {
                            f.push((burst[[a, c]] - mean[c]) * scale);
                        }
                    }
                    (f, m)
                }
                LocalSource::Jacobians(j) => {
                    // C = J Jᵀ with J of shape D×d: F = Jᵀ (d×D).
                    let jd = j.shape()[2];
                    let mut f = Vec::with_capacity(jd * dim);
                    for a in 0..jd {
                        for c in 0..dim {
                            f.push(j[[i, c, a]]);
                        }
                    }
                    (f, jd)
                }
            };
            spectrum_of_gram(&f, rows, dim)
        })
        .collect::<Result<_>>()?;

    let mut ranks = Vec::with_capacity(n);
    for (i, s) in spectra.iter().enumerate() {
        let r = spectral_rank(&s.values, params.rcond, params.gap_ratio);
        if r == 0 {
            return Err(Error::Degenerate(format!(
                "point {i}: its {} has zero covariance (the network output does not vary there); \
                 check sigma or drop the point",
                match data.local {
                    LocalSource::Bursts(_) => "burst",
                    LocalSource::Jacobians(_) => "Jacobian",
                }
            )));
        }
        ranks.push(r);
    }
    let mut rank_histogram = BTreeMap::new();
    for &r in &ranks {
        *rank_histogram.entry(r).or_insert(0) += 1;
    }
    let rank = match params.rank {
        Some(r) => r,
        None => {
            let mut sorted = ranks.clone();
            sorted.sort_unstable();
            let r = sorted[(sorted.len() - 1) / 2];
            if r > MAX_RANK {
                return Err(Error::param(
                    "rank",
                    format!("estimated rank {r} exceeds the kernel limit {MAX_RANK}; pass --rank"),
                ));
            }
            r
        }
    };

    let mean: Vec<f64> = (0..dim).map(|c| data.obs.column(c).mean().unwrap_or(0.0)).collect();
    let mut obs = Vec::with_capacity(n * dim);
    for i in 0..n {
        for c in 0..dim {
            obs.push(data.obs[[i, c]] - mean[c]);
        }
    }
    let mut factors = vec![0.0; n * dim * rank];
    let mut tangents = vec![0.0; n * dim * rank];
    let mut normal_weights = vec![0.0; n];
    factors
        .par_chunks_mut(dim * rank)
        .zip(tangents.par_chunks_mut(dim * rank))
        .zip(normal_weights.par_iter_mut())
        .zip(spectra.par_iter())
        .for_each(|(((u, v), w), s)| {
            let floor = params.rcond * s.values[0];
            let mut weakest = s.values[0];
            for k in 0..rank.min(s.values.len()) {
                // Directions below the noise floor are dropped (zero column), not inverted: 1/λ of
                // noise would swamp the distance.
                if s.values[k] <= floor {
                    break;
                }
                weakest = s.values[k];
                let inv = 1.0 / s.values[k].sqrt();
                for c in 0..dim {
                    u[c * rank + k] = s.vectors[k][c] * inv;
                    v[c * rank + k] = s.vectors[k][c];
                }
            }
            *w = if rank < dim { params.normal_weight / weakest } else { 0.0 };
        });
    Ok(LocalGeometry { n, dim, rank, obs, factors, tangents, normal_weights, rank_histogram })
}
