//! Steps 6–9 for two networks observed on the same N base inputs: one shared ε, an embedding of each
//! (on the device given), coordinate selection, alignment of A's coordinates to B's frame, the
//! transformations T_AB = G_B ∘ Φ_A and T_BA = G_A ∘ Φ_B fitted on a seeded training split and scored
//! on the held-out rest, the direct regression baselines, context similarities, and the verdict.

use ndarray::{Array2, Axis};
use serde_json::Value;

use crate::backend::Device;
use crate::data::Observations;
use crate::error::{Error, Result};
use crate::observe::Observe;
use crate::pipeline::align::{Alignment, align};
use crate::pipeline::covariance::{CovarianceParams, LocalGeometry, MAX_RANK, local_geometry};
use crate::pipeline::embed::{EmbedParams, Embedding, embed};
use crate::pipeline::epsilon::{Diagnostics, LinearCheck, pair_stats};
use crate::pipeline::kernel::{EpsilonChoice, EpsilonRule, choose_epsilon};
use crate::pipeline::local::{LocalEvidence, RegionFinding, local_evidence};
use crate::pipeline::select;
use crate::pipeline::transform::{Krr, cross_validated_rmse, relative_rmse};
use crate::pipeline::verdict::{CAVEAT, EXPLANATION, Evidence, Thresholds, Verdict, decide};
use crate::rng::Rng;
use crate::stats::{Similarity, r2, similarity};

/// Fewest base inputs a comparison accepts.
pub const MIN_POINTS: usize = 50;

/// Prefixes an input-dependent error with the network it came from.
fn name_error(name: &str, e: Error) -> Error {
    match e {
        Error::Degenerate(m) => Error::Degenerate(format!("network {name}: {m}")),
        Error::Shape(m) => Error::Shape(format!("network {name}: {m}")),
        Error::Param { name: p, message } => Error::Param { name: p, message: format!("network {name}: {message}") },
        other => other,
    }
}

/// Parameters of a comparison.
#[derive(Clone, Debug)]
pub struct CompareParams {
    /// Non-trivial coordinates computed per network.
    pub k: usize,
    /// ε rule. `Auto`: the linear-regime rule of [`crate::pipeline::epsilon`] (the largest ε within the budget
    /// for both networks, or the sampling floor when under-resolved); `Median`: the geometric mean of
    /// the two medians; `Fixed`: as given. The linear-regime check is reported in every case.
    pub eps: EpsilonRule,
    /// α-normalisation.
    pub alpha: f64,
    /// Intrinsic dimension d; `None` takes each network's from its bursts (or Jacobians): the median
    /// per-point rank (see [`crate::pipeline::covariance`]).
    pub d: Option<usize>,
    /// Relative eigenvalue gap below which coordinates form a degenerate block.
    pub gap: f64,
    /// Fraction of points held out for scoring T_AB and T_BA.
    pub test_fraction: f64,
    /// Cross-validation folds of the deciding direct regressions (every point held out once; the
    /// spread over the folds is the verdict's stability).
    pub folds: usize,
    /// Local-geometry parameters.
    pub covariance: CovarianceParams,
    /// Verdict thresholds.
    pub thresholds: Thresholds,
    /// Seed (ε subsample, splits, start vectors).
    pub seed: u64,
    /// Report progress over the stages to [`CompareParams::observe`].
    pub verbose: bool,
    /// Where progress (when `verbose`) and warnings go; none by default.
    pub observe: Observe,
}

impl Default for CompareParams {
    fn default() -> Self {
        CompareParams {
            k: 10,
            eps: EpsilonRule::Auto,
            alpha: 1.0,
            d: None,
            gap: 1e-2,
            test_fraction: 0.2,
            folds: 5,
            // Fold protection: see the normal-direction note in `covariance`. The Wishart correction
            // makes networks sampled with different burst sizes M comparable.
            covariance: CovarianceParams { normal_weight: 3.0, wishart: true, ..Default::default() },
            thresholds: Thresholds::default(),
            seed: 0,
            verbose: false,
            observe: Observe::default(),
        }
    }
}

impl CompareParams {
    /// Checks the thresholds and the geometry parameters a caller can set by hand: each threshold in
    /// its range, ν finite and ≥ 0, k ≥ 2. Errors name the command-line flag.
    pub fn validate(&self) -> Result<()> {
        let th = &self.thresholds;
        for (flag, v, lo, hi) in [
            ("predict-rmse", th.predict_rmse, 0.0, 1.0),
            ("equivalent-rmse", th.equivalent_rmse, 0.0, 1.0),
            ("equivalent-corr", th.equivalent_corr, 0.0, 1.0),
            ("not-equivalent-rmse", th.not_equivalent_rmse, 0.0, 10.0),
            ("spectrum-tol", th.spectrum_tol, 0.0, 1.0),
            ("gap", self.gap, 0.0, 1.0),
        ] {
            if !(v > lo && v <= hi) {
                return Err(Error::param(flag, format!("must lie in ({lo}, {hi}], got {v}")));
            }
        }
        if th.not_equivalent_rmse < th.equivalent_rmse {
            return Err(Error::param("not-equivalent-rmse", "must be at least --equivalent-rmse"));
        }
        let nu = self.covariance.normal_weight;
        if !(nu >= 0.0 && nu.is_finite()) {
            return Err(Error::param("normal-weight", format!("must be ≥ 0 and finite, got {nu}")));
        }
        if self.k < 2 {
            return Err(Error::param("k", "must be at least 2"));
        }
        // The ranges the command line's parsers enforce, checked again for library callers.
        if let Some(d) = self.d.filter(|d| !(1..=64).contains(d)) {
            return Err(Error::param("d", format!("must lie in 1..=64, got {d}")));
        }
        if self.covariance.rank == Some(0) {
            return Err(Error::param("rank", "must be at least 1"));
        }
        Ok(())
    }
}

/// The linear-regime check of the shared ε (see [`crate::pipeline::epsilon`]), per network (A, B).
#[derive(Clone, Debug)]
pub struct LinearRegime {
    /// Largest ε within the d² error budget.
    pub eps_lin: (f64, f64),
    /// Smallest ε that samples enough neighbours.
    pub eps_samp: (f64, f64),
    /// The budget's estimate of the d² error at the shared ε.
    pub error: (f64, f64),
    /// The diagnostics at the shared ε.
    pub diagnostics: (Diagnostics, Diagnostics),
    /// The sampling cannot reach the linear regime: spectra and coordinates are not evidence.
    pub under_resolved: bool,
}

/// Everything a comparison computed.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, with numbers.
    pub reasons: Vec<String>,
    /// Shared ε.
    pub eps: f64,
    /// Each network's own ε by the rule's plain form (auto: Singer's plateau, reported for context
    /// with its implied dimension).
    pub eps_choices: (EpsilonChoice, EpsilonChoice),
    /// The linear-regime check at the shared ε.
    pub linear: LinearRegime,
    /// The intrinsic dimension used for A and B (given, the burst design's, or from the bursts).
    pub dims: (usize, usize),
    /// Where each d came from: `given` (`--d`), `design` (the burst design's, see
    /// [`Observations::design_dim`]) or `bursts` (the median per-point burst rank).
    pub dim_sources: (&'static str, &'static str),
    /// The per-point local evidence (where the two networks differ) and its regions.
    pub local: LocalEvidence,
    /// The regions as the verdict states them.
    pub regions: Vec<RegionFinding>,
    /// The verdict the pooled regressions alone give (without the local evidence): what an average
    /// over the inputs says, kept to show when the local evidence overturns it.
    pub pooled_verdict: Verdict,
    /// Per point, the held-out error of the direct regressions o_A → o_B and o_B → o_A (each point is
    /// held out once over the folds), relative to the target's RMS spread.
    pub point_errors: (Vec<f64>, Vec<f64>),
    /// Fractions of A's and B's points whose own rank is below the common one.
    pub deficient: (f64, f64),
    /// Fractions of A's and B's points where the network is locally constant.
    pub constant: (f64, f64),
    /// Per cross-validation fold: held-out relative RMSE of the direct regressions (A → B, B → A).
    pub folds: Vec<(f64, f64)>,
    /// Learning-curve ratios of the direct regressions (A → B, B → A): the first fold's error at full
    /// over half training size (≈ 1: at its floor; below [`crate::pipeline::verdict::Thresholds::converged`]:
    /// still falling).
    pub learning: (f64, f64),
    /// Embeddings of A and B.
    pub embeddings: (Embedding, Embedding),
    /// r_k curves of A and B (entry c belongs to ψ_{c+1}).
    pub r_k: (Vec<f64>, Vec<f64>),
    /// Selected coordinates (1-based) of A and B.
    pub selected: (Vec<usize>, Vec<usize>),
    /// The alignment of A's coordinates to B's.
    pub alignment: Alignment,
    /// Held-out relative RMSE of T_AB and T_BA.
    pub rmse: (f64, f64),
    /// Per-component R² of T_AB (components of o_B) and T_BA (components of o_A).
    pub r2: (Vec<f64>, Vec<f64>),
    /// Held-out relative RMSE of the direct regressions o_A → o_B and o_B → o_A, mean over the folds.
    pub baseline_rmse: (f64, f64),
    /// Held-out relative RMSE of reconstructing `inputs` from o_A, o_B (when inputs are present).
    pub input_rmse: (Option<f64>, Option<f64>),
    /// Linear CKA, Procrustes and CCA on the paired observations.
    pub similarity: Similarity,
    /// The rows held out for scoring T_AB and T_BA (the order of [`Comparison::held_out`]).
    pub held_out_rows: Vec<usize>,
    /// Held-out predictions (T_AB(o_A), o_B) and (T_BA(o_B), o_A) for plots.
    pub held_out: ((Array2<f64>, Array2<f64>), (Array2<f64>, Array2<f64>)),
    /// Relative differences of matched diffusion rates.
    pub rate_diffs: Vec<f64>,
    /// Seconds per stage.
    pub timings: Vec<(&'static str, f64)>,
    /// What the user should know beyond the verdict (each embedding's warnings, named A or B).
    pub warnings: Vec<String>,
}

fn rows(a: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    a.select(Axis(0), idx)
}

/// A smooth monotone change of each coordinate that undoes the fold of Neumann eigenfunctions at
/// a boundary. Near a boundary at distance s a coordinate behaves like ψ ≈ 1 − c·s² (zero normal
/// derivative), so any regression G from ψ back to the observations would have to represent a
/// square-root singularity there. A coordinate that is not part of a degenerate block is rescaled
/// to [−1, 1] by its range and mapped through arccos(·)/π, which is exactly linear for the cosine
/// modes of an interval or a box and smooth elsewhere. Members of degenerate blocks (a circle's
/// cos/sin pair, which has no boundary and no fold) are left alone.
///
/// An empirical CDF would also unfold, but it is a step function of the sample: its Brownian-bridge
/// roughness (≈ 1 % at N ≈ 1000) is then an irregular map that G cannot learn.
#[derive(Clone, Debug)]
pub struct Unfold {
    /// Per column: `Some((lo, hi))` to unfold, `None` to keep.
    ranges: Vec<Option<(f64, f64)>>,
}

impl Unfold {
    /// Ranges from the columns of `samples` (all with the same columns); `blocks` lists the
    /// degenerate groups of column positions, which are kept as they are.
    pub fn fit(samples: &[&Array2<f64>], blocks: &[Vec<usize>]) -> Unfold {
        let cols = samples.first().map(|s| s.ncols()).unwrap_or(0);
        let in_block = |c: usize| blocks.iter().any(|b| b.len() > 1 && b.contains(&c));
        let ranges = (0..cols)
            .map(|c| {
                if in_block(c) {
                    return None;
                }
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for s in samples {
                    for &v in s.column(c) {
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                (hi > lo).then_some((lo, hi))
            })
            .collect();
        Unfold { ranges }
    }

    /// The unfolded coordinates (values beyond the fitted range are clamped to its ends).
    pub fn apply(&self, c: &Array2<f64>) -> Array2<f64> {
        let mut out = c.clone();
        for (k, r) in self.ranges.iter().enumerate() {
            if let Some((lo, hi)) = *r {
                out.column_mut(k).mapv_inplace(|v| {
                    let t = (2.0 * (v - lo) / (hi - lo) - 1.0).clamp(-1.0, 1.0);
                    t.acos() / std::f64::consts::PI
                });
            }
        }
        out
    }
}

/// The seeded held-out split every score of a comparison uses: (training rows, test rows).
pub fn split(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::new(seed ^ 0x7e57);
    let n_test = ((n as f64) * test_fraction).round().max(2.0) as usize;
    let test = rng.sample_indices(n, n_test);
    let mut is_test = vec![false; n];
    test.iter().for_each(|&i| is_test[i] = true);
    ((0..n).filter(|&i| !is_test[i]).collect(), test)
}

/// The comparison of two networks as a builder: `Compare::new(&a, &b).params(p).run(dev)`.
pub struct Compare<'a> {
    a: &'a Observations,
    b: &'a Observations,
    params: CompareParams,
}

impl<'a> Compare<'a> {
    /// A comparison of `a` and `b` (observed on the same N base inputs) with default parameters.
    pub fn new(a: &'a Observations, b: &'a Observations) -> Self {
        Compare { a, b, params: CompareParams::default() }
    }

    /// Replaces the parameters.
    pub fn params(mut self, params: CompareParams) -> Self {
        self.params = params;
        self
    }

    /// Runs the comparison on `dev` (see [`crate::devices::open`]).
    pub fn run(&self, dev: &mut dyn Device) -> Result<Comparison> {
        compare(self.a, self.b, &self.params, dev)
    }
}

/// Compares the two networks' observations on `dev`.
pub fn compare(a: &Observations, b: &Observations, p: &CompareParams, dev: &mut dyn Device) -> Result<Comparison> {
    let n = a.n();
    if b.n() != n {
        return Err(Error::Shape(format!(
            "A and B must observe the same N base inputs: A has N = {n}, B has N = {}",
            b.n()
        )));
    }
    if let Some(d) = p.d {
        if d == 0 || d > p.k {
            return Err(Error::param("d", format!("must lie in 1..={} (the number of coordinates k), got {d}", p.k)));
        }
    }
    if !(2..=20).contains(&p.folds) {
        return Err(Error::param("folds", format!("must lie in 2..=20, got {}", p.folds)));
    }
    if !(0.05..=0.5).contains(&p.test_fraction) {
        return Err(Error::param("test-fraction", format!("must lie in [0.05, 0.5], got {}", p.test_fraction)));
    }
    // Enough points for k coordinates, a held-out split and the regressions (≥ 10 training rows each).
    let need = p.k.saturating_add(3).max(MIN_POINTS);
    if n < need {
        return Err(Error::Shape(format!(
            "a comparison needs at least {need} observed base inputs (k = {} coordinates, a held-out split, \
             the regressions), got N = {n}",
            p.k
        )));
    }
    let mut timings = Vec::new();
    let mut t = std::time::Instant::now();
    let mut bar = p.observe.when(p.verbose).task("compare", 6);
    // One ε for both networks.
    bar.start("local geometry and ε")?;
    // The metric's rank: as given (`--rank`), else the burst design's dimension when the recorder
    // declared it (a burst rank above it is a property of the burst — kinks, curvature — never a
    // direction of the input), else estimated per point from the bursts.
    let cov_for = |o: &Observations| CovarianceParams {
        rank: p.covariance.rank.or(o.design_dim().map(|d| d.min(o.dim()).min(MAX_RANK))),
        ..p.covariance.clone()
    };
    // …but never more directions than the network's own bursts read at the median point: a network
    // that ignores an input direction everywhere keeps d (the design's) for the comparison, while its
    // metric does not invert a direction its bursts do not show (1/λ of rounding).
    let geometry = |o: &Observations, name: &str| -> Result<(LocalGeometry, CovarianceParams)> {
        let cov = cov_for(o);
        let g = local_geometry(o, &cov).map_err(|e| name_error(name, e))?;
        let own = g.median_point_rank();
        match cov.rank {
            Some(r) if p.covariance.rank.is_none() && own < r => {
                let cov = CovarianceParams { rank: Some(own), ..cov };
                Ok((local_geometry(o, &cov).map_err(|e| name_error(name, e))?, cov))
            }
            _ => Ok((g, cov)),
        }
    };
    let (ga, cov_a) = geometry(a, "A")?;
    p.observe.check()?;
    let (gb, cov_b) = geometry(b, "B")?;
    p.observe.check()?;
    let (stats_a, stats_b) = (pair_stats(&ga, p.seed), pair_stats(&gb, p.seed));
    p.observe.check()?;
    let (check_a, check_b) = (stats_a.check(), stats_b.check());
    // Each network's own ε: the linear-regime rule's (auto), or the plain rule's (median, fixed).
    let own = |g: &LocalGeometry, c: &LinearCheck| -> Result<EpsilonChoice> {
        match p.eps {
            EpsilonRule::Auto => Ok(EpsilonChoice {
                eps: c.eps_lin.max(c.eps_samp),
                rule: "linear",
                slope: None,
                dimension: None,
                plateau: None,
            }),
            rule => choose_epsilon(g, rule, p.seed),
        }
    };
    let (ea, eb) = (own(&ga, &check_a)?, own(&gb, &check_b)?);
    // One ε for both: within both budgets and above both sampling floors; when those conflict, the
    // sampling floor (and the pair is under-resolved).
    let (samp, lin) = (check_a.eps_samp.max(check_b.eps_samp), check_a.eps_lin.min(check_b.eps_lin));
    let eps = match p.eps {
        EpsilonRule::Auto => lin.max(samp),
        _ => (ea.eps * eb.eps).sqrt(),
    };
    let linear = LinearRegime {
        eps_lin: (check_a.eps_lin, check_b.eps_lin),
        eps_samp: (check_a.eps_samp, check_b.eps_samp),
        error: (stats_a.error(eps, check_a.asym2_floor), stats_b.error(eps, check_b.asym2_floor)),
        diagnostics: (stats_a.at(eps), stats_b.at(eps)),
        under_resolved: check_a.under_resolved || check_b.under_resolved || lin < samp,
    };
    drop((stats_a, stats_b));
    // Dimension per network: given, the burst design's, or from its bursts (the median per-point rank).
    let dim_of = |o: &Observations, g: &LocalGeometry| match (p.d, o.design_dim()) {
        (Some(d), _) => (d, "given"),
        (None, Some(d)) => (d, "design"),
        (None, None) => (g.rank, "bursts"),
    };
    let ((da, src_a), (db, src_b)) = (dim_of(a, &ga), dim_of(b, &gb));
    let deficient = (ga.deficient_fraction(), gb.deficient_fraction());
    let constant = (ga.constant_fraction(), gb.constant_fraction());
    // Where on the inputs the two networks differ: neighbourhoods in each one's own metric, and the
    // points where one loses rank the other keeps.
    let t_local = std::time::Instant::now();
    let local = local_evidence(&ga, &gb, (da, db), &p.thresholds.local);
    let local_seconds = t_local.elapsed().as_secs_f64();
    let regions = local.findings(a.inputs.as_ref().or(b.inputs.as_ref()));
    p.observe.check()?;
    drop((ga, gb));
    bar.step();
    let ep = |covariance: CovarianceParams| EmbedParams {
        k: p.k,
        eps: EpsilonRule::Fixed(eps),
        alpha: p.alpha,
        covariance,
        seed: p.seed,
        observe: p.observe.clone(),
        ..Default::default()
    };
    bar.start(&format!("embedding A (N = {n}, ε = {eps:.3e})"))?;
    let emb_a = embed(a, &ep(cov_a), dev).map_err(|e| name_error("A", e))?;
    bar.step();
    bar.start("embedding B")?;
    let emb_b = embed(b, &ep(cov_b), dev).map_err(|e| name_error("B", e))?;
    bar.step();
    bar.start("selecting and aligning coordinates")?;
    for (name, e) in [("A", &emb_a), ("B", &emb_b)] {
        if !e.info.converged {
            return Err(Error::Eigen(format!(
                "the eigen-solve of {name} did not converge within {} matvecs",
                e.info.matvecs
            )));
        }
    }
    timings.push(("embed", t.elapsed().as_secs_f64() - local_seconds));
    timings.push(("local", local_seconds));
    t = std::time::Instant::now();
    let ra = select::residuals(&emb_a.coords, p.seed)?;
    p.observe.check()?;
    let rb = select::residuals(&emb_b.coords, p.seed)?;
    p.observe.check()?;
    let sa = select::choose_count(&ra, da.min(p.k));
    let sb = select::choose_count(&rb, db.min(p.k));
    timings.push(("select", t.elapsed().as_secs_f64()));
    t = std::time::Instant::now();
    let al = align(&emb_a.coords, &emb_a.eigenvalues, &sa, &emb_b.coords, &sb, p.gap)?;
    let rate = |l: f64| -(l.clamp(1e-300, 1.0 - 1e-15)).ln();
    let rate_diffs: Vec<f64> = al
        .pairs
        .iter()
        .map(|&(ia, ib)| {
            let (ma, mb) = (rate(emb_a.eigenvalues[ia]), rate(emb_b.eigenvalues[ib]));
            (ma - mb).abs() / ma.max(mb)
        })
        .collect();
    timings.push(("align", t.elapsed().as_secs_f64()));
    t = std::time::Instant::now();
    bar.step();
    let (train, test) = split(n, p.test_fraction, p.seed);
    let (oa, ob) = (&a.obs, &b.obs);
    bar.start("fitting Φ_A, G_B, Φ_B, G_A and the direct baselines")?;
    // The common intrinsic coordinates: the mean of A's aligned and B's matched coordinates. Φ_A and
    // Φ_B are the out-of-sample maps onto them; being smooth functions of the observations they also
    // strip the per-point wiggle that finite sampling leaves in ψ at the kernel scale √ε. Their
    // outputs are then unfolded (see `Unfold`) and G_B, G_A fitted on the unfolded coordinates *as Φ
    // produces them*, so each composed map T = G ∘ U ∘ Φ is fed exactly the kind of input it was
    // trained on.
    let common = (&al.a_aligned + &al.b_matched) * 0.5;
    // Independent fits run in pairs (rayon::join): each alone keeps only part of the cores busy.
    let (phi_a, phi_b) = rayon::join(
        || Krr::fit(rows(oa, &train).view(), rows(&common, &train).view(), p.seed),
        || Krr::fit(rows(ob, &train).view(), rows(&common, &train).view(), p.seed + 2),
    );
    let (phi_a, phi_b) = (phi_a?, phi_b?);
    p.observe.check()?;
    let ca = phi_a.predict(rows(oa, &train).view());
    let cb = phi_b.predict(rows(ob, &train).view());
    let unfold = Unfold::fit(&[&ca, &cb], &al.blocks);
    let (g_b, g_a) = rayon::join(
        || Krr::fit(unfold.apply(&cb).view(), rows(ob, &train).view(), p.seed + 1),
        || Krr::fit(unfold.apply(&ca).view(), rows(oa, &train).view(), p.seed + 3),
    );
    let (g_b, g_a) = (g_b?, g_a?);
    p.observe.check()?;
    let (oa_t, ob_t) = (rows(oa, &test), rows(ob, &test));
    let t_ab = g_b.predict(unfold.apply(&phi_a.predict(oa_t.view())).view());
    let t_ba = g_a.predict(unfold.apply(&phi_b.predict(ob_t.view())).view());
    let rmse = (relative_rmse(&t_ab, &ob_t), relative_rmse(&t_ba, &oa_t));
    let r2s = (r2(&t_ab, &ob_t), r2(&t_ba, &oa_t));
    let input_rmse = |o: &Observations| -> Result<Option<f64>> {
        match &o.inputs {
            None => Ok(None),
            Some(x) => {
                let m = Krr::fit(rows(&o.obs, &train).view(), rows(x, &train).view(), p.seed + 6)?;
                Ok(Some(relative_rmse(&m.predict(rows(&o.obs, &test).view()), &rows(x, &test))))
            }
        }
    };
    let (ia, ib) = rayon::join(|| input_rmse(a), || input_rmse(b));
    let input_rmse = (ia?, ib?);
    p.observe.check()?;
    // The deciding evidence: each network's observations predicted from the other's, both ways, in
    // every cross-validation fold.
    let (cv_ab, cv_ba) = rayon::join(
        || cross_validated_rmse(oa.view(), ob.view(), p.folds, p.seed + 7),
        || cross_validated_rmse(ob.view(), oa.view(), p.folds, p.seed + 8),
    );
    let (cv_ab, cv_ba) = (cv_ab?, cv_ba?);
    let learning = (cv_ab.learning_ratio(), cv_ba.learning_ratio());
    let point_errors = (cv_ab.points.clone(), cv_ba.points.clone());
    let folds: Vec<(f64, f64)> = cv_ab.folds.iter().copied().zip(cv_ba.folds.iter().copied()).collect();
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let baseline_rmse = (mean(folds.iter().map(|f| f.0).collect()), mean(folds.iter().map(|f| f.1).collect()));
    timings.push(("transform", t.elapsed().as_secs_f64()));
    bar.step();
    bar.start("CKA, Procrustes, CCA")?;
    let sim = similarity(oa, ob)?;
    bar.finish("done");
    let ev = Evidence {
        direct: folds.clone(),
        learning,
        dims: (da, db),
        dims_known: (src_a != "bursts", src_b != "bursts"),
        regions: regions.clone(),
        coords: (sa.len(), sb.len()),
        rmse_ab: rmse.0,
        rmse_ba: rmse.1,
        corr: al.corr.clone(),
        rate_diffs: rate_diffs.clone(),
        under_resolved: linear.under_resolved,
    };
    let (verdict, mut reasons) = decide(&ev, &p.thresholds);
    let pooled_verdict = decide(&Evidence { regions: Vec::new(), ..ev.clone() }, &p.thresholds).0;
    for (name, r) in [("A", input_rmse.0), ("B", input_rmse.1)] {
        if let Some(r) = r {
            if r > p.thresholds.predict_rmse {
                // The regression treats the inputs as coordinates of a flat domain: a periodic input
                // (an angle in [0, 2π)) or one on a curved set reads high although the observations
                // determine it, so this is never stated as a fact about injectivity.
                reasons.push(format!(
                    "{CAVEAT}{name}'s observations reconstruct the `inputs` only to {:.1} % held-out RMSE (a regression \
                     onto the inputs as flat coordinates): a sign of a many-to-one map only if they are flat — a \
                     periodic input such as an angle in [0, 2π) reads high although it is determined",
                    100.0 * r
                ));
            }
        }
    }
    for (name, o, d) in [("A", a, da), ("B", b, db)] {
        if o.dim() < d {
            reasons.push(format!(
                "{EXPLANATION}{name} observes only D = {} value(s) of a d = {d}-dimensional input: no map from {d} to {} \
                 dimensions is injective (Whitney: 2d+1 = {} generic observations suffice)",
                o.dim(),
                o.dim(),
                2 * d + 1
            ));
        }
    }
    let warnings = [("A", &emb_a), ("B", &emb_b)]
        .into_iter()
        .flat_map(|(name, e)| e.warnings.iter().map(move |w| format!("{name}: {w}")))
        .collect();
    Ok(Comparison {
        verdict,
        reasons,
        eps,
        eps_choices: (ea, eb),
        linear,
        dims: (da, db),
        dim_sources: (src_a, src_b),
        local,
        regions,
        pooled_verdict,
        point_errors,
        deficient,
        constant,
        folds,
        learning,
        embeddings: (emb_a, emb_b),
        r_k: (ra, rb),
        selected: (sa, sb),
        alignment: al,
        rmse,
        r2: r2s,
        baseline_rmse,
        input_rmse,
        similarity: sim,
        held_out: ((t_ab, ob_t), (t_ba, oa_t)),
        held_out_rows: test,
        rate_diffs,
        timings,
        warnings,
    })
}

impl Comparison {
    /// The report as JSON (the `report.json` schema documented in the README).
    pub fn to_json(&self, p: &CompareParams) -> Value {
        // Serialising these types cannot fail (every map key is a string).
        serde_json::to_value(crate::report::schema::ComparisonReport::new(self, p)).unwrap_or(Value::Null)
    }
}
