//! Step 9: the decision rule. Two networks are equivalent when each one's observations determine the
//! other's *everywhere on the inputs*: o_B = T(o_A) and o_A = T⁻¹(o_B) for some smooth T. The rule
//! tests that on held-out data, both ways — kernel ridge regressions o_A → o_B and o_B → o_A scored by
//! relative RMSE over `folds` cross-validation folds — and locally: the regions of
//! [`crate::pipeline::local`] where one network merges inputs the other tells apart.
//!
//! * *equivalent* — every fold predicts both ways within `predict_rmse`, no region is lost by either
//!   network, and the two d agree;
//! * *not equivalent* — some region is lost (a pooled error averages a loss on a fifth of the inputs
//!   away: measured 1.5–6.8 % for folds and constant zones that are plainly not equivalent), or every
//!   fold misses `predict_rmse` in some direction with that error settled;
//! * *inconclusive* — the folds disagree (the evidence really is borderline); the regressions fail but
//!   their error still falls clearly when the training set doubles, fast enough that at most
//!   `reachable` (100) times the data could bring it under the bound (under-sampled: an equivalent
//!   pair's error falls towards zero, a non-injective one's sits at a floor); or the regressions pass
//!   while the two networks' d differ.
//!
//! Every reason is labelled [`EVIDENCE`] (it decides), [`EXPLANATION`] (it says where or why and does
//! not vote) or [`CAVEAT`] (a limit of what a number can show), and none contradicts the verdict.
//!
//! Why not the transformation T = G_B ∘ Φ_A through the intrinsic coordinates, as the design first
//! said: measured on families of pairs with known answers (`netmatch bench verdicts`, BENCHMARKS.md)
//! its error is ≈ Lip(o_B∘ψ⁻¹)·‖ψ^A R − ψ^B‖, so nonlinear networks amplify the small chart mismatch
//! that finite sampling leaves between two embeddings, and cos-type coordinates have an infinite
//! inverse slope at a boundary; equivalent pairs then fail it. T, the matched |corr| of the aligned
//! coordinates and the spectra stay in the report and the reasons as explanation: they say *where*
//! two networks differ, and they are evidence when the embeddings are resolved, but they do not vote.
//! `predict_rmse` = 0.08 is the geometric midpoint of the populations a separate float64 study
//! measured (worst equivalent 0.046, best control 0.141; `method-notes.md` Q4), not a value fitted to
//! this project's suite. The reasons always carry the numbers that decided.

use crate::pipeline::local::{LocalThresholds, RegionFinding};

/// How many times the training data a failing regression would need to reach `target` if its error
/// fell to zero as a power law at the measured rate: err(n) = c·n^(−β) with 2^(−β) = `ratio` (full over
/// half training size) gives (err / target)^(1/β). Infinite when the error does not fall at all.
pub fn data_needed(err: f64, ratio: f64, target: f64) -> f64 {
    if !(ratio > 0.0 && ratio < 1.0) || !(err > target) {
        return if err > target { f64::INFINITY } else { 1.0 };
    }
    let beta = -ratio.log2();
    (err / target).powf(1.0 / beta)
}

/// The three outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Each network's observations predict the other's on held-out data.
    Equivalent,
    /// One does not determine the other, or the local geometry differs.
    NotEquivalent,
    /// The held-out folds disagree.
    Inconclusive,
}

impl Verdict {
    /// The report's spelling: `equivalent`, `not_equivalent`, `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Equivalent => "equivalent",
            Verdict::NotEquivalent => "not_equivalent",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Thresholds of the rule (CLI flags; `parameters.thresholds` in `report.json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    /// The deciding bound: held-out relative RMSE of the direct regressions, both ways, every fold.
    pub predict_rmse: f64,
    /// The local rule: regions where one network loses information the other keeps (see
    /// [`crate::pipeline::local`]).
    pub local: LocalThresholds,
    /// A failing direction counts as evidence only when its error has stopped falling with more
    /// data: full-size over half-size error at least this (a fall of under 10 % when the training
    /// set doubles). Below it the regression is under-sampled and the verdict `inconclusive` —
    /// unless it falls too slowly to matter (see `reachable`).
    pub converged: f64,
    /// A failing direction whose error still falls is evidence all the same when even the most
    /// hopeful extrapolation — a power law falling to zero at the measured rate, err ∝ n^(−β) with
    /// 2^(−β) = full / half — needs more than this many times the training data to reach
    /// `predict_rmse`: "collect two orders of magnitude more inputs" is no answer a user can act on,
    /// and a floor approached from above (a non-injective map's regression to the conditional mean)
    /// looks exactly like that.
    pub reachable: f64,
    /// Explanation only: T_AB and T_BA within this count as "T predicts".
    pub equivalent_rmse: f64,
    /// Explanation only: matched |corr| of the aligned coordinates below this is reported.
    pub equivalent_corr: f64,
    /// Explanation only: T above this is reported as failing.
    pub not_equivalent_rmse: f64,
    /// Explanation only: matched diffusion rates (−ln λ) differing by more than this are reported.
    pub spectrum_tol: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            predict_rmse: 0.08,
            local: LocalThresholds::default(),
            converged: 0.9,
            reachable: 100.0,
            equivalent_rmse: 0.02,
            equivalent_corr: 0.99,
            not_equivalent_rmse: 0.10,
            spectrum_tol: 0.25,
        }
    }
}

/// What the rule looks at.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// Per fold: held-out relative RMSE of the direct regressions (o_A → o_B, o_B → o_A).
    pub direct: Vec<(f64, f64)>,
    /// Learning-curve ratios (o_A → o_B, o_B → o_A): the first fold's error at full over half
    /// training size.
    pub learning: (f64, f64),
    /// Intrinsic dimension of A and B (the burst design's, or from their bursts or Jacobians).
    pub dims: (usize, usize),
    /// Whether each d is the burst design's (known) rather than an estimate.
    pub dims_known: (bool, bool),
    /// The regions where one network loses information the other keeps (local evidence).
    pub regions: Vec<RegionFinding>,
    /// Selected diffusion coordinates of A and B.
    pub coords: (usize, usize),
    /// Explanation: held-out relative RMSE of T_AB (predicting o_B from o_A through the coordinates).
    pub rmse_ab: f64,
    /// Explanation: the same for T_BA.
    pub rmse_ba: f64,
    /// Explanation: matched |corr| of the aligned coordinates.
    pub corr: Vec<f64>,
    /// Explanation: relative differences of the matched diffusion rates.
    pub rate_diffs: Vec<f64>,
    /// The sampling cannot reach the kernel's linear regime (see [`crate::pipeline::epsilon`]): the spectra and
    /// coordinates are then not evidence either way.
    pub under_resolved: bool,
}

/// The verdict of one fold's pair of RMSEs alone (what the stability report lists).
pub fn fold_verdict(ab: f64, ba: f64, t: &Thresholds) -> Verdict {
    if ab.max(ba) <= t.predict_rmse { Verdict::Equivalent } else { Verdict::NotEquivalent }
}

/// The label of a reason: what it is to the verdict above it.
pub const EVIDENCE: &str = "evidence: ";
/// Explains the verdict (or says where two networks differ) without voting.
pub const EXPLANATION: &str = "explanation: ";
/// A limit of what the numbers can show.
pub const CAVEAT: &str = "caveat: ";

fn region_reason(r: &RegionFinding) -> String {
    let other = r.network.other().name();
    let place = r.place.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
    format!(
        "{EVIDENCE}{} loses information on a region: on {:.1} % of the inputs ({} points){place} it {} — {other}'s \
         observations there are not a function of {}'s, however small the pooled error",
        r.network.name(),
        100.0 * r.fraction,
        r.points,
        r.loss.phrase(),
        r.network.name()
    )
}

/// Applies the rule; returns the verdict and its reasons, each labelled [`EVIDENCE`], [`EXPLANATION`]
/// or [`CAVEAT`]. No reason contradicts the verdict: what does not vote is labelled so, and a
/// diagnosis with a known failure mode is a caveat, not a fact.
pub fn decide(e: &Evidence, t: &Thresholds) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    let pct = |x: f64| format!("{:.2} %", 100.0 * x);
    // Local evidence: a region where one network merges what the other tells apart (or is constant,
    // or loses a direction) is a loss of information there, whatever the pooled error says.
    let local = !e.regions.is_empty();
    const LISTED: usize = 3;
    for r in e.regions.iter().take(LISTED) {
        reasons.push(region_reason(r));
    }
    if e.regions.len() > LISTED {
        let rest: f64 = e.regions[LISTED..].iter().map(|r| r.fraction).sum();
        reasons.push(format!(
            "{EVIDENCE}{} more such regions, {:.1} % of the inputs together (`local_disagreement` in report.npz)",
            e.regions.len() - LISTED,
            100.0 * rest
        ));
    }
    // A differing d: from the burst design it is a data error worth saying; estimated from the
    // bursts it can stem from a noisy burst, so it only keeps a pass from being `equivalent`.
    let dims_differ = e.dims.0 != e.dims.1;
    if dims_differ {
        let how = |known: bool| if known { "the burst design" } else { "the bursts" };
        reasons.push(format!(
            "{EVIDENCE}intrinsic dimensions differ: {} gives d = {} for A and {} gives d = {} for B",
            how(e.dims_known.0),
            e.dims.0,
            how(e.dims_known.1),
            e.dims.1
        ));
    }
    // Mutual predictability on held-out folds.
    let folds = e.direct.len().max(1);
    let worst = |pick: fn(&(f64, f64)) -> f64| e.direct.iter().map(pick).fold(0.0, f64::max);
    let best = |pick: fn(&(f64, f64)) -> f64| e.direct.iter().map(pick).fold(f64::INFINITY, f64::min);
    let (worst_ab, worst_ba) = (worst(|d| d.0), worst(|d| d.1));
    let (best_ab, best_ba) = (best(|d| d.0), best(|d| d.1));
    let fold_scores: Vec<f64> = e.direct.iter().map(|d| d.0.max(d.1)).collect();
    let all_ok = fold_scores.iter().all(|&s| s <= t.predict_rmse);
    let all_fail = fold_scores.iter().all(|&s| s > t.predict_rmse);
    // A failing direction whose error still falls clearly with more data is an under-sampled
    // regression, not evidence against equivalence (its floor is unknown).
    let fails = (best_ab > t.predict_rmse, best_ba > t.predict_rmse);
    let need = (data_needed(best_ab, e.learning.0, t.predict_rmse), data_needed(best_ba, e.learning.1, t.predict_rmse));
    let settles = |ratio: f64, need: f64| ratio >= t.converged || need > t.reachable;
    let settled = (fails.0 && settles(e.learning.0, need.0), fails.1 && settles(e.learning.1, need.1));
    let under_sampled = all_fail && !settled.0 && !settled.1;
    for (fail, ok, best, ratio, need, what, whom) in [
        (fails.0, settled.0, best_ab, e.learning.0, need.0, "o_A → o_B", "o_B is not determined by o_A"),
        (fails.1, settled.1, best_ba, e.learning.1, need.1, "o_B → o_A", "o_A is not determined by o_B"),
    ] {
        if fail && ok && ratio >= t.converged {
            reasons.push(format!(
                "{EVIDENCE}{whom}: held-out RMSE of {what} ≥ {} in all {folds} folds (> {}), at its floor (full / half \
                 training size {ratio:.2})",
                pct(best),
                pct(t.predict_rmse)
            ));
        } else if fail && ok {
            reasons.push(format!(
                "{EVIDENCE}{whom}: held-out RMSE of {what} ≥ {} in all {folds} folds (> {}); it still falls (full / half \
                 training size {ratio:.2}), but even falling to zero as a power law at that rate it would need {need:.1e} \
                 times the training data (> {:.0}) to reach {}",
                pct(best),
                pct(t.predict_rmse),
                t.reachable,
                pct(t.predict_rmse)
            ));
        } else if fail {
            reasons.push(format!(
                "{CAVEAT}{what} misses {} (≥ {} in all {folds} folds) but its error still falls with more data (full / \
                 half training size {ratio:.2} < {})",
                pct(t.predict_rmse),
                pct(best),
                t.converged
            ));
        }
    }
    if settled.0 != settled.1 && fails.0 != fails.1 {
        let (bad, good) = if settled.0 { ("A", "B") } else { ("B", "A") };
        reasons.push(format!(
            "{EXPLANATION}one-way: {bad}'s observations are predicted from {good}'s but not the reverse — {bad}'s \
             observation map is not injective: it merges inputs {good} tells apart (too few observed neurons? see the \
             Whitney sweep)"
        ));
    }
    let verdict = if local || (all_fail && !under_sampled) {
        Verdict::NotEquivalent
    } else if under_sampled {
        reasons.insert(
            0,
            format!(
                "{EVIDENCE}under-sampled: every fold misses {} but the held-out error still falls with more data, so \
                 its floor — zero for equivalent networks — is not reached at this N",
                pct(t.predict_rmse)
            ),
        );
        Verdict::Inconclusive
    } else if all_ok && dims_differ {
        reasons.insert(
            0,
            format!(
                "{EVIDENCE}o_A and o_B predict each other (held-out RMSE ≤ {} / {}), but the intrinsic dimensions \
                 disagree",
                pct(worst_ab),
                pct(worst_ba)
            ),
        );
        Verdict::Inconclusive
    } else if all_ok {
        reasons.insert(
            0,
            format!(
                "{EVIDENCE}o_A and o_B determine each other: held-out RMSE ≤ {} (o_A → o_B) and ≤ {} (o_B → o_A) in all \
                 {folds} folds (≤ {}), and no region of the inputs where either network merges what the other tells \
                 apart",
                pct(worst_ab),
                pct(worst_ba),
                pct(t.predict_rmse)
            ),
        );
        Verdict::Equivalent
    } else {
        reasons.insert(
            0,
            format!(
                "{EVIDENCE}borderline: the worse direction's held-out RMSE ranges over {} – {} across the {folds} folds, \
                 on both sides of {}",
                pct(fold_scores.iter().copied().fold(f64::INFINITY, f64::min)),
                pct(fold_scores.iter().copied().fold(0.0, f64::max)),
                pct(t.predict_rmse)
            ),
        );
        Verdict::Inconclusive
    };
    if local && all_ok {
        reasons.insert(
            0,
            format!(
                "{EVIDENCE}a loss of information confined to part of the inputs: the pooled held-out RMSE passes both \
                 ways (≤ {} / {} in all {folds} folds), but the local evidence below finds a region where one network \
                 is not a function of the other",
                pct(worst_ab),
                pct(worst_ba)
            ),
        );
    }
    // Explanations from the intrinsic coordinates: they do not vote, and under-resolved they are not
    // evidence of anything.
    if e.under_resolved {
        reasons.push(format!(
            "{CAVEAT}under-resolved: at this N no ε both samples enough neighbours and keeps the Mahalanobis \
             distance within its linear-regime budget, so the spectra, coordinates and T below are not evidence"
        ));
    }
    if e.coords.0 != e.coords.1 {
        reasons.push(format!("{EXPLANATION}A has {} selected diffusion coordinates, B has {}", e.coords.0, e.coords.1));
    }
    let t_note = if verdict == Verdict::Equivalent {
        " (T multiplies the chart mismatch of two finite embeddings by the networks' slopes; it explains and does \
         not vote)"
    } else {
        ""
    };
    for (name, r) in [("T_AB", e.rmse_ab), ("T_BA", e.rmse_ba)] {
        if r > t.not_equivalent_rmse {
            reasons.push(format!(
                "{EXPLANATION}{name} through the intrinsic coordinates: held-out RMSE {} (> {}){t_note}",
                pct(r),
                pct(t.not_equivalent_rmse)
            ));
        }
    }
    let worst_rate = e.rate_diffs.iter().copied().fold(0.0, f64::max);
    if worst_rate > t.spectrum_tol {
        reasons.push(format!(
            "{EXPLANATION}spectra differ: matched diffusion rates differ by up to {:.1} % (> {:.1} %)",
            100.0 * worst_rate,
            100.0 * t.spectrum_tol
        ));
    }
    let worst_corr = e.corr.iter().copied().fold(1.0, f64::min);
    if worst_corr < t.equivalent_corr {
        reasons.push(format!(
            "{EXPLANATION}smallest matched |corr| of the aligned coordinates {worst_corr:.4} < {}",
            t.equivalent_corr
        ));
    }
    (verdict, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(direct: f64, learning: f64) -> Evidence {
        Evidence {
            direct: vec![(0.01, direct); 5],
            learning: (0.5, learning),
            dims: (1, 1),
            dims_known: (false, false),
            regions: Vec::new(),
            coords: (2, 2),
            rmse_ab: 0.05,
            rmse_ba: 0.5,
            corr: vec![0.5],
            rate_diffs: vec![0.3],
            under_resolved: false,
        }
    }

    /// A region where B merges what A tells apart overrules a pooled error that passes both ways; the
    /// reasons name it and say that the pooled error passed, all labelled.
    #[test]
    fn a_region_overrules_a_passing_pooled_error() {
        use crate::pipeline::local::{Loss, Network};
        let t = Thresholds::default();
        let mut e = evidence(0.01, 0.5);
        (e.rmse_ba, e.corr, e.rate_diffs) = (0.01, vec![1.0], vec![0.0]);
        assert_eq!(decide(&e, &t).0, Verdict::Equivalent);
        e.regions = vec![RegionFinding {
            network: Network::B,
            loss: Loss::Merges,
            points: 120,
            fraction: 0.08,
            place: Some("x ∈ [0.900, 1.000]".into()),
        }];
        let (v, reasons) = decide(&e, &t);
        assert_eq!(v, Verdict::NotEquivalent, "{reasons:?}");
        assert!(reasons[0].starts_with("evidence: a loss of information confined"), "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("8.0 % of the inputs") && r.contains("x ∈ [0.900, 1.000]")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().all(|r| [EVIDENCE, EXPLANATION, CAVEAT].iter().any(|l| r.starts_with(l))),
            "{reasons:?}"
        );
    }

    /// The power-law extrapolation: a slowly falling failure far above the bound is evidence (the
    /// horse demo's seed-1 control: 51.5 % falling by 10 % per doubling needs ≈ 10⁵ times the data),
    /// a failure near the bound that falls fast stays under-sampled, one at its floor is evidence.
    #[test]
    fn slow_falls_far_above_the_bound_are_evidence() {
        let t = Thresholds::default();
        let need = data_needed(0.515, 0.8987, 0.08);
        assert!((1e5..1e6).contains(&need), "{need:e}");
        assert!((data_needed(0.10, 0.7, 0.08) - 1.54).abs() < 0.05);
        assert_eq!(data_needed(0.5, 1.01, 0.08), f64::INFINITY);
        assert_eq!(data_needed(0.05, 0.5, 0.08), 1.0);
        let (v, reasons) = decide(&evidence(0.515, 0.8987), &t);
        assert_eq!(v, Verdict::NotEquivalent, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("times the training data")), "{reasons:?}");
        let (v, reasons) = decide(&evidence(0.10, 0.7), &t);
        assert_eq!(v, Verdict::Inconclusive, "{reasons:?}");
        let (v, reasons) = decide(&evidence(0.5, 0.95), &t);
        assert_eq!(v, Verdict::NotEquivalent, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("at its floor")), "{reasons:?}");
    }
}
