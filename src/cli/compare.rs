//! `netmatch compare`: read A and B, choose their neurons (Whitney), compare, write the report
//! directory, print the summary table.

use std::path::PathBuf;
use std::process::ExitCode;

use netmatch::Observations;
use netmatch::data::npy::NpyFiles;
use netmatch::error::{Error, Result};
use netmatch::pipeline::compare::CompareParams;
use netmatch::pipeline::verdict::{Thresholds, Verdict};
use netmatch::report;
use netmatch::study::{StudyParams, compare_networks};

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
            use netmatch::data::synthetic::{tanh_pair, tanh_pair_folded};
            let (x, y) = match kind {
                SyntheticPair::PartialFold => tanh_pair_folded(1500, a.seed)?,
                _ => tanh_pair(kind == SyntheticPair::Blind, 1500, a.seed)?,
            };
            let name = match kind {
                SyntheticPair::Equivalent => "equivalent",
                SyntheticPair::Blind => "blind",
                SyntheticPair::PartialFold => "partial-fold",
            };
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
    let (mut dev, backend_note) = super::open_backend(a.run.backend, quiet)?;
    note(
        quiet,
        &format!(
            "A {src_a} (N = {}, D = {}), B {src_b} (D = {}); backend {} ({})",
            da.n(),
            da.dim(),
            db.dim(),
            dev.kind(),
            dev.adapter()
        ),
    );
    let sp = StudyParams { compare: p, neurons, whitney_sweep: a.whitney_sweep, sources: (src_a, src_b), backend_note };
    let s = compare_networks(&da, &db, &sp, dev.as_mut())?;
    for (side, pk) in [("A", &s.picks.0), ("B", &s.picks.1)] {
        if let Some(pk) = pk {
            let (dead, sat) = (pk.dead.len(), pk.saturated.len());
            note(quiet, &format!("{side}: compared neurons {:?} (skipped {dead} dead, {sat} saturated)", pk.picked));
        }
    }
    let files = s.write(&a.out, a.run.force)?;
    let (c, p) = (&s.comparison, &s.params);
    print!("{}", report::summary_table(c, p));
    if let Some(sweep) = &s.sweep {
        print!("{}", report::sweep_table(sweep));
    }
    println!("  report: {} ({} files)", a.out.join("report.json").display(), files.len());
    if a.fail_unless_equivalent && c.verdict != Verdict::Equivalent {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
