//! `netmatch compare`: read A and B, choose their neurons (Whitney), compare, write the report
//! directory, print the summary table.

use std::path::PathBuf;
use std::process::ExitCode;

use netmatch::Observations;
use netmatch::data::npy::NpyFiles;
use netmatch::error::{Error, Result};
use netmatch::pipeline::compare::{CompareParams, compare};
use netmatch::pipeline::verdict::{Thresholds, Verdict};
use netmatch::pipeline::whitney;
use netmatch::report;

use super::args::{CompareArgs, SyntheticPair};
use super::config;
use super::term::{Term, note};

/// One side's observations and where they came from: a file, or the `--{side}-…` `.npy` set.
fn load_side(side: &str, file: &Option<PathBuf>, npy: NpyFiles, sigma: f64) -> Result<(Observations, String)> {
    if let Some(p) = file {
        return Ok((netmatch::data::load(p)?, p.display().to_string()));
    }
    let src = npy.obs.map(|p| p.display().to_string()).unwrap_or_default();
    let d = netmatch::data::npy::read_observations(&npy, sigma).map_err(|e| match e {
        Error::Param { name, message } => {
            Error::Param { name, message: format!("(--{side}-… .npy input) {message}") }
        }
        other => other,
    })?;
    Ok((d, src))
}

/// Runs the comparison; exit 3 when `--fail-unless-equivalent` and the verdict is not `equivalent`.
pub fn run(a: CompareArgs) -> Result<ExitCode> {
    let start = std::time::Instant::now();
    let quiet = a.run.quiet;
    let mut p = CompareParams {
        k: a.k,
        eps: config::eps(&a.eps)?,
        d: a.d,
        gap: a.gap,
        test_fraction: a.test_fraction,
        folds: a.folds,
        thresholds: Thresholds {
            predict_rmse: a.predict_rmse,
            equivalent_rmse: a.equivalent_rmse,
            equivalent_corr: a.equivalent_corr,
            not_equivalent_rmse: a.not_equivalent_rmse,
            spectrum_tol: a.spectrum_tol,
            ..Default::default()
        },
        seed: a.seed,
        verbose: !quiet,
        observe: Term::observe(quiet),
        ..Default::default()
    };
    p.covariance.normal_weight = a.normal_weight;
    p.covariance.rank = a.rank;
    p.validate()?;
    let neurons = config::neurons(&a.neurons)?;
    // Check the output directory before any work, so a refused run costs nothing; it is created
    // only when the report is complete.
    report::check_dir(&a.out, a.run.force)?;
    let ((da, src_a), (db, src_b)) = match a.synthetic {
        Some(kind) => {
            let (x, y) = netmatch::data::synthetic::tanh_pair(kind == SyntheticPair::Blind, 1500, a.seed)?;
            let name = if kind == SyntheticPair::Blind { "blind" } else { "equivalent" };
            ((x, format!("synthetic:{name}:A")), (y, format!("synthetic:{name}:B")))
        }
        None => {
            let npy_a = NpyFiles {
                obs: a.a_obs.as_deref(),
                bursts: a.a_bursts.as_deref(),
                jacobians: a.a_jacobians.as_deref(),
                inputs: a.a_inputs.as_deref(),
                outputs: a.a_outputs.as_deref(),
            };
            let npy_b = NpyFiles {
                obs: a.b_obs.as_deref(),
                bursts: a.b_bursts.as_deref(),
                jacobians: a.b_jacobians.as_deref(),
                inputs: a.b_inputs.as_deref(),
                outputs: a.b_outputs.as_deref(),
            };
            (load_side("a", &a.a, npy_a, a.a_sigma)?, load_side("b", &a.b, npy_b, a.b_sigma)?)
        }
    };
    if da.n() != db.n() {
        return Err(Error::Shape(format!(
            "A ({src_a}) and B ({src_b}) must observe the same base inputs: A has N = {}, B has N = {}",
            da.n(),
            db.n()
        )));
    }
    let (mut dev, backend_note) = super::open_backend(a.run.backend, quiet)?;
    let (n, dim_a, dim_b) = (da.n(), da.dim(), db.dim());
    note(
        quiet,
        &format!(
            "A {src_a} (N = {n}, D = {dim_a}), B {src_b} (D = {dim_b}); backend {} ({})",
            dev.kind(),
            dev.adapter()
        ),
    );
    let choice = whitney::choose_neurons(&da, &db, neurons, a.whitney_sweep, &p)?;
    for (side, pk) in [("A", &choice.picks.0), ("B", &choice.picks.1)] {
        if let Some(pk) = pk {
            let (dead, sat) = (pk.dead.len(), pk.saturated.len());
            note(quiet, &format!("{side}: compared neurons {:?} (skipped {dead} dead, {sat} saturated)", pk.picked));
        }
    }
    let (ca, cb) = &choice.observed;
    let c = compare(ca, cb, &p, dev.as_mut())?;
    let sweep = match (a.whitney_sweep, choice.d) {
        (true, Some(d)) => {
            let order = whitney::pick_neurons(&da.obs, (2 * d + 1).min(da.dim()))?.picked;
            Some(whitney::sweep(&da, cb, &order, d, &p, dev.as_mut())?)
        }
        _ => None,
    };
    let run = report::RunInfo {
        sources: (src_a, src_b),
        dims_read: (da.dim(), db.dim()),
        neurons: (choice.picks.0.map(|x| x.picked), choice.picks.1.map(|x| x.picked)),
        backend_note,
        seconds: start.elapsed().as_secs_f64(),
    };
    let stage = report::OutputDir::create(&a.out, a.run.force)?;
    let files = report::write(stage.path(), &c, &p, &run, (ca, cb), sweep.as_deref())?;
    stage.commit()?;
    print!("{}", report::summary_table(&c, &p));
    if let Some(s) = &sweep {
        print!("{}", report::sweep_table(s));
    }
    println!("  report: {} ({} files)", a.out.join("report.json").display(), files.len());
    if a.fail_unless_equivalent && c.verdict != Verdict::Equivalent {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
