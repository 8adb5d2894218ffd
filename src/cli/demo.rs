//! `netmatch demo …`: train the demo network pairs in-process and compare them end to end.

use std::process::ExitCode;

use netmatch::error::Result;
use netmatch::experiments::{DemoParams, HorseParams, horse, scalar, summary, vector_field};

use super::args::{DemoArgs, DemoCommand, HorseArgs, RunArgs};
use super::term::{Term, note};

/// Runs one demo.
pub fn run(command: DemoCommand) -> Result<ExitCode> {
    match command {
        DemoCommand::Scalar(a) => small("scalar", a),
        DemoCommand::VectorField(a) => small("vector-field", a),
        DemoCommand::Horse(a) => run_horse(a),
    }
}

/// What every demo takes from the common flags: output, --force, progress, the backend's spelling.
fn shared(out: std::path::PathBuf, run: RunArgs) -> DemoParams {
    DemoParams {
        out,
        force: run.force,
        verbose: !run.quiet,
        observe: Term::observe(run.quiet),
        backend: run.backend.name().into(),
        ..Default::default()
    }
}

/// The scalar and vector-field demos.
fn small(which: &str, a: DemoArgs) -> Result<ExitCode> {
    let out = a.out.unwrap_or_else(|| format!("out/demo-{which}").into());
    let p = DemoParams { seed: a.seed, n: a.n, train_n: a.train_n, steps: a.steps, m: a.m, ..shared(out, a.run) };
    // Refuse bad sizes and an occupied directory before the backend starts or anything trains.
    p.validate()?;
    netmatch::report::check_dir(&p.out, p.force)?;
    let (mut dev, _) = super::open_backend(a.run.backend, a.run.quiet)?;
    note(a.run.quiet, &format!("demo {which}: backend {} ({}), output {}", dev.kind(), dev.adapter(), p.out.display()));
    let outcome = match which {
        "scalar" => scalar(&p, dev.as_mut())?,
        _ => vector_field(&p, dev.as_mut())?,
    };
    print!("{}", summary(&outcome, &p.out));
    Ok(ExitCode::SUCCESS)
}

/// The horse demo: renders, trains and compares; renders on the GPU only where it computes.
fn run_horse(a: HorseArgs) -> Result<ExitCode> {
    let hp = HorseParams { size: a.size, sigma: a.sigma };
    hp.validate(a.frames)?;
    let p = DemoParams {
        seed: a.seed,
        n: a.frames,
        // The networks train on at most 720 evenly spaced frames (training cost grows with the frames;
        // the comparison observes them on all).
        train_n: a.frames.min(DemoParams::horse().train_n),
        steps: a.steps,
        m: 2,
        ..shared(a.out.clone(), a.run)
    };
    p.validate()?;
    netmatch::report::check_dir(&p.out, p.force)?;
    let (mut dev, _) = super::open_backend(a.run.backend, a.run.quiet)?;
    let gpu = if dev.kind() == "gpu" { super::render::render_context(a.run.backend, a.run.quiet)? } else { None };
    note(a.run.quiet, &format!("demo horse: backend {} ({}), output {}", dev.kind(), dev.adapter(), a.out.display()));
    let outcome = horse(&p, &hp, gpu, dev.as_mut())?;
    print!("{}", summary(&outcome, &p.out));
    println!("contact sheet: {}", p.out.join("contact_sheet.png").display());
    Ok(ExitCode::SUCCESS)
}
