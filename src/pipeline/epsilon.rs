//! The linear-regime ε rule that `compare` uses: the largest kernel bandwidth at which the Mahalanobis
//! d² still approximates the input distance, judged by two diagnostics the observations carry
//! themselves — no ground truth, no fixed place on Singer's plateau.
//!
//! The Mahalanobis d² is exact only while the observation map is linear over the kernel width. Two
//! kernel-weighted averages over pairs show where that stops (a separate float64 study measured
//! Spearman 0.94 between their budget and the true d² error, `method-notes.md` Q2):
//! * the normal fraction n_ij = ½(n_i + n_j), n_i = ‖(I − V_iV_iᵀ)δ‖²/‖δ‖²: ≈ κ²h²/4 for genuine
//!   neighbours at distance h on a manifold of curvature κ, ≈ 1 for a chord that leaves the tangent
//!   spaces (a short-cut); the d² error from curvature is ≈ n̄/3;
//! * the asymmetry a_ij = (A_ij − A_ji)/(A_ij + A_ji), A_ij = ‖U_iᵀδ‖²: the two end points' metrics
//!   disagree when the network's stretch changes over the pair; its RMS a grows as the metric stops
//!   being locally constant, with an error of ≈ 0.6(a² − a₀²), where a₀ is the floor that finite
//!   bursts leave among the nearest neighbours.
//!
//! The budget e(ε) = n̄/3 + 0.6·max(a² − a₀², 0) is taken at every ε of a log grid; ε_samp is the
//! smallest ε at which a point has [`MIN_NEIGHBOURS`] kernel-weighted neighbours (below it the kernel
//! samples nothing), and ε_lin the largest ε above ε_samp before e first exceeds [`BUDGET`]. When
//! e(ε_samp) already exceeds the budget the data are **under-resolved**: the sampling cannot reach the
//! linear regime, so spectra and coordinates are not evidence (ε_samp is used and the report says
//! so). Pairs where either point is locally constant are left out (their metric is undefined).

use rayon::prelude::*;

use crate::pipeline::covariance::LocalGeometry;
use crate::pipeline::kernel::pair_terms;
use crate::rng::Rng;

/// Points sampled for the diagnostics (pairs among them).
pub const SAMPLE: usize = 1500;
/// The d² error budget τ (0.5 %).
pub const BUDGET: f64 = 0.005;
/// Kernel-weighted neighbours per point below which ε under-samples.
pub const MIN_NEIGHBOURS: f64 = 10.0;
const GRID: usize = 96;

/// Per-pair quantities on the sample, binned by d² (the kernel weight depends on a pair only through
/// d²): every ε then costs one pass over [`BINS`] bins, not over a million pairs.
#[derive(Clone, Debug)]
pub struct PairStats {
    /// Per bin: (pairs, Σ d², Σ n, Σ a²).
    bins: Vec<(f64, f64, f64, f64)>,
    lo: f64,
    hi: f64,
    /// Points sampled.
    pub sample: usize,
    /// Points in the data.
    pub n: usize,
}

/// Log-spaced d² bins of [`PairStats`] (relative width ≈ 0.5 % over 10 decades: a weight error far
/// below the diagnostics' own sampling noise).
pub const BINS: usize = 4096;

/// The diagnostics at one ε.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diagnostics {
    /// ε.
    pub eps: f64,
    /// Kernel-weighted mean normal fraction n̄.
    pub normal: f64,
    /// Kernel-weighted mean squared asymmetry a².
    pub asym2: f64,
    /// Kernel-weighted neighbours per point (in the full data).
    pub neighbours: f64,
}

/// The linear-regime check of one network (or of a shared ε).
#[derive(Clone, Debug)]
pub struct LinearCheck {
    /// Smallest ε with [`MIN_NEIGHBOURS`] neighbours.
    pub eps_samp: f64,
    /// Largest ε within the budget (≤ ε_samp when under-resolved).
    pub eps_lin: f64,
    /// The asymmetry floor a₀² (at ε_samp).
    pub asym2_floor: f64,
    /// e(ε_samp) > budget: the sampling cannot reach the linear regime.
    pub under_resolved: bool,
}

/// Builds the pair statistics of `g` on a seeded subsample.
pub fn pair_stats(g: &LocalGeometry, seed: u64) -> PairStats {
    let idx: Vec<usize> =
        Rng::new(seed ^ 0x11ea7).sample_indices(g.n, SAMPLE).into_iter().filter(|&i| g.point_ranks[i] > 0).collect();
    let rows: Vec<Vec<(f64, f64, f64)>> = idx
        .par_iter()
        .enumerate()
        .map(|(a, &i)| {
            let mut out = Vec::with_capacity(idx.len() - a - 1);
            for &j in &idx[a + 1..] {
                let t = pair_terms(g, i, j);
                if t.dd <= 0.0 {
                    continue;
                }
                let ni = ((t.dd - t.tangent_i) / t.dd).clamp(0.0, 1.0);
                let nj = ((t.dd - t.tangent_j) / t.dd).clamp(0.0, 1.0);
                let (m_ij, m_ji) = (t.metric_i, t.metric_j);
                let asym = if m_ij + m_ji > 0.0 { (m_ij - m_ji) / (m_ij + m_ji) } else { 0.0 };
                out.push((t.distance2(g.normal_weights[i], g.normal_weights[j]), 0.5 * (ni + nj), asym * asym));
            }
            out
        })
        .collect();
    let positive = || rows.iter().flatten().map(|p| p.0).filter(|&d| d > 0.0);
    let lo = positive().fold(f64::INFINITY, f64::min);
    let hi = positive().fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (1.0, 2.0) };
    let mut bins = vec![(0.0, 0.0, 0.0, 0.0); BINS];
    let scale = (BINS - 1) as f64 / (hi / lo).ln();
    for &(d2, n, a) in rows.iter().flatten() {
        let b = if d2 > 0.0 { (((d2 / lo).ln() * scale).round().max(0.0) as usize).min(BINS - 1) } else { 0 };
        let e = &mut bins[b];
        e.0 += 1.0;
        e.1 += d2;
        e.2 += n;
        e.3 += a;
    }
    PairStats { bins, lo, hi, sample: idx.len(), n: g.n }
}

impl PairStats {
    /// The diagnostics at `eps`.
    pub fn at(&self, eps: f64) -> Diagnostics {
        let (mut w, mut wn, mut wa) = (0.0, 0.0, 0.0);
        for &(count, sum_d2, sum_n, sum_a) in &self.bins {
            if count > 0.0 {
                let k = (-(sum_d2 / count) / eps).exp();
                w += k * count;
                wn += k * sum_n;
                wa += k * sum_a;
            }
        }
        let s = self.sample.max(2) as f64;
        // Each pair is a neighbour of both its points; scaled from the sample to all N points.
        let neighbours = 2.0 * w / s * (self.n as f64 - 1.0) / (s - 1.0);
        let (normal, asym2) = if w > 0.0 { (wn / w, wa / w) } else { (0.0, 0.0) };
        Diagnostics { eps, normal, asym2, neighbours }
    }

    /// The budget e(ε) = n̄/3 + 0.6·max(a² − a₀², 0).
    pub fn error(&self, eps: f64, asym2_floor: f64) -> f64 {
        let d = self.at(eps);
        d.normal / 3.0 + 0.6 * (d.asym2 - asym2_floor).max(0.0)
    }

    /// The log grid of ε the rule scans: from well below the closest pairs to past the farthest.
    fn grid(&self) -> Vec<f64> {
        let (lo, hi) = (self.lo * 0.1, self.hi * 10.0);
        (0..GRID).map(|k| (lo.ln() + (hi / lo).ln() * k as f64 / (GRID - 1) as f64).exp()).collect()
    }

    /// ε_samp, ε_lin and the floor (module doc).
    pub fn check(&self) -> LinearCheck {
        let grid = self.grid();
        let samp = grid.iter().position(|&e| self.at(e).neighbours >= MIN_NEIGHBOURS).unwrap_or(grid.len() - 1);
        let eps_samp = grid[samp];
        let floor = self.at(eps_samp).asym2;
        if self.error(eps_samp, floor) > BUDGET {
            return LinearCheck { eps_samp, eps_lin: eps_samp, asym2_floor: floor, under_resolved: true };
        }
        let mut lin = samp;
        while lin + 1 < grid.len() && self.error(grid[lin + 1], floor) <= BUDGET {
            lin += 1;
        }
        // Refine the crossing between two grid points by bisection in log ε.
        let (mut lo, mut hi) = (grid[lin], grid.get(lin + 1).copied().unwrap_or(grid[lin]));
        for _ in 0..12 {
            let mid = (lo * hi).sqrt();
            if self.error(mid, floor) <= BUDGET {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        LinearCheck { eps_samp, eps_lin: lo, asym2_floor: floor, under_resolved: false }
    }
}
