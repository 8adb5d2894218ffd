//! `netmatch bench …`: the embed benchmark, the peer runner's export and timing, the verdict suite.

use std::process::ExitCode;

use netmatch::backend::BackendChoice;
use netmatch::bench::{BenchParams, PeerParams, PeerTask, bench_embed, peers_export, peers_run};
use netmatch::error::{Error, Result};
use netmatch::solve::block::Solver;
use netmatch::suite::{SuiteParams, summary, table};

use super::args::{BenchEmbedArgs, BenchResolutionArgs, BenchVerdictsArgs, PeersArgs};
use super::term::Term;

/// Writes `value` as pretty JSON to `path` atomically, and returns the text.
fn json_record(value: &impl serde::Serialize, path: Option<&std::path::Path>) -> Result<String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Shape(e.to_string()))?;
    if let Some(path) = path {
        netmatch::data::write_file_atomic(path, text.as_bytes())?;
    }
    Ok(text)
}

/// GPU path vs CPU path vs float64 reference on seeded data; the record goes to stdout (and `--out`).
pub fn embed(a: BenchEmbedArgs) -> Result<ExitCode> {
    if let Some(path) = &a.out {
        netmatch::report::check_file(path)?;
    }
    let p = BenchParams {
        sizes: a.n,
        m: a.m,
        k: a.k,
        reference_max_n: a.reference_max_n,
        seed: a.seed,
        cpu_only: a.cpu_only,
        precisions: a.precision,
        kernels: a.kernel,
        jacobians: a.jacobians,
        normal_weight: a.normal_weight,
        export: a.export_geometry,
        configs: super::config::configs(&a.configs)?,
        observe: Term::observe(false),
    };
    println!("{}", json_record(&bench_embed(&p)?, a.out.as_deref())?);
    Ok(ExitCode::SUCCESS)
}

/// The verdict suite on the CPU path: one line per case on stderr, the table on stdout.
pub fn verdicts(a: BenchVerdictsArgs) -> Result<ExitCode> {
    if let Some(path) = &a.out {
        netmatch::report::check_file(path)?;
    }
    let mut p = if a.quick { SuiteParams::quick(a.seed) } else { SuiteParams::full(a.seed) };
    if let Some(r) = a.reps {
        p.reps = r;
    }
    p.filter = a.family;
    p.unknown_design = a.unknown_design;
    let t = std::time::Instant::now();
    let mut dev = netmatch::cpu::CpuDevice::new();
    let mut k = 0;
    let results = netmatch::suite::run(&p, &mut dev, &mut |r| {
        k += 1;
        let v = match &r.verdict {
            Ok(v) => v.as_str().to_string(),
            Err(e) => format!("error: {e}"),
        };
        let mark = if r.right() { "ok  " } else { "MISS" };
        eprintln!("[{k:>3}] {mark} {:<22} {:<15} → {v} ({:.1} s) {}", r.family, r.truth.as_str(), r.seconds, r.what);
    })?;
    let s = summary(&results, &p, t.elapsed().as_secs_f64());
    if a.out.is_some() {
        json_record(&s, a.out.as_deref())?;
    }
    print!("{}", table(&s));
    Ok(ExitCode::SUCCESS)
}

/// The resolution study on the CPU path: one line per case on stderr, the table on stdout.
pub fn resolution(a: BenchResolutionArgs) -> Result<ExitCode> {
    if let Some(path) = &a.out {
        netmatch::report::check_file(path)?;
    }
    let mut dev = netmatch::cpu::CpuDevice::new();
    let fractions = [0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3];
    let r = netmatch::suite::resolution(a.n, &fractions, a.seeds, &mut dev, &mut |line| eprintln!("{line}"))?;
    if a.out.is_some() {
        json_record(&r, a.out.as_deref())?;
    }
    print!("{}", netmatch::suite::resolution_table(&r));
    Ok(ExitCode::SUCCESS)
}

/// `peers-export` (no `run`) or `peers-run` (the task, an explicit backend and the solver).
pub fn peers(a: PeersArgs, run: Option<(PeerTask, BackendChoice, Solver)>) -> Result<ExitCode> {
    if a.sparse_n > 0 && a.sparse_n < 50 {
        return Err(Error::param("sparse-n", "need 0 (none) or N ≥ 50"));
    }
    let p = PeerParams {
        dir: a.dir,
        mushroom_n: a.mushroom_n,
        mushroom_m: a.mushroom_m,
        sizes: a.sizes,
        sparse_n: a.sparse_n,
        k: a.k,
        tol: a.tol,
        seed: a.seed,
        observe: Term::observe(false),
    };
    let v = match run {
        None => peers_export(&p)?,
        Some((PeerTask::Sparse, _, _)) if p.sparse_n == 0 => {
            return Err(Error::param("task", "`sparse` needs --sparse-n > 0"));
        }
        Some((task, backend, solver)) => {
            let (mut dev, _) = super::open_backend(backend, false)?;
            peers_run(&p, task, solver, dev.as_mut())?
        }
    };
    println!("{v}");
    Ok(ExitCode::SUCCESS)
}
