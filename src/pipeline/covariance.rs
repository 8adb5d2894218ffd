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
//! `compare` defaults to ν = 3, which keeps a folded scalar network's branches apart. For neighbours the normal offset is second order (curvature), so
//! the local metric is unchanged; across a fold it is O(1) and disconnects the branches. ν = 0 gives
//! the plain truncated pseudo-inverse; with r = D there is no normal space and nothing changes.
//!
//! Rank from bursts (functional dependence). A burst's spectrum decays geometrically — tangent
//! directions, then curvature directions of relative size ~(σκ)², then rounding — so no fixed gap
//! separates the tiers on every network (a strongly curved interval's curvature term can sit within
//! 10³ of its tangent). What does separate them: a curvature direction's burst coordinate z_k is a
//! quadratic function of the tangent coordinates of the same samples, a tangent one is not. So the
//! principal directions are walked in order and z_k is regressed on [1, z_1…z_{k−1}, z_t·z_j] (t over
//! the tangent directions found so far); a leave-one-out R² below ½ makes it a new tangent direction,
//! the first one above ½ ends the walk. Jacobians have exact rank: they keep the gap rule.
//!
//! Piecewise-linear networks. A ReLU network's burst straddles kinks: a hinge max(0, u·z − c) minus
//! its linear part is no quadratic of the tangent coordinates, so the walk counts it as a direction
//! (trained CNNs at σ = 0.01 read d = 3 and 4 for a 2-D input). Their spectra, though, show a plain gap
//! after the genuine directions (λ₂/λ₁ 0.22–0.49, λ₃/λ₁ 0.004–0.006, `method-notes.md` Q6), while
//! the gap rule errs the other way — on smooth, strongly curved networks it picks a later gap of the
//! geometric decay (λ_{k+1}/λ_k ≈ (σκ)²/(k+1)), where the walk is right. Each errs upward, in the other's
//! good case, so a point's rank is the smaller of the two, the gap rule counting only a *plain* gap
//! ([`plain_gap_rank`]: a drop ten times steeper than every drop before it; the trained CNNs' median
//! spectra drop 2.5× then 100×, a smooth curve's decay steepens by at most its (k+1) factors). When the burst design is known
//! (`burst_dim`, see [`crate::data::Observations::design_dim`]) it is d and neither estimate decides.
//!
//! Locally constant points. A point whose burst (or Jacobian) does not vary at all, or varies less
//! than 1e-12 of the median point's largest eigenvalue, has rank 0: the network is blind there. That
//! is evidence about the network (reported as the fraction of such points), not an error; only data
//! with no varying point at all are unusable.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::data::{LocalSource, Observations};
use crate::error::{Error, Result};
use crate::solve::dense::sym_eig;

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
    /// (default 0 here; [`crate::pipeline::compare::CompareParams`] defaults to 3).
    pub normal_weight: f64,
    /// Multiply the burst precision C⁻¹ by the Wishart factor (M − r − 2)/(M − 1), which removes the
    /// bias of inverting a sample covariance of M bursts (without it every distance is 3–7 % long at
    /// M = 64, more at small M, so networks sampled with different M get different spectra). Off for
    /// `embed` (the plain formula, as datafold computes it); on for `compare`.
    pub wishart: bool,
}

impl Default for CovarianceParams {
    fn default() -> Self {
        CovarianceParams { rank: None, rcond: 1e-8, gap_ratio: 1e3, normal_weight: 0.0, wishart: false }
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
    /// Per-point rank estimates: rank → number of points (rank 0: locally constant).
    pub rank_histogram: BTreeMap<usize, usize>,
    /// Per-point rank estimates, in point order.
    pub point_ranks: Vec<usize>,
    /// The factor applied to every precision C⁻¹ (the Wishart correction, or 1).
    pub precision_factor: f64,
    /// The power of two `obs` was multiplied by (and `factors` divided by, `normal_weights` by its
    /// square) so that the f32 stages see numbers near 1 whatever the units of the observations;
    /// distances are unchanged, and exactly so (powers of two scale without rounding).
    pub scale: f64,
}

impl LocalGeometry {
    /// Fraction of the points whose own rank is below the common rank r: where the network is locally
    /// constant or loses a direction.
    pub fn deficient_fraction(&self) -> f64 {
        self.point_ranks.iter().filter(|&&r| r < self.rank).count() as f64 / self.n.max(1) as f64
    }
    /// The median per-point rank over the points where the network varies (at least 1): what the
    /// rank rule picks when no rank is given.
    pub fn median_point_rank(&self) -> usize {
        let mut v: Vec<usize> = self.point_ranks.iter().copied().filter(|&r| r > 0).collect();
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(1).max(1)
    }
    /// Fraction of the points where the network is locally constant (rank 0).
    pub fn constant_fraction(&self) -> f64 {
        self.point_ranks.iter().filter(|&&r| r == 0).count() as f64 / self.n.max(1) as f64
    }
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

/// FᵀF (`cols × cols`, both triangles) of the row-major `rows × cols` matrix `f`.
fn cross_product(f: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut c = vec![0.0; cols * cols];
    for a in 0..rows {
        let row = &f[a * cols..(a + 1) * cols];
        for p in 0..cols {
            for q in 0..=p {
                c[p * cols + q] += row[p] * row[q];
            }
        }
    }
    for p in 0..cols {
        for q in 0..p {
            c[q * cols + p] = c[p * cols + q];
        }
    }
    c
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
        let e = sym_eig(&cross_product(f, rows, dim), dim)?;
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

/// The rank a burst spectrum shows by a *plain* gap: the largest drop λ_k/λ_{k+1} between consecutive
/// eigenvalues above `rcond · λ₁`, if it is at least [`PLAIN_GAP`] times steeper than every drop
/// before it (and at least that large); otherwise no gap is plain and the count of eigenvalues above
/// the floor is returned (no veto). The drop to the floor itself never counts: with D = 3 outputs of a
/// d = 2 ReLU network, λ₃ sits two decades under λ₂ but far above rounding.
pub fn plain_gap_rank(values: &[f64], rcond: f64) -> usize {
    let top = values.first().copied().unwrap_or(0.0);
    let above: Vec<f64> = values.iter().copied().take_while(|&v| top > 0.0 && v > rcond * top).collect();
    let usable = above.len();
    let drops: Vec<f64> = above.windows(2).map(|w| w[0] / w[1]).collect();
    let Some((k, &steepest)) = drops.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else { return usable };
    let before = drops[..k].iter().copied().fold(1.0, f64::max);
    if steepest >= PLAIN_GAP * before { k + 1 } else { usable }
}

/// How much steeper than every earlier drop a spectral drop must be to count as plain: one decade.
pub const PLAIN_GAP: f64 = 10.0;

/// Leave-one-out R² of the least-squares fit of `y` on the columns of `x` (rows × p, row-major), via
/// the hat matrix of a pseudo-inverse (robust to collinear columns). 1 = exactly predicted.
fn loo_r2(x: &[f64], rows: usize, p: usize, y: &[f64]) -> f64 {
    let g = cross_product(x, rows, p);
    let Ok(e) = sym_eig(&g, p) else { return 0.0 };
    let top = e.values.first().copied().unwrap_or(0.0).max(1e-300);
    // G⁺ = Σ v vᵀ/λ over λ > 1e-10·top.
    let mut ginv = vec![0.0; p * p];
    for k in 0..p {
        let lam = e.values[k];
        if lam <= 1e-10 * top {
            continue;
        }
        let v = e.vector(k);
        for i in 0..p {
            for j in 0..p {
                ginv[i * p + j] += v[i] * v[j] / lam;
            }
        }
    }
    let xty: Vec<f64> = (0..p).map(|i| (0..rows).map(|a| x[a * p + i] * y[a]).sum()).collect();
    let beta: Vec<f64> = (0..p).map(|i| (0..p).map(|j| ginv[i * p + j] * xty[j]).sum()).collect();
    let mean = y.iter().sum::<f64>() / rows as f64;
    let (mut press, mut tss) = (0.0, 0.0);
    for a in 0..rows {
        let r = &x[a * p..(a + 1) * p];
        let fit: f64 = r.iter().zip(&beta).map(|(u, b)| u * b).sum();
        let h: f64 = (0..p).map(|i| r[i] * (0..p).map(|j| ginv[i * p + j] * r[j]).sum::<f64>()).sum();
        let res = (y[a] - fit) / (1.0 - h).max(1e-3);
        press += res * res;
        tss += (y[a] - mean).powi(2);
    }
    if tss <= 0.0 { 1.0 } else { 1.0 - press / tss }
}

/// The number of tangent directions of one burst by functional dependence (module doc): `f` holds
/// the centred samples (rows × dim), `s` their spectrum, `floor` the eigenvalue below which
/// directions are noise.
fn dependence_rank(f: &[f64], rows: usize, dim: usize, s: &Spectrum, floor: f64) -> usize {
    let usable = s.values.iter().take_while(|&&v| v > floor).count().min(s.vectors.len());
    if usable == 0 {
        return 0;
    }
    // Burst coordinates along the principal directions, standardised (R² is scale-free).
    let z = |k: usize| -> Vec<f64> {
        let v = &s.vectors[k];
        let col: Vec<f64> = (0..rows).map(|a| (0..dim).map(|c| f[a * dim + c] * v[c]).sum()).collect();
        let sd = (col.iter().map(|x| x * x).sum::<f64>() / rows as f64).sqrt().max(1e-300);
        col.into_iter().map(|x| x / sd).collect()
    };
    let mut zs = vec![z(0)];
    let mut tangent = vec![0usize];
    for k in 1..usable.min(MAX_RANK + 1) {
        // Regressors: 1, z_0..z_{k−1}, z_t·z_j for tangent t ≤ j < k.
        let mut cols: Vec<Vec<f64>> = vec![vec![1.0; rows]];
        cols.extend(zs.iter().cloned());
        for &t in &tangent {
            for j in t..k {
                cols.push(zs[t].iter().zip(&zs[j]).map(|(a, b)| a * b).collect());
            }
        }
        let p = cols.len();
        // Too few samples for a meaningful leave-one-out fit: stop counting here.
        if p + 4 > rows {
            break;
        }
        let x: Vec<f64> = (0..rows).flat_map(|a| cols.iter().map(move |c| c[a])).collect();
        let zk = z(k);
        if loo_r2(&x, rows, p, &zk) >= 0.5 {
            break;
        }
        tangent.push(k);
        zs.push(zk);
    }
    tangent.len()
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
    let spectra = (0..n)
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
            let s = spectrum_of_gram(&f, rows, dim)?;
            let top = s.values.first().copied().unwrap_or(0.0);
            let r = if top <= 0.0 {
                0
            } else if matches!(data.local, LocalSource::Bursts(_)) {
                // Two estimates that err in opposite situations, each upward: the dependence walk
                // counts a ReLU network's kinks inside a burst as directions (a hinge is no quadratic),
                // where the spectrum shows a plain gap after the genuine ones; the gap rule picks a
                // late gap on smooth, strongly curved networks, where the walk is right. See the
                // module doc.
                dependence_rank(&f, rows, dim, &s, params.rcond * top).min(plain_gap_rank(&s.values, params.rcond))
            } else {
                spectral_rank(&s.values, params.rcond, params.gap_ratio)
            };
            Ok((s, r))
        })
        .collect::<Result<Vec<_>>>()?;
    let (spectra, mut ranks): (Vec<Spectrum>, Vec<usize>) = spectra.into_iter().unzip();
    // Locally constant points: no variation beyond 1e-12 of the median point's top eigenvalue.
    let mut tops: Vec<f64> = spectra.iter().map(|s| s.values.first().copied().unwrap_or(0.0).max(0.0)).collect();
    tops.sort_unstable_by(f64::total_cmp);
    let median_top = tops[(tops.len() - 1) / 2];
    for (r, s) in ranks.iter_mut().zip(&spectra) {
        if s.values.first().copied().unwrap_or(0.0) <= 1e-12 * median_top {
            *r = 0;
        }
    }
    if let Some(bad) = spectra.iter().position(|s| s.values.iter().any(|v| !v.is_finite())) {
        return Err(Error::Degenerate(format!(
            "the local covariance of point {bad} overflows f64: its {} spread is too large for the numbers' range \
             (σ = {:e}; bursts must be in the observations' units and σ in the inputs' units)",
            match data.local {
                LocalSource::Bursts(_) => "burst's",
                LocalSource::Jacobians(_) => "Jacobian's",
            },
            data.sigma
        )));
    }
    let varying: Vec<usize> = ranks.iter().copied().filter(|&r| r > 0).collect();
    if varying.is_empty() {
        return Err(Error::Degenerate(format!(
            "every {} has zero covariance: the observations do not vary, the network is constant around every \
             base input (check sigma)",
            match data.local {
                LocalSource::Bursts(_) => "burst",
                LocalSource::Jacobians(_) => "Jacobian",
            }
        )));
    }
    let mut rank_histogram = BTreeMap::new();
    for &r in &ranks {
        *rank_histogram.entry(r).or_insert(0) += 1;
    }
    let rank = match params.rank {
        Some(r) => r,
        None => {
            // The median over the points where the network varies: blind points are reported, they
            // do not lower the dimension of the rest.
            let mut sorted = varying;
            sorted.sort_unstable();
            let r = sorted[(sorted.len() - 1) / 2];
            if r > MAX_RANK {
                return Err(Error::param(
                    "rank",
                    format!(
                        "estimated rank {r} exceeds the kernel limit {MAX_RANK}; set the rank explicitly (compare/embed --rank)"
                    ),
                ));
            }
            r
        }
    };

    // The exact power of two that brings the typical local spread (√λ of the median varying point) to
    // about 1: a network whose outputs move by 1e-20 per unit input otherwise gives normal weights of
    // 1e40, beyond f32.
    let mut varying_tops: Vec<f64> =
        spectra.iter().zip(&ranks).filter(|(_, r)| **r > 0).map(|(s, _)| s.values[0]).collect();
    varying_tops.sort_unstable_by(f64::total_cmp);
    let typical = varying_tops[(varying_tops.len() - 1) / 2].sqrt();
    let scale = 2f64.powi((-typical.log2().round()).clamp(-1000.0, 1000.0) as i32);
    let mean: Vec<f64> = (0..dim).map(|c| data.obs.column(c).mean().unwrap_or(0.0)).collect();
    let mut obs = Vec::with_capacity(n * dim);
    for i in 0..n {
        for c in 0..dim {
            obs.push((data.obs[[i, c]] - mean[c]) * scale);
        }
    }
    // Wishart: E[Ĉ⁻¹] = C⁻¹ (M − 1)/(M − r − 2) for a sample covariance of M Gaussian bursts.
    let precision_factor = match &data.local {
        LocalSource::Bursts(b) if params.wishart && b.shape()[1] > rank + 2 => {
            let m = b.shape()[1] as f64;
            (m - rank as f64 - 2.0) / (m - 1.0)
        }
        _ => 1.0,
    };
    let root = precision_factor.sqrt();
    let mut factors = vec![0.0; n * dim * rank];
    let mut tangents = vec![0.0; n * dim * rank];
    let mut normal_weights = vec![0.0; n];
    factors
        .par_chunks_mut(dim * rank)
        .zip(tangents.par_chunks_mut(dim * rank))
        .zip(normal_weights.par_iter_mut())
        .zip(spectra.par_iter().zip(ranks.par_iter()))
        .for_each(|(((u, v), w), (s, &ri))| {
            if ri == 0 {
                // Locally constant: no direction to measure, no normal term (zeros as allocated).
                return;
            }
            let floor = params.rcond * s.values[0];
            let mut weakest = s.values[0];
            for k in 0..rank.min(s.values.len()) {
                // Directions below the noise floor are dropped (zero column), not inverted: 1/λ of
                // noise would swamp the distance.
                if s.values[k] <= floor {
                    break;
                }
                weakest = s.values[k];
                let inv = root / (s.values[k].sqrt() * scale);
                for c in 0..dim {
                    u[c * rank + k] = s.vectors[k][c] * inv;
                    v[c * rank + k] = s.vectors[k][c];
                }
            }
            *w = if rank < dim { params.normal_weight / (weakest * scale * scale) } else { 0.0 };
        });
    Ok(LocalGeometry {
        n,
        dim,
        rank,
        obs,
        factors,
        tangents,
        normal_weights,
        rank_histogram,
        point_ranks: ranks,
        precision_factor,
        scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain gaps: the trained ReLU CNNs' median spectra (a drop of 2.5× then 100×: rank 2, whatever
    /// the floor below), a smooth curve's geometric decay (no plain gap: no veto), a strongly
    /// anisotropic 2-D map seen through many outputs (the tangent-to-curvature drop is plain), and an
    /// isotropic full-rank spectrum (no gap at all).
    #[test]
    fn only_a_plain_gap_counts() {
        assert_eq!(plain_gap_rank(&[1.0, 0.39, 3.9e-3], 1e-8), 2);
        assert_eq!(plain_gap_rank(&[1.0, 0.245, 4.06e-3, 2.0e-4], 1e-8), 2);
        assert_eq!(plain_gap_rank(&[1.0, 1e-3, 5e-7, 1.7e-10], 1e-12), 4);
        assert_eq!(plain_gap_rank(&[1.0, 0.01, 2e-6, 1e-6, 2e-7], 1e-8), 2);
        assert_eq!(plain_gap_rank(&[1.0, 0.6, 0.3], 1e-8), 3);
        assert_eq!(plain_gap_rank(&[1.0, 1e-9], 1e-8), 1);
        assert_eq!(plain_gap_rank(&[0.0], 1e-8), 0);
    }
}
