//! Step 10, Whitney: a generic smooth map of a d-dimensional input space into 2d+1 observations is
//! an embedding, so 2d+1 well-chosen neurons should carry everything a layer knows about its input.
//! Picks those neurons from a wide layer (by activation variance, skipping dead and saturated ones,
//! and — as a pivoted Gram–Schmidt — skipping neurons that only repeat already picked ones), sweeps
//! the comparison over q = 1 … 2d+1 picked neurons, and measures how well q neurons reconstruct the
//! input and the network's own output.

use ndarray::{Array2, Axis};

use crate::backend::Device;
use crate::data::Observations;
use crate::error::{Error, Result};
use crate::pipeline::compare::{CompareParams, compare, split};
use crate::pipeline::covariance::local_geometry;
use crate::pipeline::kernel::{EpsilonRule, choose_epsilon};
use crate::pipeline::transform::{Krr, relative_rmse};
use crate::pipeline::verdict::Verdict;

/// Which neurons were picked and which were skipped.
#[derive(Clone, Debug)]
pub struct NeuronPick {
    /// Picked columns, in order of pick (largest remaining variance first).
    pub picked: Vec<usize>,
    /// Columns with (numerically) no variance.
    pub dead: Vec<usize>,
    /// Columns that sit at their extremes for ≥ 90 % of the inputs (switch-like, saturated units).
    pub saturated: Vec<usize>,
    /// Variance of every column.
    pub variance: Vec<f64>,
}

/// Picks up to `q` columns of `obs`: each next pick is the live column with the largest variance
/// left after projecting out the columns already picked.
pub fn pick_neurons(obs: &Array2<f64>, q: usize) -> Result<NeuronPick> {
    let (n, dim) = obs.dim();
    if q == 0 {
        return Err(Error::param("neurons", "must pick at least one neuron"));
    }
    let mut cols: Vec<Vec<f64>> = (0..dim)
        .map(|c| {
            let col = obs.column(c);
            let m = col.mean().unwrap_or(0.0);
            col.iter().map(|v| v - m).collect()
        })
        .collect();
    let variance: Vec<f64> = cols.iter().map(|c| c.iter().map(|v| v * v).sum::<f64>() / n as f64).collect();
    let vmax = variance.iter().copied().fold(0.0, f64::max);
    let dead: Vec<usize> = (0..dim).filter(|&c| variance[c] <= 1e-12 * vmax || variance[c] == 0.0).collect();
    let saturated: Vec<usize> = (0..dim)
        .filter(|c| !dead.contains(c))
        .filter(|&c| {
            let col = obs.column(c);
            let (lo, hi) = col.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            let tol = 0.01 * (hi - lo);
            let at_ends = col.iter().filter(|&&v| v - lo <= tol || hi - v <= tol).count();
            at_ends as f64 >= 0.9 * n as f64
        })
        .collect();
    let mut live: Vec<usize> = (0..dim).filter(|c| !dead.contains(c) && !saturated.contains(c)).collect();
    let mut picked = Vec::new();
    while picked.len() < q && !live.is_empty() {
        let (pos, &best) = live
            .iter()
            .enumerate()
            .max_by(|x, y| {
                let r = |c: usize| cols[c].iter().map(|v| v * v).sum::<f64>();
                r(*x.1).total_cmp(&r(*y.1))
            })
            .expect("non-empty");
        let norm2: f64 = cols[best].iter().map(|v| v * v).sum();
        if norm2 <= 1e-10 * vmax * n as f64 {
            break; // everything left repeats the picked neurons
        }
        picked.push(best);
        live.remove(pos);
        let pivot = cols[best].clone();
        for &c in &live {
            let dot: f64 = cols[c].iter().zip(&pivot).map(|(a, b)| a * b).sum();
            let f = dot / norm2;
            cols[c].iter_mut().zip(&pivot).for_each(|(a, b)| *a -= f * b);
        }
    }
    if picked.is_empty() {
        return Err(Error::Degenerate(format!(
            "no usable neuron: {} dead and {} saturated of {dim}",
            dead.len(),
            saturated.len()
        )));
    }
    Ok(NeuronPick { picked, dead, saturated, variance })
}

/// Which neurons of each network a comparison observes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Neurons {
    /// Every column as given.
    #[default]
    All,
    /// 2d+1 picked neurons (Whitney), d from `CompareParams::d` or estimated from A; a network with at
    /// most 2d+1 neurons keeps them all.
    Auto,
    /// This many picked neurons of each network.
    Count(usize),
}

impl std::str::FromStr for Neurons {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "all" => Ok(Neurons::All),
            "auto" => Ok(Neurons::Auto),
            _ => match s.parse::<usize>() {
                Ok(q) if q >= 1 => Ok(Neurons::Count(q)),
                _ => Err(Error::param("neurons", format!("expected all, auto or a positive count, got `{s}`"))),
            },
        }
    }
}

/// The neurons a comparison observes, chosen by [`choose_neurons`].
#[derive(Clone, Debug)]
pub struct NeuronChoice {
    /// The intrinsic dimension the choice used (given or estimated from A); `None` for [`Neurons::All`]
    /// without a sweep.
    pub d: Option<usize>,
    /// A's and B's picks (`None`: all columns).
    pub picks: (Option<NeuronPick>, Option<NeuronPick>),
    /// A and B restricted to the picked columns.
    pub observed: (Observations, Observations),
}

/// Applies the neuron policy to A and B. `need_d` asks for d even under [`Neurons::All`] (the Whitney
/// sweep needs it).
pub fn choose_neurons(
    a: &Observations,
    b: &Observations,
    neurons: Neurons,
    need_d: bool,
    p: &CompareParams,
) -> Result<NeuronChoice> {
    let d = match (p.d, need_d || neurons != Neurons::All) {
        (Some(d), _) => Some(d),
        (None, true) => Some(estimate_dimension(a, p)?),
        (None, false) => None,
    };
    let pick = |o: &Observations, side: &str| -> Result<Option<NeuronPick>> {
        let q = match (neurons, d) {
            (Neurons::All, _) | (Neurons::Auto, None) => return Ok(None),
            (Neurons::Auto, Some(d)) if 2 * d + 1 >= o.dim() => return Ok(None), // already ≤ 2d+1 neurons
            (Neurons::Auto, Some(d)) => 2 * d + 1,
            (Neurons::Count(q), _) => q,
        };
        if q > o.dim() {
            return Err(Error::param("neurons", format!("{side} has only D = {} neurons, asked for {q}", o.dim())));
        }
        pick_neurons(&o.obs, q).map(Some)
    };
    let picks = (pick(a, "A")?, pick(b, "B")?);
    let restrict = |o: &Observations, pk: &Option<NeuronPick>| match pk {
        Some(pk) => o.columns(&pk.picked),
        None => Ok(o.clone()),
    };
    let observed = (restrict(a, &picks.0)?, restrict(b, &picks.1)?);
    Ok(NeuronChoice { d, picks, observed })
}

/// The intrinsic dimension of one network's observations: the burst design's when declared, else the
/// one implied by the ε log-log slope (rounded, ≥ 1).
pub fn estimate_dimension(o: &Observations, p: &CompareParams) -> Result<usize> {
    // The burst design's dimension, when declared, is d (as in `compare`); the slope only estimates it.
    if let Some(d) = o.design_dim() {
        return Ok(d);
    }
    let g = local_geometry(o, &p.covariance)?;
    let e = choose_epsilon(&g, EpsilonRule::Auto, p.seed)?;
    Ok(e.dimension.map(|v| v.round().max(1.0) as usize).unwrap_or(1))
}

/// Held-out relative RMSE of reconstructing the inputs and the outputs from `o.obs` (each `None`
/// when the file holds no such array).
pub fn reconstruction(o: &Observations, p: &CompareParams) -> Result<(Option<f64>, Option<f64>)> {
    let (train, test) = split(o.n(), p.test_fraction, p.seed);
    let fit = |y: &Array2<f64>| -> Result<f64> {
        let m = Krr::fit(o.obs.select(Axis(0), &train).view(), y.select(Axis(0), &train).view(), p.seed + 7)?;
        Ok(relative_rmse(&m.predict(o.obs.select(Axis(0), &test).view()), &y.select(Axis(0), &test)))
    };
    Ok((o.inputs.as_ref().map(fit).transpose()?, o.outputs.as_ref().map(fit).transpose()?))
}

/// One step of the sweep.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    /// Number of A's neurons used.
    pub q: usize,
    /// Their columns.
    pub neurons: Vec<usize>,
    /// Verdict against B (None when the comparison itself failed, see `error`).
    pub verdict: Option<Verdict>,
    /// Held-out RMSE of T_AB and T_BA.
    pub rmse: Option<(f64, f64)>,
    /// Held-out RMSE of reconstructing the inputs / the outputs from the q neurons.
    pub reconstruction: (Option<f64>, Option<f64>),
    /// The verdict's reasons.
    pub reasons: Vec<String>,
    /// Why the comparison could not run at this q.
    pub error: Option<String>,
}

/// Compares A restricted to its first q picked neurons (`order`) against B, for q = 1 … 2d+1.
pub fn sweep(
    a: &Observations,
    b: &Observations,
    order: &[usize],
    d: usize,
    p: &CompareParams,
    dev: &mut dyn Device,
) -> Result<Vec<SweepPoint>> {
    let top = (2 * d + 1).min(order.len());
    let mut bar = p.observe.when(p.verbose).task("whitney sweep", top);
    let inner = CompareParams { d: Some(d), verbose: false, ..p.clone() };
    let mut out = Vec::new();
    for q in 1..=top {
        bar.start(&format!("q = {q} of {top} neurons"))?;
        let aq = a.columns(&order[..q])?;
        let rec = reconstruction(&aq, p)?;
        let point = match compare(&aq, b, &inner, dev) {
            Ok(c) => SweepPoint {
                q,
                neurons: order[..q].to_vec(),
                verdict: Some(c.verdict),
                rmse: Some(c.rmse),
                reconstruction: rec,
                reasons: c.reasons,
                error: None,
            },
            Err(e @ (Error::NoGpu(_) | Error::Gpu(_) | Error::Io { .. } | Error::Cancelled)) => return Err(e),
            Err(e) => SweepPoint {
                q,
                neurons: order[..q].to_vec(),
                verdict: None,
                rmse: None,
                reconstruction: rec,
                reasons: Vec::new(),
                error: Some(e.to_string()),
            },
        };
        out.push(point);
        bar.step();
    }
    bar.finish("done");
    Ok(out)
}
