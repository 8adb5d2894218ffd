//! Steps 3–4: the Mahalanobis distance d²_ij = ½(‖U_iᵀδ‖² + ‖U_jᵀδ‖²), δ = o_i − o_j, the Gaussian kernel
//! K_ij = exp(−d²_ij/ε) (our convention: datafold uses exp(−d²/(2ε)), pydiffmap exp(−d²/(4ε))), the choice
//! of ε, and the α-normalisation to the symmetric conjugate S = D^{-1/2} K^α D^{-1/2}.
//!
//! Backend-neutral: the O(N²) matrix lives on a [`Device`](crate::backend::Device) (GPU buffers or CPU
//! rows); this module drives it. The normalisation needs only two matrix–vector products with K
//! (q = K·1, t = K·q^{-α}) and one in-place scaling S_ij = w_i K_ij w_j with
//! w_i = q_i^{-α} (q_i^{-α} t_i)^{-1/2}; the O(N) vector algebra runs in f64 on the host.
//!
//! ε is chosen on a seeded subsample of at most [`EPS_SAMPLE`] points, in f64 on the host, for both
//! backends: Singer's log-log slope is scale-free in the number of points, so a subsample finds the same
//! ε while keeping the selection out of the GPU's O(N²) budget.

use crate::backend::Device;
pub use crate::backend::GeometryF32;
use crate::error::{Error, Result};
use crate::pipeline::covariance::LocalGeometry;
use crate::rng::Rng;

/// Points used for ε selection.
pub const EPS_SAMPLE: usize = 1500;

/// How ε is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EpsilonRule {
    /// Singer's method on log Σ_ij K_ij(ε) against log ε: the middle of the plateau of maximal slope.
    Auto,
    /// The median of d² over pairs.
    Median,
    /// A given value (> 0).
    Fixed(f64),
}

impl std::str::FromStr for EpsilonRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(EpsilonRule::Auto),
            "median" => Ok(EpsilonRule::Median),
            v => match v.parse::<f64>() {
                Ok(x) if x > 0.0 && x.is_finite() => Ok(EpsilonRule::Fixed(x)),
                Ok(x) => Err(Error::param("eps", format!("must be > 0 and finite, got {x}"))),
                Err(_) => Err(Error::param("eps", format!("expected auto, median or a number, got `{v}`"))),
            },
        }
    }
}

/// The ε in use and how it was found.
#[derive(Clone, Debug)]
pub struct EpsilonChoice {
    /// The kernel bandwidth ε (in d² units).
    pub eps: f64,
    /// `"auto"`, `"median"` or `"fixed"`.
    pub rule: &'static str,
    /// Maximal log-log slope (auto only).
    pub slope: Option<f64>,
    /// Implied intrinsic dimension 2 × slope (auto only).
    pub dimension: Option<f64>,
    /// The ends of the scaling plateau (slope ≥ 90 % of its maximum) the auto rule chose from.
    pub plateau: Option<(f64, f64)>,
}

/// The Mahalanobis distance d²_ij in f64 (the formula every twin implements):
/// ½(‖U_iᵀδ‖² + w_i‖(I − V_iV_iᵀ)δ‖² + ‖U_jᵀδ‖² + w_j‖(I − V_jV_jᵀ)δ‖²); see [`crate::pipeline::covariance`] for the
/// normal term.
pub fn distance2(g: &LocalGeometry, i: usize, j: usize) -> f64 {
    pair_terms(g, i, j).distance2(g.normal_weights[i], g.normal_weights[j])
}

/// The pieces of one pair's distance, δ = o_i − o_j: ‖U_iᵀδ‖², ‖U_jᵀδ‖², ‖δ‖², ‖V_iᵀδ‖², ‖V_jᵀδ‖² (f64).
#[derive(Clone, Copy, Debug)]
pub struct PairTerms {
    /// ‖U_iᵀδ‖²: the pair measured in i's metric.
    pub metric_i: f64,
    /// ‖U_jᵀδ‖².
    pub metric_j: f64,
    /// ‖δ‖².
    pub dd: f64,
    /// ‖V_iᵀδ‖²: the part of δ in i's tangent space.
    pub tangent_i: f64,
    /// ‖V_jᵀδ‖².
    pub tangent_j: f64,
}

impl PairTerms {
    /// d² with the two points' normal weights (see [`distance2`]).
    pub fn distance2(&self, w_i: f64, w_j: f64) -> f64 {
        // The normal parts are clamped at 0: rounding can make ‖δ‖² − ‖Vᵀδ‖² slightly negative.
        let ni = (self.dd - self.tangent_i).max(0.0) * w_i;
        let nj = (self.dd - self.tangent_j).max(0.0) * w_j;
        0.5 * (self.metric_i + self.metric_j + ni + nj)
    }
}

/// [`PairTerms`] of points i and j of `g`.
pub fn pair_terms(g: &LocalGeometry, i: usize, j: usize) -> PairTerms {
    let (oi, oj) = (g.point(i), g.point(j));
    let (ui, uj) = (g.factor(i), g.factor(j));
    let (vi, vj) = (g.tangent(i), g.tangent(j));
    let r = g.rank;
    let mut a = [0.0f64; crate::pipeline::covariance::MAX_RANK];
    let mut b = [0.0f64; crate::pipeline::covariance::MAX_RANK];
    let mut ta = [0.0f64; crate::pipeline::covariance::MAX_RANK];
    let mut tb = [0.0f64; crate::pipeline::covariance::MAX_RANK];
    let mut dd = 0.0;
    for c in 0..g.dim {
        let d = oi[c] - oj[c];
        dd += d * d;
        for s in 0..r {
            a[s] += ui[c * r + s] * d;
            b[s] += uj[c * r + s] * d;
            ta[s] += vi[c * r + s] * d;
            tb[s] += vj[c * r + s] * d;
        }
    }
    let sq = |v: &[f64]| v[..r].iter().map(|x| x * x).sum::<f64>();
    PairTerms { metric_i: sq(&a), metric_j: sq(&b), dd, tangent_i: sq(&ta), tangent_j: sq(&tb) }
}

/// Chooses ε for `g` (see the module doc for the subsample).
pub fn choose_epsilon(g: &LocalGeometry, rule: EpsilonRule, seed: u64) -> Result<EpsilonChoice> {
    if let EpsilonRule::Fixed(eps) = rule {
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(Error::param("eps", format!("must be > 0 and finite, got {eps}")));
        }
        return Ok(EpsilonChoice { eps, rule: "fixed", slope: None, dimension: None, plateau: None });
    }
    let idx = Rng::new(seed ^ 0xE95).sample_indices(g.n, EPS_SAMPLE);
    let mut d2: Vec<f64> = Vec::with_capacity(idx.len() * idx.len() / 2);
    for (a, &i) in idx.iter().enumerate() {
        for &j in &idx[a + 1..] {
            d2.push(distance2(g, i, j));
        }
    }
    d2.sort_unstable_by(f64::total_cmp);
    let positive: Vec<f64> = d2.iter().copied().filter(|&v| v > 0.0).collect();
    if positive.is_empty() {
        return Err(Error::Degenerate("all pairwise distances are zero: the observations do not vary".into()));
    }
    let median = positive[positive.len() / 2];
    if rule == EpsilonRule::Median {
        return Ok(EpsilonChoice { eps: median, rule: "median", slope: None, dimension: None, plateau: None });
    }
    // Log grid spanning the distance range with a decade of margin on both sides.
    let lo = positive[0].max(positive[positive.len() / 1000]) * 0.1;
    let hi = positive[positive.len() - 1] * 10.0;
    const GRID: usize = 64;
    let grid: Vec<f64> = (0..GRID).map(|k| (lo.ln() + (hi / lo).ln() * k as f64 / (GRID - 1) as f64).exp()).collect();
    use rayon::prelude::*;
    let npts = idx.len() as f64;
    let log_sums: Vec<f64> = grid
        .par_iter()
        .map(|&eps| {
            // Σ over i ≠ j (twice the upper triangle) plus the diagonal's N ones.
            let s: f64 = d2.iter().map(|&v| (-v / eps).exp()).sum();
            (2.0 * s + npts).ln()
        })
        .collect();
    let slopes: Vec<f64> =
        (1..GRID - 1).map(|k| (log_sums[k + 1] - log_sums[k - 1]) / (grid[k + 1].ln() - grid[k - 1].ln())).collect();
    let (arg, max) = slopes.iter().enumerate().fold((0, f64::MIN), |b, (k, &v)| if v > b.1 { (k, v) } else { b });
    // The slope is flat (≈ d/2) over the whole scaling range, so its argmax is nearly arbitrary within
    // it — on an evenly sampled curve it can sit at the barely-connected end. Take the geometric middle
    // of the contiguous plateau (slope ≥ 90 % of the maximum) around the argmax instead.
    let (mut lo_k, mut hi_k) = (arg, arg);
    while lo_k > 0 && slopes[lo_k - 1] >= 0.9 * max {
        lo_k -= 1;
    }
    while hi_k + 1 < slopes.len() && slopes[hi_k + 1] >= 0.9 * max {
        hi_k += 1;
    }
    let eps = (grid[lo_k + 1] * grid[hi_k + 1]).sqrt();
    Ok(EpsilonChoice {
        eps,
        rule: "auto",
        slope: Some(max),
        dimension: Some(2.0 * max),
        plateau: Some((grid[lo_k + 1], grid[hi_k + 1])),
    })
}

impl From<&LocalGeometry> for GeometryF32 {
    fn from(g: &LocalGeometry) -> Self {
        GeometryF32 {
            n: g.n,
            dim: g.dim,
            rank: g.rank,
            obs: g.obs.iter().map(|&v| v as f32).collect(),
            factors: g.factors.iter().map(|&v| v as f32).collect(),
            tangents: g.tangents.iter().map(|&v| v as f32).collect(),
            normal_weights: g.normal_weights.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// Result of the normalisation: what the eigen-solve and the coordinates need.
#[derive(Clone, Debug)]
pub struct Normalisation {
    /// D_ii^{-1/2} of the α-normalised kernel: ψ = D^{-1/2} v.
    pub inv_sqrt_degree: Vec<f64>,
    /// The row sums q of K (kernel density estimate).
    pub density: Vec<f64>,
}

/// Validates α ∈ [0, 1].
pub fn check_alpha(alpha: f64) -> Result<()> {
    if (0.0..=1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(Error::param("alpha", format!("must lie in [0, 1], got {alpha}")))
    }
}

/// Turns the kernel matrix on `dev` into S in place and returns the scalings.
pub fn normalise(dev: &mut dyn Device, alpha: f64) -> Result<Normalisation> {
    check_alpha(alpha)?;
    let n = dev.n();
    let q = dev.matvec(&vec![1.0f32; n])?;
    let q: Vec<f64> = q.into_iter().map(f64::from).collect();
    if let Some(i) = q.iter().position(|&v| !(v > 0.0 && v.is_finite())) {
        return Err(Error::Degenerate(format!("kernel row {i} sums to {} — ε too small or bad geometry", q[i])));
    }
    let qa: Vec<f64> = q.iter().map(|&v| v.powf(-alpha)).collect();
    let t = dev.matvec(&qa.iter().map(|&v| v as f32).collect::<Vec<_>>())?;
    let mut w = Vec::with_capacity(n);
    let mut inv_sqrt_degree = Vec::with_capacity(n);
    for i in 0..n {
        let deg = qa[i] * f64::from(t[i]);
        if !(deg > 0.0 && deg.is_finite()) {
            return Err(Error::Degenerate(format!("degree of point {i} is {deg} after α-normalisation")));
        }
        let isd = 1.0 / deg.sqrt();
        inv_sqrt_degree.push(isd);
        w.push((qa[i] * isd) as f32);
    }
    dev.normalise(&w)?;
    Ok(Normalisation { inv_sqrt_degree, density: q })
}
