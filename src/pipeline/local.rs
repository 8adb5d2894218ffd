//! Local evidence: *where* on the inputs two networks differ. Equivalence is a statement about every
//! region of the input — a map that works on 80 % of the inputs and fails on the rest is no
//! equivalence — while a pooled regression error averages a loss confined to a region away (a fold on
//! a fifth of an interval gave 1.5–6.8 % pooled, under any sensible bound). So the rule also asks, at
//! every base point, whether the two networks agree on what is *near* it.
//!
//! Both networks' Mahalanobis distances (from their own bursts, [`crate::pipeline::kernel::distance2`])
//! approximate the same thing for neighbouring points: the distance of the underlying inputs. So two
//! equivalent networks have the same nearest neighbours at every point, whatever their own
//! distortions. Where B merges inputs that A tells apart (B folds, is constant, or ignores a direction
//! there) B's nearest neighbours of a point include inputs that A places far away. Per point i:
//!
//! * `merge_b(i)` = the fraction of B's k nearest neighbours j (k = 10) with
//!   d_A(i, j) > 3 · max(ρ_A(i), ρ_B(i)) in *both* ends' metrics (`nearer_side`), ρ_X(i) being X's
//!   own distance to its k-th nearest neighbour (both in input units; see `merge_fractions` for why
//!   the larger); likewise `merge_a`. Equivalent networks give ≈ 0 (a neighbour three times farther
//!   than the k-th is 3^d·k neighbours away in the other metric); a fold gives ≈ ½ (both branches are B-neighbours at the
//!   same density: each branch is locally isometric to its inputs in B's Mahalanobis metric); a
//!   constant or blind region gives ≈ 1 − k/(its size).
//! * `constant_b(i)`: B does not vary at all under its burst at i (rank 0) where A does — exact
//!   evidence, whatever the neighbours say. A burst rank that is merely *below* d is not: a weak but
//!   genuine direction buried under the curvature of the strong ones reads the same (measured: 17 of
//!   2500 points of an injective tanh network of a box, 12 of them connected); where a network really
//!   ignores a direction, its neighbours show it (d = 0 along it). Such a rank only labels a region.
//!
//! A point is *flagged* for B when `merge_b ≥` 0.3 (3 of 10) or `constant_b`. A single flagged point
//! is noise (a misread burst, a point outside the others' hull); a loss of information occupies a
//! region, so flagged points count only as connected components of the union of both networks'
//! k-nearest-neighbour graphs holding at least 10 points. Why that suffices: if chance flags hit each point
//! independently with probability p, a component of s flagged points in a graph of degree ≈ 2k
//! appears about N·(2kp)^(s−1) times, ≈ 5·10⁻³ at N = 10⁴, p = 1 %, s = 10 (the equivalent pairs of the
//! verdict suite flag at most 0.7 % of their points, scattered). What this can see is bounded twice:
//! by the count (10 flagged points) and by distance — a merged pair must lie 3 neighbour radii apart,
//! so a fold whose folded strip is narrower than ≈ 1.5 radii is invisible (in d = 2 at N = 1500 the
//! radius is ≈ 4 % of the unit side). `netmatch bench resolution` measures it; BENCHMARKS.md has the
//! table.
//!
//! Cost: the neighbour search is one pass of d² row blocks per network through the CPU twin's tiled
//! products ([`crate::cpu::kernel_gemm`], f32, used here for ranking only), O(N²·D·r); the distances
//! that decide (d_A of B's neighbours) are recomputed in f64.

use rayon::prelude::*;

use crate::backend::GeometryF32;
use crate::cpu::kernel_gemm::{GemmGeometry, Scratch, TILE};
use crate::pipeline::covariance::LocalGeometry;
use crate::pipeline::kernel::distance2;

/// The local rule's settings (`parameters.thresholds.local` in `report.json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalThresholds {
    /// k: neighbours compared per point.
    pub neighbours: usize,
    /// A neighbour counts as far in the other network beyond this multiple of that network's own
    /// k-th neighbour distance.
    pub far: f64,
    /// A point is flagged when at least this fraction of one network's neighbours are far in the
    /// other: half-way between equivalence (≈ 0) and a fold's two overlaid branches (≈ ½), rounded up
    /// to 3 of 10.
    pub flag: f64,
    /// Fewest connected flagged points that make a region (see the module doc).
    pub min_region: usize,
}

impl Default for LocalThresholds {
    fn default() -> Self {
        LocalThresholds { neighbours: 10, far: 3.0, flag: 0.3, min_region: 10 }
    }
}

/// One network's k nearest neighbours of every point by its own Mahalanobis distance.
#[derive(Clone, Debug)]
pub struct Neighbours {
    /// Point-major, k indices per point, nearest first.
    pub index: Vec<usize>,
    /// Distance (not squared) to the k-th neighbour, per point.
    pub radius: Vec<f64>,
    /// k.
    pub k: usize,
}

impl Neighbours {
    /// The neighbours of point i.
    pub fn of(&self, i: usize) -> &[usize] {
        &self.index[i * self.k..(i + 1) * self.k]
    }
}

/// The k nearest neighbours (excluding the point itself) of every point of `g`.
pub fn neighbours(g: &LocalGeometry, k: usize) -> Neighbours {
    let n = g.n;
    let k = k.min(n.saturating_sub(1)).max(1);
    let gemm = GemmGeometry::new(&GeometryF32::from(g));
    let blocks: Vec<usize> = (0..n).step_by(TILE).collect();
    let per_block: Vec<(Vec<usize>, Vec<f64>)> = blocks
        .par_iter()
        .map_init(Scratch::default, |scratch, &i0| {
            let ri = i0..(i0 + TILE).min(n);
            let bi = ri.len();
            let mut rows = vec![0.0f32; bi * n];
            let mut tile = vec![0.0f32; bi * TILE];
            for j0 in (0..n).step_by(TILE) {
                let rj = j0..(j0 + TILE).min(n);
                let bj = rj.len();
                gemm.tile(ri.clone(), rj, None, scratch, &mut tile, bj);
                for li in 0..bi {
                    rows[li * n + j0..li * n + j0 + bj].copy_from_slice(&tile[li * bj..(li + 1) * bj]);
                }
            }
            let mut index = Vec::with_capacity(bi * k);
            let mut radius = Vec::with_capacity(bi);
            let mut cand: Vec<(f32, usize)> = Vec::with_capacity(n);
            for li in 0..bi {
                let i = i0 + li;
                cand.clear();
                cand.extend(
                    rows[li * n..(li + 1) * n]
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .map(|(j, &d)| (d.max(0.0), j)),
                );
                cand.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let near = &mut cand[..k];
                near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                index.extend(near.iter().map(|c| c.1));
                // The radius that decides is recomputed in f64 (the tiles are f32, for ranking).
                radius.push(distance2(g, i, near[k - 1].1).max(0.0).sqrt());
            }
            (index, radius)
        })
        .collect();
    let mut index = Vec::with_capacity(n * k);
    let mut radius = Vec::with_capacity(n);
    for (i, r) in per_block {
        index.extend(i);
        radius.extend(r);
    }
    Neighbours { index, radius, k }
}

/// Which network a region belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Network {
    /// Network A.
    A,
    /// Network B.
    B,
}

impl Network {
    /// "A" or "B".
    pub fn name(self) -> &'static str {
        match self {
            Network::A => "A",
            Network::B => "B",
        }
    }
    /// The other network.
    pub fn other(self) -> Network {
        match self {
            Network::A => Network::B,
            Network::B => Network::A,
        }
    }
}

/// How a network loses information on a region (the majority of its points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Its nearest neighbours include inputs the other network places far away (a fold, a merge).
    Merges,
    /// It merges inputs, and its bursts read fewer than d directions there (where the other network's
    /// do not): it ignores an input direction.
    LosesDirection,
    /// It does not vary at all under its bursts there (rank 0).
    Constant,
}

impl Loss {
    /// The phrase for a reason.
    pub fn phrase(self) -> &'static str {
        match self {
            Loss::Merges => {
                "merges inputs that the other network tells apart — it is not injective there (a fold or a many-to-one map)"
            }
            Loss::LosesDirection => {
                "ignores an input direction (it merges inputs, and its bursts read fewer than d directions)"
            }
            Loss::Constant => "is locally constant (its bursts do not vary)",
        }
    }
}

/// A connected set of flagged points: a region of the inputs where one network loses information
/// that the other keeps.
#[derive(Clone, Debug)]
pub struct Region {
    /// The network that loses the information.
    pub network: Network,
    /// How.
    pub loss: Loss,
    /// Its points (sorted).
    pub points: Vec<usize>,
}

/// A region as the verdict and `report.json` state it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegionFinding {
    /// The network that loses the information.
    pub network: Network,
    /// How.
    pub loss: Loss,
    /// Its number of points.
    pub points: usize,
    /// Its share of the base inputs.
    pub fraction: f64,
    /// Where, in the inputs' words (see [`describe`]); `None` without inputs.
    pub place: Option<String>,
}

/// The per-point evidence of two networks on the same base inputs.
#[derive(Clone, Debug)]
pub struct LocalEvidence {
    /// Per point: the fraction of A's k nearest neighbours that B places beyond `far` × its own
    /// k-th-neighbour distance (A merges what B tells apart).
    pub merge_a: Vec<f64>,
    /// The same for B's neighbours in A's distances.
    pub merge_b: Vec<f64>,
    /// Per point: A is locally constant (burst rank 0) while B varies.
    pub constant_a: Vec<bool>,
    /// Per point: B is locally constant while A varies.
    pub constant_b: Vec<bool>,
    /// Per point: A's burst rank is below its d while B's is not (labels a region; does not flag).
    pub lost_a: Vec<bool>,
    /// Per point: B's burst rank is below its d while A's is not.
    pub lost_b: Vec<bool>,
    /// The regions found (largest first).
    pub regions: Vec<Region>,
    /// The settings it was computed with.
    pub params: LocalThresholds,
}

impl LocalEvidence {
    /// Per point disagreement in [0, 1]: the larger of the two merge fractions, 1 where one network
    /// is locally constant and the other is not.
    pub fn disagreement(&self) -> Vec<f64> {
        (0..self.merge_a.len())
            .map(|i| {
                let constant = if self.constant_a[i] || self.constant_b[i] { 1.0 } else { 0.0 };
                self.merge_a[i].max(self.merge_b[i]).max(constant)
            })
            .collect()
    }
    /// Whether point i is flagged for network `x`.
    pub fn flagged(&self, x: Network, i: usize) -> bool {
        match x {
            Network::A => self.merge_a[i] >= self.params.flag || self.constant_a[i],
            Network::B => self.merge_b[i] >= self.params.flag || self.constant_b[i],
        }
    }
    /// Fraction of the points that lie in some region of network `x`.
    pub fn region_fraction(&self, x: Network) -> f64 {
        let n = self.merge_a.len().max(1);
        self.regions.iter().filter(|r| r.network == x).map(|r| r.points.len()).sum::<usize>() as f64 / n as f64
    }
    /// The regions as findings, placed by `inputs` when given.
    pub fn findings(&self, inputs: Option<&ndarray::Array2<f64>>) -> Vec<RegionFinding> {
        let n = self.merge_a.len().max(1) as f64;
        self.regions
            .iter()
            .map(|r| RegionFinding {
                network: r.network,
                loss: r.loss,
                points: r.points.len(),
                fraction: r.points.len() as f64 / n,
                place: describe(&r.points, inputs),
            })
            .collect()
    }

    /// Fraction of the points flagged for network `x` (in a region or not).
    pub fn flagged_fraction(&self, x: Network) -> f64 {
        let n = self.merge_a.len();
        (0..n).filter(|&i| self.flagged(x, i)).count() as f64 / n.max(1) as f64
    }
}

/// The fraction of `own`'s neighbours of each point that `other` places beyond `far` × the larger of
/// the two networks' k-th neighbour distances there (f64 distances of `other`).
///
/// Why the larger: both Mahalanobis distances are in input units, so the two radii agree for
/// equivalent networks; where one network is many-to-one its own radius shrinks (a fold covers the
/// same observations three times, a constant zone has radius 0), and measuring the *other* network's
/// neighbours against that small radius would blame the injective network for the loss.
fn merge_fractions(own: &Neighbours, other: &Neighbours, other_g: &LocalGeometry, far: f64) -> Vec<f64> {
    let n = other_g.n;
    (0..n)
        .into_par_iter()
        .map(|i| {
            let limit = far * other.radius[i].max(own.radius[i]);
            let far = own.of(i).iter().filter(|&&j| nearer_side(other_g, i, j).sqrt() > limit).count();
            far as f64 / own.k as f64
        })
        .collect()
}

/// The smaller of the two one-sided squared distances of a pair, each end's metric alone: "far" must
/// hold in both ends' metrics. Where a network's sensitivity changes abruptly (the edge of a zone
/// where it ignores a direction) one end's metric inflates a short step — the Mahalanobis distance is
/// outside its linear regime there — and the symmetric mean would call a genuine neighbour far and
/// blame the other network.
fn nearer_side(g: &LocalGeometry, i: usize, j: usize) -> f64 {
    let (oi, oj) = (g.point(i), g.point(j));
    let delta: Vec<f64> = oi.iter().zip(oj).map(|(a, b)| a - b).collect();
    one_sided(g, i, &delta).min(one_sided(g, j, &delta))
}

/// ‖U_pᵀδ‖² + w_p‖(I − V_pV_pᵀ)δ‖² over point p's *own* tangent directions only: where the common
/// rank r (the burst design's d) exceeds p's own burst rank, the extra columns of U_p invert
/// curvature, not a direction of the input (a network that ignores x₃ there still has a third burst
/// eigenvalue, its curvature's), so they move to the normal part, weighted like p's weakest own
/// direction (ν/λ, as in [`crate::pipeline::covariance`]).
fn one_sided(g: &LocalGeometry, p: usize, delta: &[f64]) -> f64 {
    let r = g.rank;
    let own = g.point_ranks[p].min(r);
    if own == 0 {
        return 0.0;
    }
    let (u, v) = (g.factor(p), g.tangent(p));
    let col = |s: usize| (0..g.dim).map(|c| u[c * r + s] * u[c * r + s]).sum::<f64>();
    let (mut metric, mut tangent) = (0.0, 0.0);
    for s in 0..own {
        let (mut a, mut b) = (0.0, 0.0);
        for (c, d) in delta.iter().enumerate() {
            a += u[c * r + s] * d;
            b += v[c * r + s] * d;
        }
        metric += a * a;
        tangent += b * b;
    }
    let dd: f64 = delta.iter().map(|d| d * d).sum();
    // w_p was set from the weakest kept column; rescale it to the weakest own one (‖U_s‖² ∝ 1/λ_s).
    let kept = (0..r).rev().find(|&s| col(s) > 0.0).unwrap_or(0);
    let w = if own - 1 < kept && col(kept) > 0.0 {
        g.normal_weights[p] * col(own - 1) / col(kept)
    } else {
        g.normal_weights[p]
    };
    metric + w * (dd - tangent).max(0.0)
}

/// Computes the per-point evidence and the regions of two networks' local geometries on the same
/// base inputs; `dims` are the d each network is held to (its burst ranks below it are losses).
pub fn local_evidence(
    ga: &LocalGeometry,
    gb: &LocalGeometry,
    dims: (usize, usize),
    t: &LocalThresholds,
) -> LocalEvidence {
    let n = ga.n;
    let (na, nb) = rayon::join(|| neighbours(ga, t.neighbours), || neighbours(gb, t.neighbours));
    let merge_a = merge_fractions(&na, &nb, gb, t.far);
    let merge_b = merge_fractions(&nb, &na, ga, t.far);
    let (ra, rb) = (&ga.point_ranks, &gb.point_ranks);
    let lost_a: Vec<bool> = (0..n).map(|i| ra[i] < dims.0 && rb[i] >= dims.1).collect();
    let lost_b: Vec<bool> = (0..n).map(|i| rb[i] < dims.1 && ra[i] >= dims.0).collect();
    let constant_a: Vec<bool> = (0..n).map(|i| ra[i] == 0 && rb[i] > 0).collect();
    let constant_b: Vec<bool> = (0..n).map(|i| rb[i] == 0 && ra[i] > 0).collect();
    // The union of both k-NN graphs, symmetrised.
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for g in [&na, &nb] {
        for i in 0..n {
            for &j in g.of(i) {
                adj[i].push(j);
                adj[j].push(i);
            }
        }
    }
    let mut ev = LocalEvidence {
        merge_a,
        merge_b,
        constant_a,
        constant_b,
        lost_a,
        lost_b,
        regions: Vec::new(),
        params: t.clone(),
    };
    let mut regions = Vec::new();
    for x in [Network::A, Network::B] {
        let mut seen = vec![false; n];
        for s in 0..n {
            if seen[s] || !ev.flagged(x, s) {
                continue;
            }
            let mut comp = vec![s];
            seen[s] = true;
            let mut at = 0;
            while at < comp.len() {
                let i = comp[at];
                at += 1;
                for &j in &adj[i] {
                    if !seen[j] && ev.flagged(x, j) {
                        seen[j] = true;
                        comp.push(j);
                    }
                }
            }
            if comp.len() >= t.min_region {
                comp.sort_unstable();
                let ranks = match x {
                    Network::A => ra,
                    Network::B => rb,
                };
                let lost = match x {
                    Network::A => &ev.lost_a,
                    Network::B => &ev.lost_b,
                };
                let constant = comp.iter().filter(|&&i| ranks[i] == 0).count();
                let lost = comp.iter().filter(|&&i| lost[i]).count();
                // Rank 0 is exact: a quarter of the region's points not varying at all names it.
                let loss = if 4 * constant >= comp.len() {
                    Loss::Constant
                } else if 2 * lost > comp.len() {
                    Loss::LosesDirection
                } else {
                    Loss::Merges
                };
                regions.push(Region { network: x, loss, points: comp });
            }
        }
    }
    regions.sort_by(|a, b| b.points.len().cmp(&a.points.len()));
    ev.regions = regions;
    ev
}

/// Where a region lies, in the words of the inputs when they are known: per input column whose range
/// over the region is less than 90 % of its range over all points, "x₁ ∈ [lo, hi]".
pub fn describe(points: &[usize], inputs: Option<&ndarray::Array2<f64>>) -> Option<String> {
    let x = inputs?;
    let subs = ['₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    let mut parts = Vec::new();
    for c in 0..x.ncols() {
        let col = x.column(c);
        let (lo_all, hi_all) = col.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let (lo, hi) =
            points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &i| (l.min(x[[i, c]]), h.max(x[[i, c]])));
        if hi_all > lo_all && (hi - lo) < 0.9 * (hi_all - lo_all) {
            let name = match subs.get(c) {
                Some(s) if x.ncols() > 1 => format!("x{s}"),
                Some(_) => "x".to_string(),
                None => format!("x[{c}]"),
            };
            parts.push(format!("{name} ∈ [{lo:.3}, {hi:.3}]"));
        }
    }
    if parts.is_empty() { Some("spread over the inputs' range".into()) } else { Some(parts.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{LocalSource, Observations};
    use crate::pipeline::covariance::{CovarianceParams, local_geometry};
    use crate::rng::Rng;
    use ndarray::{Array2, Array3};

    /// Observations of a curve x ↦ f(x) on [0, 1] with Gaussian bursts.
    fn curve(f: &dyn Fn(f64) -> Vec<f64>, n: usize, seed: u64) -> Observations {
        let mut rng = Rng::new(seed);
        let xs: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let dim = f(0.5).len();
        let (m, sigma) = (24, 0.005);
        let obs = Array2::from_shape_fn((n, dim), |(i, c)| f(xs[i])[c]);
        let mut b = Array3::zeros((n, m, dim));
        for i in 0..n {
            for s in 0..m {
                let o = f(xs[i] + sigma * rng.normal());
                for c in 0..dim {
                    b[[i, s, c]] = o[c];
                }
            }
        }
        let inputs = Array2::from_shape_fn((n, 1), |(i, _)| xs[i]);
        Observations::new(obs, LocalSource::Bursts(b), sigma, Some(inputs)).expect("valid")
    }

    fn geometry(o: &Observations) -> LocalGeometry {
        let p = CovarianceParams { normal_weight: 3.0, wishart: true, rank: Some(1), ..Default::default() };
        local_geometry(o, &p).expect("geometry")
    }

    /// Two injective curves of one input: no region. The same curve with its last fifth folded back:
    /// a region of B's, inside x ∈ [0.6, 1]; constant on a tenth: a region of B's, `Constant`.
    #[test]
    fn a_fold_on_a_fifth_is_a_region_and_equivalence_is_none() {
        let n = 800;
        let a = curve(&|x| vec![x, (3.0 * x).sin(), (2.0 * x).cos()], n, 1);
        let b = curve(&|x| vec![(x + 0.3 * x * x).tanh(), x * x, (1.0 + x).ln()], n, 1);
        let (ga, gb) = (geometry(&a), geometry(&b));
        let ev = local_evidence(&ga, &gb, (1, 1), &LocalThresholds::default());
        assert!(
            ev.regions.is_empty(),
            "equivalent curves gave regions {:?}",
            ev.regions.iter().map(|r| r.points.len()).collect::<Vec<_>>()
        );
        assert!(ev.flagged_fraction(Network::B) < 0.01 && ev.flagged_fraction(Network::A) < 0.01);

        let fold = |x: f64| if x > 0.8 { 1.6 - x } else { x };
        let c = curve(&|x| vec![(fold(x) + 0.3 * fold(x).powi(2)).tanh(), fold(x).powi(2), (1.0 + fold(x)).ln()], n, 1);
        let gc = geometry(&c);
        let ev = local_evidence(&ga, &gc, (1, 1), &LocalThresholds::default());
        let b_regions: Vec<&Region> = ev.regions.iter().filter(|r| r.network == Network::B).collect();
        assert!(!b_regions.is_empty(), "the fold was not found");
        assert!(ev.regions.iter().all(|r| r.network == Network::B), "A is injective");
        let x = a.inputs.as_ref().expect("inputs");
        let pts: Vec<usize> = b_regions.iter().flat_map(|r| r.points.iter().copied()).collect();
        assert!(pts.iter().all(|&i| x[[i, 0]] > 0.55), "region outside the fold");
        assert!(ev.region_fraction(Network::B) > 0.15, "fold region {}", ev.region_fraction(Network::B));

        let flat = |x: f64| if (0.3..0.4).contains(&x) { 0.3 } else { x };
        let d = curve(&|x| vec![(flat(x) + 0.3 * flat(x).powi(2)).tanh(), flat(x).powi(2), (1.0 + flat(x)).ln()], n, 1);
        let gd = geometry(&d);
        let ev = local_evidence(&ga, &gd, (1, 1), &LocalThresholds::default());
        let r = ev.regions.first().expect("the constant zone was not found");
        assert_eq!((r.network, r.loss), (Network::B, Loss::Constant));
        let x = a.inputs.as_ref().expect("inputs");
        assert!(r.points.iter().all(|&i| (0.28..0.42).contains(&x[[i, 0]])), "{:?}", describe(&r.points, Some(x)));
        assert!(describe(&r.points, Some(x)).is_some_and(|s| s.starts_with("x ∈ [0.")));
    }
}
