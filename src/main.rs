//! The `netmatch` binary: parse arguments, run one command, map the outcome to an exit code
//! (0 success, 1 error, 2 usage, 3 not equivalent under `--fail-unless-equivalent`, 4 eigen-solve not
//! converged).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use netmatch::backend::BackendChoice;
use netmatch::open;
use netmatch::data::npz;
use netmatch::error::{Error, Result};
use netmatch::pipeline::embed::{EmbedParams, embed};
use netmatch::pipeline::kernel::EpsilonRule;
use serde_json::json;

use cli::{BenchCommand, Cli, Command, DemoCommand, RenderCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info => info(),
        Command::Embed(a) => run_embed(a),
        Command::Compare(a) => run_compare(*a),
        Command::Render(RenderCommand::Horse(a)) => run_render(a),
        Command::Demo(DemoCommand::Scalar(a)) => run_demo("scalar", a),
        Command::Demo(DemoCommand::VectorField(a)) => run_demo("vector-field", a),
        Command::Demo(DemoCommand::Horse(a)) => run_horse(a),
        Command::Bench(BenchCommand::Embed(a)) => run_bench(a),
        Command::Bench(BenchCommand::PeersExport(a)) => run_peers(a, None),
        Command::Bench(BenchCommand::Verdicts(a)) => run_verdicts(a),
        Command::Bench(BenchCommand::PeersRun(a)) => {
            let (task, backend, solver) = (a.task.clone(), a.backend.clone(), a.solver.clone());
            run_peers(a.common, Some((task, backend, solver)))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netmatch: error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Opens the chosen backend and says on stderr when it fell back (e.g. no adapter → CPU).
fn open_backend(choice: BackendChoice) -> Result<(Box<dyn netmatch::Device>, Option<String>)> {
    let (dev, note) = open(choice)?;
    if let Some(note) = &note {
        eprintln!("netmatch: {note}");
    }
    Ok((dev, note))
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
    netmatch::pipeline::kernel::check_alpha(a.alpha)?;
    netmatch::report::check_file(&a.out)?;
    let data = match (&a.input, a.synthetic.as_deref()) {
        (Some(path), _) => netmatch::data::load(path)?,
        (None, Some("circle")) => netmatch::data::synthetic::circle(1000, 3, a.seed)?,
        (None, _) => netmatch::data::synthetic::mushroom_square(2500, 100, 0.01, a.seed)?,
    };
    let mut params = EmbedParams {
        k: a.k,
        eps,
        alpha: a.alpha,
        tol: a.tol,
        max_matvecs: a.max_matvecs,
        solver: a.solver.parse()?,
        storage: a.storage.parse()?,
        precision: if a.precision == "auto" { None } else { Some(a.precision.parse()?) },
        kernel: a.kernel.parse()?,
        sparse: netmatch::pipeline::sparse::SparseParams::with_k(a.knn),
        sparse_solve: a.sparse_solve.parse()?,
        seed: a.seed,
        verbose: a.verbose,
        ..Default::default()
    };
    params.covariance.rank = a.rank;
    params.covariance.normal_weight = a.normal_weight;
    let (mut dev, note) = open_backend(backend)?;
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
        "storage": e.storage,
        "adapter": e.adapter,
        "converged": converged,
        "matvecs": e.info.matvecs,
        "solver": e.info.solver,
        "block": e.info.block,
        "passes": e.info.passes,
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
    if let Some(path) = &a.out {
        netmatch::report::check_file(path)?;
    }
    let p = netmatch::bench::BenchParams {
        sizes: a.n,
        m: a.m,
        k: a.k,
        reference_max_n: a.reference_max_n,
        seed: a.seed,
        cpu_only: a.cpu_only,
        precisions: a.precision.iter().map(|p| p.parse()).collect::<Result<_, _>>()?,
        kernels: a.kernel.iter().map(|k| k.parse()).collect::<Result<_, _>>()?,
        jacobians: a.jacobians,
        normal_weight: a.normal_weight,
        export: a.export_geometry,
        configs: a
            .configs
            .iter()
            .map(|c| {
                c.split_once('x')
                    .and_then(|(d, r)| Some((d.parse().ok()?, r.parse().ok()?)))
                    .filter(|&(d, r): &(usize, usize)| d >= r && r >= 1 && d <= 65_536)
                    .ok_or_else(|| Error::param("configs", format!("expected DxR with 65 536 ≥ D ≥ R ≥ 1, got `{c}`")))
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let v = netmatch::bench::bench_embed(&p)?;
    let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Gpu(e.to_string()))?;
    if let Some(path) = &a.out {
        netmatch::data::write_file_atomic(path, text.as_bytes())?;
    }
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn run_verdicts(a: cli::BenchVerdictsArgs) -> Result<ExitCode> {
    use netmatch::suite::{SuiteParams, run, summary, table};
    if let Some(path) = &a.out {
        netmatch::report::check_file(path)?;
    }
    let mut p = if a.quick { SuiteParams::quick(a.seed) } else { SuiteParams::full(a.seed) };
    if let Some(r) = a.reps {
        p.reps = r;
    }
    p.filter = a.family;
    let t = std::time::Instant::now();
    let mut dev = netmatch::cpu::CpuDevice::new();
    let mut k = 0;
    let results = run(&p, &mut dev, &mut |r| {
        k += 1;
        let v = match &r.verdict {
            Ok(v) => v.as_str().to_string(),
            Err(e) => format!("error: {e}"),
        };
        let mark = if r.right() { "ok  " } else { "MISS" };
        eprintln!("[{k:>3}] {mark} {:<22} {:<15} → {v} ({:.1} s) {}", r.family, r.truth.as_str(), r.seconds, r.what);
    })?;
    let s = summary(&results, &p, t.elapsed().as_secs_f64());
    if let Some(path) = &a.out {
        let text = serde_json::to_string_pretty(&s).map_err(|e| Error::Gpu(e.to_string()))?;
        netmatch::data::write_file_atomic(path, text.as_bytes())?;
    }
    print!("{}", table(&s));
    Ok(ExitCode::SUCCESS)
}

fn run_peers(a: cli::PeersArgs, run: Option<(String, String, String)>) -> Result<ExitCode> {
    use netmatch::bench::{PeerParams, PeerTask, peers_export, peers_run};
    let a_sparse_n = a.sparse_n;
    if a_sparse_n > 0 && a_sparse_n < 50 {
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
    };
    let v = match run {
        None => peers_export(&p)?,
        Some((task, backend, solver)) => {
            let task = match task.as_str() {
                "mushroom" => PeerTask::Mushroom,
                "sparse" if a_sparse_n > 0 => PeerTask::Sparse,
                "sparse" => return Err(Error::param("task", "`sparse` needs --sparse-n > 0")),
                _ => PeerTask::Matrix(
                    task.parse().map_err(|_| Error::param("task", "expected `mushroom`, `sparse` or an N"))?,
                ),
            };
            let choice: BackendChoice = backend.parse()?;
            if choice == BackendChoice::Auto {
                return Err(Error::param("backend", "peers-run needs an explicit gpu or cpu"));
            }
            let (mut dev, _) = open_backend(choice)?;
            peers_run(&p, task, solver.parse()?, dev.as_mut())?
        }
    };
    println!("{v}");
    Ok(ExitCode::SUCCESS)
}

fn load_side(
    name: &str,
    file: &Option<std::path::PathBuf>,
    npy: netmatch::data::npy::NpyFiles,
    sigma: f64,
) -> Result<(netmatch::Observations, String)> {
    match file {
        Some(p) => Ok((netmatch::data::load(p)?, p.display().to_string())),
        None => {
            let src = npy.obs.map(|p| p.display().to_string()).unwrap_or_default();
            let d = netmatch::data::npy::read_observations(&npy, sigma).map_err(|e| match e {
                Error::Param { name: p, message } => {
                    Error::Param { name: p, message: format!("(--{name}-… .npy input) {message}") }
                }
                other => other,
            })?;
            Ok((d, src))
        }
    }
}

fn run_compare(a: cli::CompareArgs) -> Result<ExitCode> {
    use netmatch::pipeline::compare::{CompareParams, compare};
    use netmatch::pipeline::verdict::{Thresholds, Verdict};
    use netmatch::pipeline::whitney;
    use netmatch::report;
    let start = std::time::Instant::now();
    let eps: EpsilonRule = a.eps.parse()?;
    let backend: BackendChoice = a.backend.parse()?;
    for (flag, v, lo, hi) in [
        ("predict-rmse", a.predict_rmse, 0.0, 1.0),
        ("equivalent-rmse", a.equivalent_rmse, 0.0, 1.0),
        ("equivalent-corr", a.equivalent_corr, 0.0, 1.0),
        ("not-equivalent-rmse", a.not_equivalent_rmse, 0.0, 10.0),
        ("spectrum-tol", a.spectrum_tol, 0.0, 1.0),
        ("gap", a.gap, 0.0, 1.0),
    ] {
        if !(v > lo && v <= hi) {
            return Err(Error::param(flag, format!("must lie in ({lo}, {hi}], got {v}")));
        }
    }
    if a.not_equivalent_rmse < a.equivalent_rmse {
        return Err(Error::param("not-equivalent-rmse", "must be at least --equivalent-rmse"));
    }
    if !(a.normal_weight >= 0.0 && a.normal_weight.is_finite()) {
        return Err(Error::param("normal-weight", format!("must be ≥ 0 and finite, got {}", a.normal_weight)));
    }
    if a.k < 2 {
        return Err(Error::param("k", "must be at least 2"));
    }
    enum Neurons {
        All,
        Auto,
        Count(usize),
    }
    let neurons = match a.neurons.as_str() {
        "all" => Neurons::All,
        "auto" => Neurons::Auto,
        s => match s.parse::<usize>() {
            Ok(q) if q >= 1 => Neurons::Count(q),
            _ => return Err(Error::param("neurons", format!("expected all, auto or a positive count, got `{s}`"))),
        },
    };
    // Check the output directory before any work, so a refused run costs nothing; it is created
    // only when the report is complete.
    report::check_dir(&a.out, a.force)?;
    use netmatch::data::npy::NpyFiles;
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
    let ((da, src_a), (db, src_b)) = match a.synthetic.as_deref() {
        Some(kind) => {
            let (x, y) = netmatch::data::synthetic::tanh_pair(kind == "blind", 1500, a.seed)?;
            ((x, format!("synthetic:{kind}:A")), (y, format!("synthetic:{kind}:B")))
        }
        None => (load_side("a", &a.a, npy_a, a.a_sigma)?, load_side("b", &a.b, npy_b, a.b_sigma)?),
    };
    if da.n() != db.n() {
        return Err(Error::Shape(format!(
            "A ({src_a}) and B ({src_b}) must observe the same base inputs: A has N = {}, B has N = {}",
            da.n(),
            db.n()
        )));
    }
    let mut p = CompareParams {
        k: a.k,
        eps,
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
        verbose: !a.quiet,
        ..Default::default()
    };
    p.covariance.normal_weight = a.normal_weight;
    p.covariance.rank = a.rank;
    let (mut dev, note) = open_backend(backend)?;
    if !a.quiet {
        eprintln!(
            "netmatch: A {src_a} (N = {}, D = {}), B {src_b} (D = {}); backend {} ({})",
            da.n(),
            da.dim(),
            db.dim(),
            dev.kind(),
            dev.adapter()
        );
    }
    // Neuron choice (Whitney): the dimension comes from --d or from A's ε log-log estimate.
    let need_d = !matches!(neurons, Neurons::All) || a.whitney_sweep;
    let d = match (a.d, need_d) {
        (Some(d), _) => Some(d),
        (None, true) => Some(whitney::estimate_dimension(&da, &p)?),
        (None, false) => None,
    };
    let pick = |o: &netmatch::Observations, side: &str| -> Result<Option<whitney::NeuronPick>> {
        let q = match neurons {
            Neurons::All => return Ok(None),
            Neurons::Auto => 2 * d.expect("set for auto") + 1,
            Neurons::Count(q) => q,
        };
        if q >= o.dim() && matches!(neurons, Neurons::Auto) {
            return Ok(None); // already at most 2d+1 neurons: use them all
        }
        if q > o.dim() {
            return Err(Error::param("neurons", format!("{side} has only D = {} neurons, asked for {q}", o.dim())));
        }
        whitney::pick_neurons(&o.obs, q).map(Some)
    };
    let (pa, pb) = (pick(&da, "A")?, pick(&db, "B")?);
    let ca = match &pa {
        Some(pk) => da.columns(&pk.picked)?,
        None => da.clone(),
    };
    let cb = match &pb {
        Some(pk) => db.columns(&pk.picked)?,
        None => db.clone(),
    };
    for (side, pk) in [("A", &pa), ("B", &pb)] {
        if let (Some(pk), false) = (pk, a.quiet) {
            eprintln!(
                "netmatch: {side}: compared neurons {:?} (skipped {} dead, {} saturated)",
                pk.picked,
                pk.dead.len(),
                pk.saturated.len()
            );
        }
    }
    let c = compare(&ca, &cb, &p, dev.as_mut())?;
    let sweep = if a.whitney_sweep {
        let d = d.expect("set for the sweep");
        let order = whitney::pick_neurons(&da.obs, (2 * d + 1).min(da.dim()))?.picked;
        Some(whitney::sweep(&da, &cb, &order, d, &p, dev.as_mut())?)
    } else {
        None
    };
    let run = report::RunInfo {
        sources: (src_a, src_b),
        dims_read: (da.dim(), db.dim()),
        neurons: (pa.map(|x| x.picked), pb.map(|x| x.picked)),
        backend_note: note,
        seconds: start.elapsed().as_secs_f64(),
    };
    let stage = report::OutputDir::create(&a.out, a.force)?;
    let files = report::write(stage.path(), &c, &p, &run, (&ca, &cb), sweep.as_deref())?;
    stage.commit()?;
    print!("{}", report::summary_table(&c, &p));
    if let Some(s) = &sweep {
        println!("  Whitney sweep (A's first q picked neurons vs B):");
        for pt in s {
            let rec = pt.reconstruction.0.map(|v| format!(", input from q: {:.2} %", 100.0 * v)).unwrap_or_default();
            match (pt.verdict, pt.rmse) {
                (Some(v), Some((ab, ba))) => println!(
                    "    q = {}: {} (T_AB {:.2} %, T_BA {:.2} %{rec})",
                    pt.q,
                    v.as_str(),
                    100.0 * ab,
                    100.0 * ba
                ),
                _ => println!("    q = {}: not comparable ({}){rec}", pt.q, pt.error.as_deref().unwrap_or("?")),
            }
        }
    }
    println!("  report: {} ({} files)", a.out.join("report.json").display(), files.len());
    if a.fail_unless_equivalent && c.verdict != Verdict::Equivalent {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_demo(which: &str, a: cli::DemoArgs) -> Result<ExitCode> {
    use netmatch::experiments::{DemoParams, scalar, summary, vector_field};
    let backend: BackendChoice = a.backend.parse()?;
    let p = DemoParams {
        out: a.out.unwrap_or_else(|| format!("out/demo-{which}").into()),
        seed: a.seed,
        n: a.n,
        train_n: a.train_n,
        steps: a.steps,
        m: a.m,
        force: a.force,
        verbose: !a.quiet,
        backend: a.backend.clone(),
    };
    // Refuse bad sizes and an occupied directory before the backend starts or anything trains.
    p.validate()?;
    netmatch::report::check_dir(&p.out, p.force)?;
    let (mut dev, _) = open_backend(backend)?;
    if !a.quiet {
        eprintln!("netmatch demo {which}: backend {} ({}), output {}", dev.kind(), dev.adapter(), p.out.display());
    }
    let outcome = match which {
        "scalar" => scalar(&p, dev.as_mut())?,
        _ => vector_field(&p, dev.as_mut())?,
    };
    print!("{}", summary(&outcome, &p.out));
    Ok(ExitCode::SUCCESS)
}

/// The GPU context to render on, if any. `auto` renders on the GPU only when it is real hardware: on
/// a software adapter (lavapipe) ray marching ran 5× slower than the CPU twin (BENCHMARKS.md), so the
/// twin renders there, and says so; `--backend gpu` renders on the adapter regardless.
fn render_context(backend: BackendChoice, verbose: bool) -> Result<Option<std::sync::Arc<netmatch::gpu::GpuContext>>> {
    Ok(match backend {
        BackendChoice::Cpu => None,
        BackendChoice::Gpu => Some(netmatch::gpu::GpuContext::shared()?),
        BackendChoice::Auto => match netmatch::gpu::GpuContext::shared() {
            Ok(c) if c.is_software() => {
                if verbose {
                    eprintln!(
                        "netmatch: rendering on the CPU twin: {} is a software rasteriser, slower at ray \
                         marching than the twin (--backend gpu renders there anyway)",
                        c.describe()
                    );
                }
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                if verbose {
                    eprintln!("netmatch: rendering on the CPU ({e})");
                }
                None
            }
        },
    })
}

fn run_render(a: cli::RenderArgs) -> Result<ExitCode> {
    use netmatch::render::{FrameRenderer, Scene, contact_sheet, frame_angles};
    // Images (4 bytes a pixel); with --jacobians also the shifted renders, the f64 observations and
    // the Jacobians.
    let dims = if a.elevations > 1 { 2 } else { 1 };
    let per_pixel = if a.jacobians { 4 + 4 + 8 + 8 * dims as u64 } else { 4 };
    netmatch::render::check_set(a.frames, a.elevations, a.size, per_pixel)?;
    let backend: BackendChoice = a.backend.parse()?;
    netmatch::report::check_dir(&a.out, a.force)?;
    let ctx = render_context(backend, true)?;
    let mut renderer = FrameRenderer::new(ctx, &Scene::horse(), a.size)?;
    let where_ = renderer.describe();
    let angles = frame_angles(a.frames, a.elevations);
    let t0 = std::time::Instant::now();
    let images = renderer.render_with_progress(&angles, "render", angles.len() >= 1000)?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("netmatch: rendered {} frames of {s}×{s} on {where_} in {secs:.2} s", angles.len(), s = a.size);
    let n = angles.len();
    let imgs = ndarray::Array3::from_shape_vec((n, a.size, a.size), images.clone())
        .map_err(|e| Error::Shape(format!("rendered images do not match {n} frames of {0}×{0}: {e}", a.size)))?;
    let ang = ndarray::Array2::from_shape_fn((n, 2), |(i, k)| if k == 0 { angles[i].0 } else { angles[i].1 });
    let stage = netmatch::report::OutputDir::create(&a.out, a.force)?;
    let dir = stage.path().to_path_buf();
    npz::write_atomic(&dir.join("horse.npz"), |w| {
        w.add_array("images", &imgs)?;
        w.add_array("angles", &ang)?;
        Ok(())
    })?;
    contact_sheet(&images, &angles, a.size, 48).save_png(&dir.join("contact_sheet.png"))?;
    let mut jac_secs = None;
    if a.jacobians {
        let t1 = std::time::Instant::now();
        let o = netmatch::render::angle_observations(&mut renderer, &angles, &images, dims, a.h, true)?;
        netmatch::data::npz::write_observations(&dir.join("observations.npz"), &o)?;
        let s = t1.elapsed().as_secs_f64();
        eprintln!("netmatch: rendered the {dims} finite-difference set(s) and wrote observations.npz in {s:.2} s");
        jac_secs = Some(s);
    }
    if !a.no_frames {
        let dir = dir.join("frames");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let px = a.size * a.size;
        for k in 0..n {
            let mut c = netmatch::report::plot::Canvas::new(a.size, a.size);
            for y in 0..a.size {
                for x in 0..a.size {
                    c.put_gray(x, y, images[k * px + y * a.size + x]);
                }
            }
            c.save_png(&dir.join(format!("frame_{k:05}.png")))?;
        }
    }
    stage.commit()?;
    println!(
        "{}",
        json!({"frames": n, "size": a.size, "elevations": a.elevations, "device": where_, "seconds": secs,
               "jacobian_seconds": jac_secs, "out": a.out.display().to_string()})
    );
    Ok(ExitCode::SUCCESS)
}

fn run_horse(a: cli::HorseArgs) -> Result<ExitCode> {
    use netmatch::experiments::{DemoParams, HorseParams, horse, summary};
    let backend: BackendChoice = a.backend.parse()?;
    let hp = HorseParams { size: a.size, sigma: a.sigma };
    hp.validate(a.frames)?;
    let p = DemoParams {
        out: a.out.clone(),
        seed: a.seed,
        n: a.frames,
        // The networks train on at most 720 evenly spaced frames (training cost grows with the frames;
        // the comparison observes them on all).
        train_n: a.frames.min(DemoParams::horse().train_n),
        steps: a.steps,
        m: 2,
        force: a.force,
        verbose: !a.quiet,
        backend: a.backend.clone(),
    };
    p.validate()?;
    netmatch::report::check_dir(&p.out, p.force)?;
    let (mut dev, _) = open_backend(backend)?;
    let gpu = if dev.kind() == "gpu" { render_context(backend, !a.quiet)? } else { None };
    if !a.quiet {
        eprintln!("netmatch demo horse: backend {} ({}), output {}", dev.kind(), dev.adapter(), a.out.display());
    }
    let outcome = horse(&p, &hp, gpu, dev.as_mut())?;
    print!("{}", summary(&outcome, &p.out));
    println!("contact sheet: {}", p.out.join("contact_sheet.png").display());
    Ok(ExitCode::SUCCESS)
}
