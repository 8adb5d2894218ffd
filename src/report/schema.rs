//! `report.json` as types: [`Report`] is the file (schema version [`SCHEMA_VERSION`]), built from a
//! [`Comparison`], its parameters and the run; [`ComparisonReport`] is the part a comparison alone
//! determines (also what the verdict suite records per case). Both serialise with serde and read back
//! with `serde_json::from_str::<Report>`, so a Rust or Python caller gets the same fields the file
//! documents (README, "report.json schema"). The field names are the schema: renaming one is a
//! schema change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pipeline::compare::{CompareParams, Comparison};
use crate::pipeline::embed::Embedding;
use crate::pipeline::epsilon::BUDGET;
use crate::pipeline::kernel::EpsilonChoice;
use crate::pipeline::local::{Network, RegionFinding};
use crate::pipeline::verdict::{Thresholds, fold_verdict};
use crate::pipeline::whitney::SweepPoint;

/// Version of the `report.json` schema. Version 1 gained the `warnings` list (an addition: readers of
/// version 1 files see it as absent).
pub const SCHEMA_VERSION: u32 = 1;

/// One value per network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerNetwork<T> {
    /// Network A.
    pub a: T,
    /// Network B.
    pub b: T,
}

impl<T> From<(T, T)> for PerNetwork<T> {
    fn from((a, b): (T, T)) -> Self {
        PerNetwork { a, b }
    }
}

/// A network's own ε choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpsilonReport {
    /// `linear` (auto), `median` or `fixed`.
    pub rule: String,
    /// The value.
    pub eps: f64,
    /// Singer's log-log slope, when computed.
    pub slope: Option<f64>,
    /// The dimension the slope implies.
    pub implied_dimension: Option<f64>,
    /// Singer's plateau [lo, hi].
    pub plateau: Option<[f64; 2]>,
}

impl From<&EpsilonChoice> for EpsilonReport {
    fn from(e: &EpsilonChoice) -> Self {
        EpsilonReport {
            rule: e.rule.to_string(),
            eps: e.eps,
            slope: e.slope,
            implied_dimension: e.dimension,
            plateau: e.plateau.map(|(lo, hi)| [lo, hi]),
        }
    }
}

/// The linear-regime check of the shared ε, [A, B] in each array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearRegimeReport {
    /// The d² error budget.
    pub budget: f64,
    /// Largest ε within the budget.
    pub eps_lin: [f64; 2],
    /// Smallest ε that samples enough neighbours.
    pub eps_samp: [f64; 2],
    /// The budget's estimate of the d² error at the shared ε.
    pub error_estimate: [f64; 2],
    /// Normal share of the displacement.
    pub normal_fraction: [f64; 2],
    /// RMS asymmetry of d².
    pub asymmetry_rms: [f64; 2],
    /// Neighbours within reach.
    pub neighbours: [f64; 2],
    /// Whether the sampling cannot reach the linear regime.
    pub under_resolved: bool,
}

/// The intrinsic dimensions used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DimensionReport {
    /// A's d.
    pub a: usize,
    /// B's d.
    pub b: usize,
    /// Where each d came from: `given` (`--d`), `design` (the declared burst design, or the
    /// Jacobians' columns) or `bursts` (the median per-point burst rank).
    pub source: PerNetwork<String>,
}

/// The local evidence: where on the inputs one network loses information the other keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalReport {
    /// The regions found (each decides `not_equivalent`), largest first.
    pub regions: Vec<RegionFinding>,
    /// Share of the inputs inside some region, per network that loses the information there.
    pub region_fraction: PerNetwork<f64>,
    /// Share of the points flagged (in a region or not), per network.
    pub flagged_fraction: PerNetwork<f64>,
    /// The smallest region the rule can see at this N: `min_region` points of N (a region whose
    /// points are only partly flagged, like a fold's crease, needs proportionally more).
    pub detectable_fraction: f64,
    /// What the pooled regressions alone would have said.
    pub pooled_verdict: String,
}

/// The cross-validation folds of the deciding direct regressions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StabilityReport {
    /// Number of folds.
    pub folds: usize,
    /// Held-out RMSE o_A → o_B per fold.
    pub direct_rmse_ab: Vec<f64>,
    /// Held-out RMSE o_B → o_A per fold.
    pub direct_rmse_ba: Vec<f64>,
    /// The RMSE rule's verdict per fold.
    pub verdicts: Vec<String>,
    /// Learning-curve ratio of o_A → o_B.
    pub learning_ratio_ab: f64,
    /// Learning-curve ratio of o_B → o_A.
    pub learning_ratio_ba: f64,
}

/// One network's embedding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingReport {
    /// λ₀ … λ_k.
    pub eigenvalues: Vec<f64>,
    /// The common rank r.
    pub rank: usize,
    /// Points per estimated rank.
    pub rank_histogram: BTreeMap<String, usize>,
    /// r_k of ψ₁ … ψ_k.
    pub r_k: Vec<f64>,
    /// Selected coordinates, 1-based.
    pub selected: Vec<usize>,
    /// Vectors multiplied by the operator.
    pub matvecs: usize,
    /// Passes over the operator.
    pub passes: usize,
    /// The eigensolver.
    pub solver: String,
    /// Whether the solve met its tolerance.
    pub converged: bool,
    /// Held-out RMSE of reconstructing the inputs (null without inputs).
    pub input_reconstruction_rmse: Option<f64>,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
}

fn seconds(t: &[(&'static str, f64)]) -> BTreeMap<String, f64> {
    t.iter().map(|(s, v)| (s.to_string(), *v)).collect()
}

impl EmbeddingReport {
    fn new(e: &Embedding, r_k: &[f64], selected: &[usize], input: Option<f64>) -> Self {
        EmbeddingReport {
            eigenvalues: e.eigenvalues.clone(),
            rank: e.rank,
            rank_histogram: e.rank_histogram.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            r_k: r_k.to_vec(),
            selected: selected.to_vec(),
            matvecs: e.info.matvecs,
            passes: e.info.passes,
            solver: e.info.solver.to_string(),
            converged: e.info.converged,
            input_reconstruction_rmse: input,
            seconds: seconds(&e.timings),
        }
    }
}

/// The alignment of A's selected coordinates to B's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlignmentReport {
    /// Matched (A, B) coordinate pairs.
    pub pairs: Vec<(usize, usize)>,
    /// |corr| of each pair after alignment.
    pub abs_corr: Vec<f64>,
    /// Positions aligned together by Procrustes.
    pub procrustes_blocks: Vec<Vec<usize>>,
    /// Relative differences of the matched diffusion rates.
    pub rate_rel_diff: Vec<f64>,
}

/// The fitted transformations and the direct baselines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformReport {
    /// Held-out relative RMSE of T_AB.
    pub rmse_ab: f64,
    /// Held-out relative RMSE of T_BA.
    pub rmse_ba: f64,
    /// R² per component of o_B.
    pub r2_ab: Vec<f64>,
    /// R² per component of o_A.
    pub r2_ba: Vec<f64>,
    /// Direct kernel ridge o_A → o_B, mean over the folds.
    pub baseline_direct_rmse_ab: f64,
    /// Direct kernel ridge o_B → o_A, mean over the folds.
    pub baseline_direct_rmse_ba: f64,
}

/// Context similarities on the paired observations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarityReport {
    /// Linear CKA.
    pub linear_cka: f64,
    /// Procrustes distance.
    pub procrustes_distance: f64,
    /// Mean CCA correlation.
    pub cca_mean_corr: f64,
}

/// The comparison's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParametersReport {
    /// Coordinates k.
    pub k: usize,
    /// α.
    pub alpha: f64,
    /// d given by hand.
    pub d: Option<usize>,
    /// Spectral gap.
    pub gap: f64,
    /// Held-out fraction.
    pub test_fraction: f64,
    /// Seed.
    pub seed: u64,
    /// ν.
    pub normal_weight: f64,
    /// Rank given by hand.
    pub rank: Option<usize>,
    /// Folds.
    pub folds: usize,
    /// Wishart correction.
    pub wishart: bool,
    /// Thresholds.
    pub thresholds: Thresholds,
}

/// Everything a comparison determines (the bulk of `report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    /// `equivalent`, `not_equivalent` or `inconclusive`.
    pub verdict: String,
    /// Why, with the deciding numbers.
    pub reasons: Vec<String>,
    /// Base inputs N.
    pub n: usize,
    /// The shared ε.
    pub eps: f64,
    /// A's own ε choice.
    pub eps_a: EpsilonReport,
    /// B's own ε choice.
    pub eps_b: EpsilonReport,
    /// The ε check.
    pub linear_regime: LinearRegimeReport,
    /// The d used.
    pub intrinsic_dimension: DimensionReport,
    /// Where the two networks differ (the local rule).
    pub local: LocalReport,
    /// Points whose own rank is below d.
    pub rank_deficient_fraction: PerNetwork<f64>,
    /// Points where the network is locally constant.
    pub locally_constant_fraction: PerNetwork<f64>,
    /// Coordinates r_k kept.
    pub coordinates_selected: PerNetwork<usize>,
    /// The folds.
    pub stability: StabilityReport,
    /// `gpu` or `cpu`.
    pub backend: String,
    /// The adapter.
    pub adapter: String,
    /// A's embedding.
    pub a: EmbeddingReport,
    /// B's embedding.
    pub b: EmbeddingReport,
    /// The alignment.
    pub alignment: AlignmentReport,
    /// T_AB, T_BA and the baselines.
    pub transform: TransformReport,
    /// Context similarities.
    pub similarity: SimilarityReport,
    /// The parameters.
    pub parameters: ParametersReport,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
}

impl ComparisonReport {
    /// The report of `c`, run with `p`.
    pub fn new(c: &Comparison, p: &CompareParams) -> ComparisonReport {
        let (ea, eb) = &c.embeddings;
        let (la, lb) = (&c.linear.diagnostics.0, &c.linear.diagnostics.1);
        let th = &p.thresholds;
        ComparisonReport {
            verdict: c.verdict.as_str().to_string(),
            reasons: c.reasons.clone(),
            n: ea.coords.nrows(),
            eps: c.eps,
            eps_a: (&c.eps_choices.0).into(),
            eps_b: (&c.eps_choices.1).into(),
            linear_regime: LinearRegimeReport {
                budget: BUDGET,
                eps_lin: [c.linear.eps_lin.0, c.linear.eps_lin.1],
                eps_samp: [c.linear.eps_samp.0, c.linear.eps_samp.1],
                error_estimate: [c.linear.error.0, c.linear.error.1],
                normal_fraction: [la.normal, lb.normal],
                asymmetry_rms: [la.asym2.sqrt(), lb.asym2.sqrt()],
                neighbours: [la.neighbours, lb.neighbours],
                under_resolved: c.linear.under_resolved,
            },
            intrinsic_dimension: DimensionReport {
                a: c.dims.0,
                b: c.dims.1,
                source: (c.dim_sources.0.to_string(), c.dim_sources.1.to_string()).into(),
            },
            local: LocalReport {
                regions: c.regions.clone(),
                region_fraction: (c.local.region_fraction(Network::A), c.local.region_fraction(Network::B)).into(),
                flagged_fraction: (c.local.flagged_fraction(Network::A), c.local.flagged_fraction(Network::B)).into(),
                detectable_fraction: th.local.min_region as f64 / ea.coords.nrows().max(1) as f64,
                pooled_verdict: c.pooled_verdict.as_str().to_string(),
            },
            rank_deficient_fraction: c.deficient.into(),
            locally_constant_fraction: c.constant.into(),
            coordinates_selected: (c.selected.0.len(), c.selected.1.len()).into(),
            stability: StabilityReport {
                folds: c.folds.len(),
                direct_rmse_ab: c.folds.iter().map(|f| f.0).collect(),
                direct_rmse_ba: c.folds.iter().map(|f| f.1).collect(),
                verdicts: c.folds.iter().map(|f| fold_verdict(f.0, f.1, th).as_str().to_string()).collect(),
                learning_ratio_ab: c.learning.0,
                learning_ratio_ba: c.learning.1,
            },
            backend: ea.backend.to_string(),
            adapter: ea.adapter.clone(),
            a: EmbeddingReport::new(ea, &c.r_k.0, &c.selected.0, c.input_rmse.0),
            b: EmbeddingReport::new(eb, &c.r_k.1, &c.selected.1, c.input_rmse.1),
            alignment: AlignmentReport {
                pairs: c.alignment.pairs.clone(),
                abs_corr: c.alignment.corr.clone(),
                procrustes_blocks: c.alignment.blocks.clone(),
                rate_rel_diff: c.rate_diffs.clone(),
            },
            transform: TransformReport {
                rmse_ab: c.rmse.0,
                rmse_ba: c.rmse.1,
                r2_ab: c.r2.0.clone(),
                r2_ba: c.r2.1.clone(),
                baseline_direct_rmse_ab: c.baseline_rmse.0,
                baseline_direct_rmse_ba: c.baseline_rmse.1,
            },
            similarity: SimilarityReport {
                linear_cka: c.similarity.linear_cka,
                procrustes_distance: c.similarity.procrustes_distance,
                cca_mean_corr: c.similarity.cca_mean_corr,
            },
            parameters: ParametersReport {
                k: p.k,
                alpha: p.alpha,
                d: p.d,
                gap: p.gap,
                test_fraction: p.test_fraction,
                seed: p.seed,
                normal_weight: p.covariance.normal_weight,
                rank: p.covariance.rank,
                folds: p.folds,
                wishart: p.covariance.wishart,
                thresholds: th.clone(),
            },
            seconds: seconds(&c.timings),
        }
    }
}

/// Where one network's observations came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputReport {
    /// A path, or `synthetic:…`.
    pub source: String,
    /// D as read.
    pub dim: usize,
    /// The compared columns (null: all).
    pub neurons: Option<Vec<usize>>,
}

/// One point of the Whitney sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// Neurons q of A.
    pub q: usize,
    /// Which.
    pub neurons: Vec<usize>,
    /// The verdict at q (null: not comparable).
    pub verdict: Option<String>,
    /// T_AB's held-out RMSE.
    pub rmse_ab: Option<f64>,
    /// T_BA's held-out RMSE.
    pub rmse_ba: Option<f64>,
    /// Held-out RMSE of the inputs from the q neurons.
    pub input_reconstruction_rmse: Option<f64>,
    /// Held-out RMSE of the network's output from the q neurons.
    pub output_reconstruction_rmse: Option<f64>,
    /// Why.
    pub reasons: Vec<String>,
    /// The error, when not comparable.
    pub error: Option<String>,
}

impl From<&SweepPoint> for SweepReport {
    fn from(p: &SweepPoint) -> Self {
        SweepReport {
            q: p.q,
            neurons: p.neurons.clone(),
            verdict: p.verdict.map(|v| v.as_str().to_string()),
            rmse_ab: p.rmse.map(|r| r.0),
            rmse_ba: p.rmse.map(|r| r.1),
            input_reconstruction_rmse: p.reconstruction.0,
            output_reconstruction_rmse: p.reconstruction.1,
            reasons: p.reasons.clone(),
            error: p.error.clone(),
        }
    }
}

/// `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `netmatch <version>`.
    pub tool: String,
    /// What the comparison determined.
    #[serde(flatten)]
    pub comparison: ComparisonReport,
    /// Where A and B came from.
    pub inputs: PerNetwork<InputReport>,
    /// Why `auto` chose the CPU, if it did.
    pub backend_note: Option<String>,
    /// The Whitney sweep, when run.
    pub whitney_sweep: Option<Vec<SweepReport>>,
    /// What the user should know beyond the verdict.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Wall-clock seconds of the whole run.
    pub total_seconds: f64,
}

impl Report {
    /// The report of comparison `c`, run with `p`, in the run `run`, with the sweep if any.
    pub fn new(c: &Comparison, p: &CompareParams, run: &super::RunInfo, sweep: Option<&[SweepPoint]>) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("netmatch {}", env!("CARGO_PKG_VERSION")),
            comparison: ComparisonReport::new(c, p),
            inputs: PerNetwork {
                a: InputReport { source: run.sources.0.clone(), dim: run.dims_read.0, neurons: run.neurons.0.clone() },
                b: InputReport { source: run.sources.1.clone(), dim: run.dims_read.1, neurons: run.neurons.1.clone() },
            },
            backend_note: run.backend_note.clone(),
            whitney_sweep: sweep.map(|s| s.iter().map(SweepReport::from).collect()),
            warnings: c.warnings.clone(),
            total_seconds: run.seconds,
        }
    }
}
