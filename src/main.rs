//! The `netmatch` binary: parse arguments, run one command, map the outcome to an exit code
//! (0 success, 1 error, 2 usage, 4 eigen-solve not converged).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use netmatch::backend::{BackendChoice, open};
use netmatch::data::npz;
use netmatch::embed::{EmbedParams, embed};
use netmatch::error::{Error, Result};
use netmatch::kernel::EpsilonRule;
use serde_json::json;

use cli::{BenchCommand, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info => info(),
        Command::Embed(a) => run_embed(a),
        Command::Bench(BenchCommand::Embed(a)) => run_bench(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netmatch: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn info() -> Result<ExitCode> {
    let adapters = netmatch::gpu::list_adapters();
    if adapters.is_empty() {
        println!(
            "no GPU adapters found (install a Vulkan driver, e.g. mesa-vulkan-drivers); netmatch will use the CPU"
        );
    }
    for a in &adapters {
        println!(
            "adapter: {} | backend {} | type {} | driver {} | max storage binding {} MiB | max buffer {} MiB | workgroup storage {} KiB | f16 {}",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            a.max_storage_binding >> 20,
            a.max_buffer >> 20,
            a.max_workgroup_storage >> 10,
            a.shader_f16
        );
    }
    match netmatch::gpu::GpuContext::shared() {
        Ok(ctx) => {
            let s = ctx.summary();
            let rows = (s.max_storage_binding.min(s.max_buffer) / 4).isqrt();
            println!(
                "chosen: {} — a dense f32 N×N matrix fits one binding up to N = {rows}; larger N is split into row blocks",
                ctx.describe()
            );
        }
        Err(e) => println!("chosen: CPU ({e})"),
    }
    println!("cpu: {} rayon threads", rayon::current_num_threads());
    Ok(ExitCode::SUCCESS)
}

fn run_embed(a: cli::EmbedArgs) -> Result<ExitCode> {
    let eps: EpsilonRule = a.eps.parse()?;
    let backend: BackendChoice = a.backend.parse()?;
    netmatch::kernel::check_alpha(a.alpha)?;
    if a.k == 0 {
        return Err(Error::param("k", "must be at least 1"));
    }
    let data = match (&a.input, a.synthetic.as_deref()) {
        (Some(path), _) => npz::read_observations(path)?,
        (None, Some("circle")) => netmatch::data::synthetic::circle(1000, 3, a.seed)?,
        (None, _) => netmatch::data::synthetic::mushroom_square(2500, 100, 0.01, a.seed)?,
    };
    let mut params = EmbedParams {
        k: a.k,
        eps,
        alpha: a.alpha,
        tol: a.tol,
        max_matvecs: a.max_matvecs,
        seed: a.seed,
        verbose: a.verbose,
        ..Default::default()
    };
    params.covariance.rank = a.rank;
    params.covariance.normal_weight = a.normal_weight;
    let (mut dev, note) = open(backend)?;
    if let Some(note) = &note {
        eprintln!("netmatch: {note}");
    }
    if a.verbose {
        eprintln!("netmatch: N = {}, D = {}, backend {} ({})", data.n(), data.dim(), dev.kind(), dev.adapter());
    }
    let e = embed(&data, &params, dev.as_mut())?;
    let converged = e.info.converged;
    if converged || a.allow_unconverged {
        if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let coords = e.coords.clone();
        let values = ndarray::Array1::from(e.eigenvalues.clone());
        npz::write_atomic(&a.out, |w| {
            w.add_array("eigenvalues", &values)?;
            w.add_array("coords", &coords)?;
            w.add_array("eps", &ndarray::arr0(e.eps.eps))?;
            Ok(())
        })?;
    }
    let hist: serde_json::Map<String, serde_json::Value> =
        e.rank_histogram.iter().map(|(r, c)| (r.to_string(), json!(c))).collect();
    let stages: serde_json::Map<String, serde_json::Value> =
        e.timings.iter().map(|(s, t)| (s.to_string(), json!(t))).collect();
    let summary = json!({
        "n": data.n(),
        "dim": data.dim(),
        "eps": e.eps.eps,
        "eps_rule": e.eps.rule,
        "eps_slope": e.eps.slope,
        "intrinsic_dimension": e.eps.dimension,
        "rank": e.rank,
        "rank_histogram": hist,
        "backend": e.backend,
        "backend_note": note,
        "adapter": e.adapter,
        "converged": converged,
        "matvecs": e.info.matvecs,
        "restarts": e.info.restarts,
        "max_residual": e.info.residuals.iter().copied().fold(0.0, f64::max),
        "eigenvalues": e.eigenvalues,
        "seconds": stages,
        "out": if converged || a.allow_unconverged { Some(a.out.display().to_string()) } else { None },
    });
    println!("{summary}");
    if !converged {
        eprintln!(
            "netmatch: eigen-solve did not converge within {} matvecs (max residual {:.2e}, tol {:.1e}){}",
            e.info.matvecs,
            e.info.residuals.iter().copied().fold(0.0, f64::max),
            a.tol,
            if a.allow_unconverged {
                "; output written anyway (--allow-unconverged)"
            } else {
                "; no output written (pass --allow-unconverged to keep it)"
            }
        );
        if !a.allow_unconverged {
            return Ok(ExitCode::from(4));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_bench(a: cli::BenchEmbedArgs) -> Result<ExitCode> {
    let p = netmatch::bench::BenchParams {
        sizes: a.n,
        m: a.m,
        k: a.k,
        reference_max_n: a.reference_max_n,
        seed: a.seed,
        cpu_only: a.cpu_only,
    };
    let v = netmatch::bench::bench_embed(&p)?;
    let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Gpu(e.to_string()))?;
    if let Some(path) = &a.out {
        std::fs::write(path, &text).map_err(|e| Error::io(path, e))?;
    }
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
