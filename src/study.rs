//! A whole comparison of two networks as every front end runs it — the `netmatch compare` command and
//! the Python module's `compare` — so that both give the same numbers from the same inputs: the
//! neuron policy (Whitney's 2d+1), the comparison itself, the optional Whitney sweep, the run-level
//! facts of `report.json`, and the report directory. Front ends only parse their arguments, open a
//! device and show the result.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backend::Device;
use crate::data::Observations;
use crate::error::{Error, Result};
use crate::pipeline::compare::{CompareParams, Comparison, compare};
use crate::pipeline::whitney::{self, NeuronPick, Neurons, SweepPoint};
use crate::report::{self, OutputDir, Report, ReportArrays, RunInfo};

/// What a front end asks for beyond the comparison's own parameters.
#[derive(Clone, Debug)]
pub struct StudyParams {
    /// The comparison's parameters (validated by [`compare_networks`]).
    pub compare: CompareParams,
    /// Which neurons of each network to compare.
    pub neurons: Neurons,
    /// Also compare A's first q = 1 … 2d+1 picked neurons against B.
    pub whitney_sweep: bool,
    /// Where A and B came from (file names, or a label), for the report.
    pub sources: (String, String),
    /// Why `auto` chose the CPU, if it did (from [`crate::devices::open`]).
    pub backend_note: Option<String>,
}

/// Everything one comparison of two networks produced: what `report.json`, `report.npz` and the
/// figures are made of.
#[derive(Clone, Debug)]
pub struct Study {
    /// The comparison of the compared neurons.
    pub comparison: Comparison,
    /// The parameters it ran with.
    pub params: CompareParams,
    /// A's and B's picked neurons (`None`: all columns).
    pub picks: (Option<NeuronPick>, Option<NeuronPick>),
    /// A and B restricted to the compared neurons.
    pub observed: (Observations, Observations),
    /// The Whitney sweep, when asked for.
    pub sweep: Option<Vec<SweepPoint>>,
    /// The run-level facts of the report (sources, dimensions read, neurons, backend note, seconds).
    pub run: RunInfo,
}

/// Compares networks `a` and `b` (the same N base inputs in the same order) on `dev`: checks the
/// parameters, applies the neuron policy, compares, and runs the Whitney sweep when asked.
pub fn compare_networks(a: &Observations, b: &Observations, sp: &StudyParams, dev: &mut dyn Device) -> Result<Study> {
    let start = Instant::now();
    let p = &sp.compare;
    p.validate()?;
    if a.n() != b.n() {
        return Err(Error::Shape(format!(
            "A ({}) and B ({}) must observe the same base inputs: A has N = {}, B has N = {}",
            sp.sources.0,
            sp.sources.1,
            a.n(),
            b.n()
        )));
    }
    let choice = whitney::choose_neurons(a, b, sp.neurons, sp.whitney_sweep, p)?;
    let (ca, cb) = &choice.observed;
    let comparison = compare(ca, cb, p, dev)?;
    let sweep = match (sp.whitney_sweep, choice.d) {
        (true, Some(d)) => {
            let order = whitney::pick_neurons(&a.obs, (2 * d + 1).min(a.dim()))?.picked;
            Some(whitney::sweep(a, cb, &order, d, p, dev)?)
        }
        _ => None,
    };
    let run = RunInfo {
        sources: sp.sources.clone(),
        dims_read: (a.dim(), b.dim()),
        neurons: (choice.picks.0.as_ref().map(|x| x.picked.clone()), choice.picks.1.as_ref().map(|x| x.picked.clone())),
        backend_note: sp.backend_note.clone(),
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(Study { comparison, params: p.clone(), picks: choice.picks, observed: choice.observed, sweep, run })
}

impl Study {
    /// The typed `report.json`.
    pub fn report(&self) -> Report {
        Report::new(&self.comparison, &self.params, &self.run, self.sweep.as_deref())
    }

    /// The arrays of `report.npz` (and of the figures).
    pub fn arrays(&self) -> ReportArrays {
        ReportArrays::new(&self.comparison, &self.observed.0, self.sweep.as_deref())
    }

    /// Writes the report directory `dir` (`report.json`, `report.npz`, the figures) as a whole: it is
    /// staged beside `dir` and moved into place when complete, so a failure leaves no partial
    /// directory. An existing directory that netmatch wrote is replaced only with `force`; returns the
    /// files written.
    pub fn write(&self, dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
        let stage = OutputDir::create(dir, force)?;
        let observed = (&self.observed.0, &self.observed.1);
        let staged =
            report::write(stage.path(), &self.comparison, &self.params, &self.run, observed, self.sweep.as_deref())?;
        let stage_dir = stage.path().to_path_buf();
        let target = stage.commit()?;
        Ok(staged.into_iter().map(|f| f.strip_prefix(&stage_dir).map_or(f.clone(), |rel| target.join(rel))).collect())
    }
}
