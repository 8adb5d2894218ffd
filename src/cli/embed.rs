//! `netmatch info` and `netmatch embed`.

use std::process::ExitCode;

use netmatch::data::{npz, synthetic};
use netmatch::error::{Error, Result};
use netmatch::pipeline::embed::{EmbedParams, embed};
use netmatch::report::EmbedSummary;

use super::args::{EmbedArgs, SyntheticData};
use super::config;
use super::term::Term;

/// Lists the adapters, the one netmatch would choose, and what `auto` computes on.
pub fn info() -> Result<ExitCode> {
    let adapters = netmatch::gpu::list_adapters();
    if adapters.is_empty() {
        println!(
            "no GPU adapters found (a Vulkan driver, e.g. mesa-vulkan-drivers, exposes one); netmatch will use the CPU"
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
            if ctx.is_software() {
                println!(
                    "--backend auto computes on the CPU here (a software adapter); --backend gpu uses the adapter"
                );
            }
        }
        Err(e) => println!("chosen: CPU ({e})"),
    }
    println!("cpu: {} rayon threads", rayon::current_num_threads());
    Ok(ExitCode::SUCCESS)
}

/// Embeds one network's observations; the JSON summary goes to stdout, the arrays to `--out`.
pub fn run(a: EmbedArgs) -> Result<ExitCode> {
    let eps = config::eps(&a.eps)?;
    netmatch::pipeline::kernel::check_alpha(a.alpha)?;
    netmatch::report::check_file(&a.out)?;
    let data = match (&a.input, a.synthetic) {
        (Some(path), _) => netmatch::data::load(path)?,
        (None, Some(SyntheticData::Circle)) => synthetic::circle(1000, 3, a.seed)?,
        (None, _) => synthetic::mushroom_square(2500, 100, 0.01, a.seed)?,
    };
    let mut params = EmbedParams {
        k: a.k,
        eps,
        alpha: a.alpha,
        tol: a.tol,
        max_matvecs: a.max_matvecs,
        solver: a.solver,
        storage: a.storage,
        precision: a.precision.get(),
        kernel: a.kernel,
        sparse: netmatch::pipeline::sparse::SparseParams::with_k(a.knn),
        sparse_solve: a.sparse_solve,
        seed: a.seed,
        verbose: a.verbose,
        observe: Term::observe(false),
        ..Default::default()
    };
    params.covariance.rank = a.rank;
    params.covariance.normal_weight = a.normal_weight;
    let (mut dev, note) = super::open_backend(a.backend, false)?;
    if a.verbose {
        super::term::note(
            false,
            &format!("N = {}, D = {}, backend {} ({})", data.n(), data.dim(), dev.kind(), dev.adapter()),
        );
    }
    let e = embed(&data, &params, dev.as_mut())?;
    let keep = e.info.converged || a.allow_unconverged;
    if keep {
        if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let values = ndarray::Array1::from(e.eigenvalues.clone());
        npz::write_atomic(&a.out, |w| {
            w.add_array("eigenvalues", &values)?;
            w.add_array("coords", &e.coords)?;
            w.add_array("eps", &ndarray::arr0(e.eps.eps))?;
            Ok(())
        })?;
    }
    let summary = EmbedSummary::new(&data, &e, note, keep.then(|| a.out.display().to_string()));
    println!("{}", serde_json::to_string(&summary).map_err(|e| Error::Shape(e.to_string()))?);
    if !e.info.converged {
        super::term::note(
            false,
            &format!(
                "eigen-solve did not converge within {} matvecs (max residual {:.2e}, tol {:.1e}){}",
                e.info.matvecs,
                summary.max_residual,
                a.tol,
                if a.allow_unconverged {
                    "; output written anyway (--allow-unconverged)"
                } else {
                    "; no output written (pass --allow-unconverged to keep it)"
                }
            ),
        );
        if !a.allow_unconverged {
            return Ok(ExitCode::from(4));
        }
    }
    Ok(ExitCode::SUCCESS)
}
