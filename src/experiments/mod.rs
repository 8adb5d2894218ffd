//! The demos of design.md §2 on trained networks: (a) `scalar` — a nonmonotonic function of x ∈ [0,1]
//! learned by two different networks, and (b) `vector-field` — maps of x ∈ [0,1]×[0,0.6]; each with a
//! negative control that learned something else. A demo trains its networks ([`crate::nn`]), writes
//! their weights (`.safetensors`) and observations (`.npz`, the `compare` input format), runs every
//! comparison into its own report directory, and returns the verdicts with the `netmatch compare`
//! command that reproduces each one from the files.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::backend::Device;
use crate::data::{Observations, npz, synthetic};
use crate::error::{Error, Result};
use crate::nn::conv::{ConvLayer, ConvNet, ConvSpec};
use crate::nn::{Activation, BurstDesign, Feature, Mlp, MlpSpec, Tap, TrainParams, TrainReport};
use crate::observe::Observe;
use crate::pipeline::compare::{CompareParams, Comparison, compare};
use crate::pipeline::verdict::Verdict;
use crate::pipeline::whitney;
use crate::report::{self, RunInfo};
use crate::stats::corr;

/// Settings shared by the demos.
#[derive(Clone, Debug)]
pub struct DemoParams {
    /// Output directory (weights, observations, one report directory per comparison).
    pub out: PathBuf,
    /// Seed of everything (data, initial weights, splits, bursts).
    pub seed: u64,
    /// Observed base inputs N.
    pub n: usize,
    /// Training samples.
    pub train_n: usize,
    /// Adam steps per network.
    pub steps: usize,
    /// Burst size M.
    pub m: usize,
    /// Replace files in a non-empty `out`.
    pub force: bool,
    /// Report progress to [`DemoParams::observe`].
    pub verbose: bool,
    /// Where progress (when `verbose`) and warnings go; none by default.
    pub observe: Observe,
    /// The `--backend` spelling to put into the reproduce commands.
    pub backend: String,
}

impl Default for DemoParams {
    fn default() -> Self {
        DemoParams {
            out: PathBuf::from("out/demo"),
            seed: 0,
            n: 1500,
            train_n: 2000,
            steps: 2000,
            m: 64,
            force: false,
            verbose: true,
            observe: Observe::default(),
            backend: "auto".into(),
        }
    }
}

impl DemoParams {
    /// Checks the sizes, naming the parameter at fault (the CLI's flag names).
    pub fn validate(&self) -> Result<()> {
        if self.n < crate::pipeline::compare::MIN_POINTS {
            return Err(Error::param(
                "n",
                format!("must be at least {}, got {}", crate::pipeline::compare::MIN_POINTS, self.n),
            ));
        }
        if self.train_n < 50 {
            return Err(Error::param("train-n", format!("must be at least 50, got {}", self.train_n)));
        }
        if self.steps == 0 {
            return Err(Error::param("steps", "must be at least 1"));
        }
        if self.m < 2 {
            return Err(Error::param("m", format!("a burst needs M ≥ 2 samples, got {}", self.m)));
        }
        Ok(())
    }

    /// Training settings of a demo network seeded `seed`: the demo's step count, defaults otherwise.
    fn train_params(&self, seed: u64) -> TrainParams {
        TrainParams { steps: self.steps, seed, ..Default::default() }
    }

    /// The defaults of `netmatch demo horse` (also its CLI defaults): 720 frames of 64×64, 300 Adam
    /// steps per convolutional network, two re-rendered frames per base frame for the derivatives —
    /// within 5 minutes on two CPU cores.
    pub fn horse() -> Self {
        DemoParams {
            out: PathBuf::from("out/demo-horse"),
            n: 720,
            train_n: 720,
            steps: 300,
            m: 2,
            ..Default::default()
        }
    }
}

/// One comparison a demo ran.
#[derive(Clone, Debug)]
pub struct DemoComparison {
    /// Short name (also the report directory's name).
    pub name: String,
    /// What it shows.
    pub what: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The verdict the demo expects.
    pub expected: Verdict,
    /// Held-out RMSE of T_AB and T_BA.
    pub rmse: (f64, f64),
    /// The verdict's reasons.
    pub reasons: Vec<String>,
    /// |corr| of each network's selected coordinates with the expected modes (vector-field only).
    pub mode_corr: Option<(Vec<f64>, Vec<f64>)>,
    /// The command that reproduces it from the written files.
    pub command: String,
}

/// What a demo did.
#[derive(Clone, Debug)]
pub struct DemoOutcome {
    /// Each trained network: (name, spec summary, training report).
    pub networks: Vec<(String, String, TrainReport)>,
    /// The comparisons.
    pub comparisons: Vec<DemoComparison>,
    /// Seconds, training and comparisons included.
    pub seconds: f64,
}

fn say(p: &DemoParams, s: &str) {
    p.observe.when(p.verbose).detail(|| s.to_string());
}

fn train(
    p: &DemoParams,
    name: &str,
    spec: MlpSpec,
    tp: TrainParams,
    x: &Array2<f64>,
    y: &Array2<f64>,
) -> Result<(Mlp, (String, String, TrainReport))> {
    let desc = format!(
        "{}→{:?}→{} tanh{}",
        spec.inputs,
        spec.hidden,
        spec.outputs,
        if spec.feature == Feature::Fold { ", input folded to (2x−1)²" } else { "" }
    );
    say(p, &format!("training {name} ({desc}, {} Adam steps)", tp.steps));
    let mut net = Mlp::new(spec, tp.seed)?;
    let rep = net.train(x, y, &tp)?;
    say(
        p,
        &format!(
            "  {name}: train MSE {:.2e}, validation MSE {:.2e} (relative RMSE {:.3} %), {:.1} s",
            rep.train_mse,
            rep.val_mse,
            100.0 * rep.val_rmse,
            rep.seconds
        ),
    );
    net.save(&p.out.join(format!("{name}.safetensors")))?;
    Ok((net, (name.to_string(), desc, rep)))
}

/// Observes `net` on the base inputs: the outputs, plus `extra` hidden neurons of its last hidden
/// layer picked by Whitney's rule (variance after projecting out earlier picks). Every network of a
/// demo gets the same input perturbations (one burst seed, common random numbers), so the networks
/// differ only in what they compute.
fn observe(p: &DemoParams, net: &Mlp, x: &Array2<f64>, extra: usize, sigma: f64, file: &str) -> Result<Observations> {
    let hidden = if extra > 0 {
        let layer = net.spec.hidden.len() - 1;
        let h = net.hidden(x, layer)?;
        Some((layer, whitney::pick_neurons(&h, extra)?.picked))
    } else {
        None
    };
    let tap = Tap { outputs: true, hidden };
    let o = net.observe_bursts(x, &tap, p.m, sigma, BurstDesign::Gaussian, p.seed)?;
    npz::write_observations(&p.out.join(file), &o)?;
    Ok(o)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one demo comparison: pair, names, files and the sweep, all from the caller"
)]
fn run_compare(
    p: &DemoParams,
    shown: &Path,
    dev: &mut dyn Device,
    name: &str,
    what: &str,
    (fa, a): (&str, &Observations),
    (fb, b): (&str, &Observations),
    d: usize,
    expected: Verdict,
    sweep: bool,
) -> Result<(DemoComparison, Comparison)> {
    say(p, &format!("comparing {name}: {what}"));
    let t0 = std::time::Instant::now();
    // `compare`'s defaults: d comes from the bursts, the coordinates from the data; `d` (the demo's
    // known input dimension) only sizes the Whitney sweep.
    let cp = CompareParams { seed: p.seed, verbose: p.verbose, observe: p.observe.clone(), ..Default::default() };
    let c = compare(a, b, &cp, dev)?;
    let sweep_points = if sweep {
        let order = whitney::pick_neurons(&a.obs, (2 * d + 1).min(a.dim()))?.picked;
        Some(whitney::sweep(a, b, &order, d, &cp, dev)?)
    } else {
        None
    };
    let dir = p.out.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let run = RunInfo {
        sources: (shown.join(fa).display().to_string(), shown.join(fb).display().to_string()),
        dims_read: (a.dim(), b.dim()),
        neurons: (None, None),
        backend_note: None,
        seconds: t0.elapsed().as_secs_f64(),
    };
    report::write(&dir, &c, &cp, &run, (a, b), sweep_points.as_deref())?;
    let command = format!(
        "netmatch compare --a {} --b {} --seed {} --backend {}{} --out {}",
        shown.join(fa).display(),
        shown.join(fb).display(),
        p.seed,
        p.backend,
        if sweep { " --whitney-sweep" } else { "" },
        shown.join(format!("{name}.reproduced")).display()
    );
    let dc = DemoComparison {
        name: name.into(),
        what: what.into(),
        verdict: c.verdict,
        expected,
        rmse: c.rmse,
        reasons: c.reasons.clone(),
        mode_corr: None,
        command,
    };
    Ok((dc, c))
}

fn targets(x: &Array2<f64>, outputs: usize, f: impl Fn(&[f64], &mut [f64])) -> Array2<f64> {
    let mut y = Array2::zeros((x.nrows(), outputs));
    let mut buf = vec![0.0; outputs];
    for i in 0..x.nrows() {
        f(x.row(i).as_slice().expect("standard layout"), &mut buf);
        for c in 0..outputs {
            y[[i, c]] = buf[c];
        }
    }
    y
}

/// Experiment (a): A ([24, 24]) and B ([64]) learn f(x) = sin 2πx + x/2 on [0, 1]; the control C
/// sees only (2x − 1)² and learns cos 2πx. Comparisons: A's output alone vs B's output + 2 neurons
/// (not injective), A vs B with output + 2 neurons each (q = 2d+1 = 3, Whitney sweep), A vs C.
pub fn scalar(p: &DemoParams, dev: &mut dyn Device) -> Result<DemoOutcome> {
    let t0 = std::time::Instant::now();
    // Everything is written into a staging directory that becomes `p.out` only when the demo is
    // complete; texts (reports' sources, reproduce commands) name the final paths.
    p.validate()?;
    let stage = report::OutputDir::create(&p.out, p.force)?;
    let shown = p.out.clone();
    let p = &DemoParams { out: stage.path().to_path_buf(), ..p.clone() };
    let s = p.seed;
    let pi = std::f64::consts::PI;
    let xt = synthetic::uniform_box(p.train_n, &[1.0], s ^ 0x7a1);
    let y = targets(&xt, 1, |x, o| o[0] = (2.0 * pi * x[0]).sin() + x[0] / 2.0);
    let yc = targets(&xt, 1, |x, o| o[0] = (2.0 * pi * x[0]).cos());
    let spec = |hidden: Vec<usize>, feature| MlpSpec { inputs: 1, hidden, outputs: 1, feature };
    let (na, ra) = train(p, "a", spec(vec![24, 24], Feature::Identity), p.train_params(s + 1), &xt, &y)?;
    let (nb, rb) = train(p, "b", spec(vec![64], Feature::Identity), p.train_params(s + 2), &xt, &y)?;
    let (nc, rc) = train(p, "c", spec(vec![32, 32], Feature::Fold), p.train_params(s + 3), &xt, &yc)?;
    let x = synthetic::uniform_box(p.n, &[1.0], s ^ 0x0b5);
    let sigma = 0.005;
    say(p, &format!("observing on N = {} base inputs, bursts M = {}, σ = {sigma}", p.n, p.m));
    let a1 = observe(p, &na, &x, 0, sigma, "a1.npz")?;
    let a3 = observe(p, &na, &x, 2, sigma, "a3.npz")?;
    let b3 = observe(p, &nb, &x, 2, sigma, "b3.npz")?;
    let c3 = observe(p, &nc, &x, 2, sigma, "c3.npz")?;
    let mut comparisons = Vec::new();
    comparisons.push(
        run_compare(
            p,
            &shown,
            dev,
            "a1_vs_b3",
            "A's single output (folds x) vs B's output + 2 neurons",
            ("a1.npz", &a1),
            ("b3.npz", &b3),
            1,
            Verdict::NotEquivalent,
            false,
        )?
        .0,
    );
    comparisons.push(
        run_compare(
            p,
            &shown,
            dev,
            "a3_vs_b3",
            "output + 2 hidden neurons each (q = 2d+1 = 3), with the Whitney sweep",
            ("a3.npz", &a3),
            ("b3.npz", &b3),
            1,
            Verdict::Equivalent,
            true,
        )?
        .0,
    );
    comparisons.push(
        run_compare(
            p,
            &shown,
            dev,
            "a3_vs_c3",
            "negative control: C learned cos 2πx from (2x−1)²",
            ("a3.npz", &a3),
            ("c3.npz", &c3),
            1,
            Verdict::NotEquivalent,
            false,
        )?
        .0,
    );
    stage.commit()?;
    Ok(DemoOutcome { networks: vec![ra, rb, rc], comparisons, seconds: t0.elapsed().as_secs_f64() })
}

/// |corr| of the selected coordinates of a comparison's two embeddings with cos(πx₁), cos(πx₂/0.6)
/// (best match per mode).
fn mode_corr(c: &Comparison, x: &Array2<f64>) -> (Vec<f64>, Vec<f64>) {
    let pi = std::f64::consts::PI;
    let modes: Vec<Vec<f64>> = vec![
        x.column(0).iter().map(|v| (pi * v).cos()).collect(),
        x.column(1).iter().map(|v| (pi * v / 0.6).cos()).collect(),
    ];
    let side = |e: &crate::pipeline::embed::Embedding, sel: &[usize]| -> Vec<f64> {
        modes
            .iter()
            .map(|m| sel.iter().map(|&k| corr(&e.coords.column(k).to_vec(), m).abs()).fold(0.0, f64::max))
            .collect()
    };
    (side(&c.embeddings.0, &c.selected.0), side(&c.embeddings.1, &c.selected.1))
}

/// Experiment (b): on x ∈ [0,1]×[0,0.6], A ([32, 32]) learns the mushroom map F(x) = (x₁ + x₂³,
/// x₂ − x₁³), B ([64]) another diffeomorphism G(x) = (tanh(x₁ + x₂/2), x₂ + 0.3 sin πx₁), and the
/// control C ([32, 32]) the fold ((x₁ − ½)², x₂), which cannot tell x₁ from 1 − x₁. The outputs are
/// compared (D = 2 each): A vs B, A vs C.
pub fn vector_field(p: &DemoParams, dev: &mut dyn Device) -> Result<DemoOutcome> {
    let t0 = std::time::Instant::now();
    // Everything is written into a staging directory that becomes `p.out` only when the demo is
    // complete; texts (reports' sources, reproduce commands) name the final paths.
    p.validate()?;
    let stage = report::OutputDir::create(&p.out, p.force)?;
    let shown = p.out.clone();
    let p = &DemoParams { out: stage.path().to_path_buf(), ..p.clone() };
    let s = p.seed;
    let pi = std::f64::consts::PI;
    let xt = synthetic::uniform_box(p.train_n, &[1.0, 0.6], s ^ 0x7a2);
    let f = |x: &[f64], o: &mut [f64]| {
        let m = synthetic::mushroom([x[0], x[1]]);
        o.copy_from_slice(&m);
    };
    let g = |x: &[f64], o: &mut [f64]| {
        o[0] = (x[0] + 0.5 * x[1]).tanh();
        o[1] = x[1] + 0.3 * (pi * x[0]).sin();
    };
    let fold = |x: &[f64], o: &mut [f64]| {
        o[0] = (x[0] - 0.5).powi(2) * 4.0;
        o[1] = x[1];
    };
    let spec = |hidden: Vec<usize>| MlpSpec { inputs: 2, hidden, outputs: 2, feature: Feature::Identity };
    let (na, ra) = train(p, "a", spec(vec![32, 32]), p.train_params(s + 1), &xt, &targets(&xt, 2, f))?;
    let (nb, rb) = train(p, "b", spec(vec![64]), p.train_params(s + 2), &xt, &targets(&xt, 2, g))?;
    let (nc, rc) = train(p, "c", spec(vec![32, 32]), p.train_params(s + 3), &xt, &targets(&xt, 2, fold))?;
    let x = synthetic::uniform_box(p.n, &[1.0, 0.6], s ^ 0x0b6);
    let sigma = 0.01;
    say(p, &format!("observing on N = {} base inputs, bursts M = {}, σ = {sigma}", p.n, p.m));
    let a = observe(p, &na, &x, 0, sigma, "a.npz")?;
    let b = observe(p, &nb, &x, 0, sigma, "b.npz")?;
    let c = observe(p, &nc, &x, 0, sigma, "c.npz")?;
    let mut comparisons = Vec::new();
    let (mut ab, cab) = run_compare(
        p,
        &shown,
        dev,
        "a_vs_b",
        "mushroom map vs another diffeomorphism (outputs, D = 2 each)",
        ("a.npz", &a),
        ("b.npz", &b),
        2,
        Verdict::Equivalent,
        false,
    )?;
    ab.mode_corr = Some(mode_corr(&cab, &x));
    comparisons.push(ab);
    comparisons.push(
        run_compare(
            p,
            &shown,
            dev,
            "a_vs_c",
            "negative control: C learned the fold ((x₁ − ½)², x₂)",
            ("a.npz", &a),
            ("c.npz", &c),
            2,
            Verdict::NotEquivalent,
            false,
        )?
        .0,
    );
    stage.commit()?;
    Ok(DemoOutcome { networks: vec![ra, rb, rc], comparisons, seconds: t0.elapsed().as_secs_f64() })
}

/// The demo's closing summary for the terminal.
pub fn summary(o: &DemoOutcome, out: &Path) -> String {
    let mut s = String::new();
    for (name, desc, r) in &o.networks {
        s.push_str(&format!(
            "network {name}: {desc}; train MSE {:.2e}, validation relative RMSE {:.3} % ({:.1} s)\n",
            r.train_mse,
            100.0 * r.val_rmse,
            r.seconds
        ));
    }
    for c in &o.comparisons {
        let mark = if c.verdict == c.expected { "as expected" } else { "UNEXPECTED" };
        s.push_str(&format!(
            "\n{}: {} — {} ({mark}; expected {})\n  T_AB {:.2} %, T_BA {:.2} %\n",
            c.name,
            c.what,
            c.verdict.as_str(),
            c.expected.as_str(),
            100.0 * c.rmse.0,
            100.0 * c.rmse.1
        ));
        for r in &c.reasons {
            s.push_str(&format!("  - {r}\n"));
        }
        if let Some((a, b)) = &c.mode_corr {
            s.push_str(&format!(
                "  selected coordinates vs cos(πx₁), cos(πx₂/0.6): A |corr| {:.4} / {:.4}, B {:.4} / {:.4}\n",
                a[0], a[1], b[0], b[1]
            ));
        }
        s.push_str(&format!("  report: {}/report.json\n  reproduce: {}\n", out.join(&c.name).display(), c.command));
    }
    s.push_str(&format!("\ndemo finished in {:.1} s\n", o.seconds));
    s
}

/// Settings of the horse demo beyond [`DemoParams`] (whose `n` is the number of frames here).
#[derive(Clone, Debug)]
pub struct HorseParams {
    /// Image side in pixels.
    pub size: usize,
    /// Half-width of the central differences in θ, in radians of azimuth.
    pub sigma: f64,
}

impl HorseParams {
    /// Most frames of the horse demo.
    pub const MAX_FRAMES: usize = 100_000;
    /// Largest image side of the horse demo (its convolutions are sized for 64).
    pub const MAX_SIZE: usize = 256;

    /// Checks the image side, the difference half-width and the memory of `frames` frames (images,
    /// two shifted renders and the f64 observations: 36 bytes a pixel), naming the parameter at fault.
    pub fn validate(&self, frames: usize) -> Result<()> {
        if !(16..=Self::MAX_SIZE).contains(&self.size) {
            return Err(Error::param("size", format!("must lie in 16..={}, got {}", Self::MAX_SIZE, self.size)));
        }
        if frames > Self::MAX_FRAMES {
            return Err(Error::param("frames", format!("must be at most {}, got {frames}", Self::MAX_FRAMES)));
        }
        if !(self.sigma > 0.0 && self.sigma < 1.0) {
            return Err(Error::param("sigma", format!("must lie strictly between 0 and 1 rad, got {}", self.sigma)));
        }
        crate::render::check_set(frames, 1, self.size, 36).map(|_| ())
    }
}

impl Default for HorseParams {
    fn default() -> Self {
        HorseParams { size: 64, sigma: 0.05 }
    }
}

/// The horse demo's three convolutional networks for `side`×`side` frames: A (16 channels of 8×8 at
/// stride 8, then 16 of 3×3 at stride 2, linear output), B (12 channels of 4×4 at stride 4, 16 of 4×4
/// at stride 4, a 256-unit dense layer — another depth and width), and the control C (A's shape).
/// Their observed hidden layers: A's first convolution (1024 units at 64×64) and B's dense layer (256).
pub fn horse_networks(side: usize) -> [(ConvSpec, Option<usize>); 3] {
    let conv = |channels, kernel, stride| ConvLayer { channels, kernel, stride };
    let a = ConvSpec {
        side,
        convs: vec![conv(16, 8, 8), conv(16, 3, 2)],
        dense: vec![],
        outputs: 2,
        act: Activation::Tanh,
    };
    let b = ConvSpec {
        side,
        convs: vec![conv(12, 4, 4), conv(16, 4, 4)],
        dense: vec![256],
        outputs: 4,
        act: Activation::Tanh,
    };
    let c = a.clone();
    [(a, Some(0)), (b, Some(2)), (c, None)]
}

/// Experiment (c): renders the rotating horse, trains two convolutional networks of different depth,
/// width and seed on the frames (at most `train_n` of them, evenly spaced) — A regresses (cos θ, sin θ), B the first two harmonics of θ — and the
/// control C (A's shape) the doubled angle (cos 2θ, sin 2θ), which cannot tell θ from θ + π. It
/// observes them with derivatives in θ (central differences of re-rendered frames over ±σ) through
/// their outputs and through whole hidden
/// layers (A's first convolution, B's dense layer; hundreds to a thousand units), and compares A with B
/// on outputs and on hidden layers (equivalent), and A's hidden layer and outputs with C's outputs
/// (not equivalent). The input space is a circle (d = 1, which the derivatives show); every comparison
/// uses `compare`'s defaults.
pub fn horse(
    p: &DemoParams,
    h: &HorseParams,
    gpu: Option<std::sync::Arc<crate::gpu::GpuContext>>,
    dev: &mut dyn Device,
) -> Result<DemoOutcome> {
    use crate::render::{FrameRenderer, Scene, contact_sheet, frame_angles};
    let t0 = std::time::Instant::now();
    // Everything is written into a staging directory that becomes `p.out` only when the demo is
    // complete; texts (reports' sources, reproduce commands) name the final paths.
    p.validate()?;
    h.validate(p.n)?;
    let stage = report::OutputDir::create(&p.out, p.force)?;
    let shown = p.out.clone();
    let p = &DemoParams { out: stage.path().to_path_buf(), ..p.clone() };
    let scene = Scene::horse();
    let n = p.n;
    // Base frames at evenly spaced azimuths; every comparison observes the networks on these.
    let angles = frame_angles(n, 1);
    say(p, &format!("rendering {n} frames of {s}×{s}", s = h.size));
    let mut renderer = FrameRenderer::new(gpu, &scene, h.size)?;
    say(p, &format!("rendering on {}", renderer.describe()));
    let images = renderer.render_with_progress(&angles, "render", &p.observe.when(p.verbose))?;
    contact_sheet(&images, &angles, h.size, 48)?.save_png(&p.out.join("contact_sheet.png"))?;
    let theta: Vec<f64> = angles.iter().map(|a| a.0 as f64).collect();
    let circle = |k: f64| {
        Array2::from_shape_fn((n, 2), |(i, c)| if c == 0 { (k * theta[i]).cos() } else { (k * theta[i]).sin() })
    };
    let tp = |seed| TrainParams { lr: 3e-3, max_val_rmse: 0.06, ..p.train_params(seed) };
    let [(sa, la), (sb, lb), (sc, _)] = horse_networks(h.size);
    // Training frames: `train_n` of the N, evenly spaced (all of them when train_n ≥ N).
    let nt = p.train_n.clamp(1, n);
    let picks: Vec<usize> = (0..nt).map(|k| k * n / nt).collect();
    let px = h.size * h.size;
    let train_images: Vec<f32> = picks.iter().flat_map(|&i| images[i * px..(i + 1) * px].iter().copied()).collect();
    let train_conv =
        |name: &str, spec: ConvSpec, seed: u64, y: &Array2<f64>| -> Result<(ConvNet, (String, String, TrainReport))> {
            let desc = spec.describe();
            say(p, &format!("training {name} ({desc}, {} Adam steps)", p.steps));
            let mut net = ConvNet::new(spec, seed)?;
            let rep = net.train(&train_images, &y.select(ndarray::Axis(0), &picks), &tp(seed))?;
            say(
                p,
                &format!(
                    "  {name}: train MSE {:.2e}, validation relative RMSE {:.3} %, {:.1} s",
                    rep.train_mse,
                    100.0 * rep.val_rmse,
                    rep.seconds
                ),
            );
            net.save(&p.out.join(format!("{name}.safetensors")))?;
            Ok((net, (name.to_string(), desc, rep)))
        };
    let (na, ra) = train_conv("a", sa, p.seed + 1, &circle(1.0))?;
    // B: another architecture and target that carries the same information — the first two
    // harmonics of the angle, (cos θ, sin θ, cos 2θ, sin 2θ).
    let two = ndarray::concatenate(ndarray::Axis(1), &[circle(1.0).view(), circle(2.0).view()]).expect("same rows");
    let (nb, rb) = train_conv("b", sb, p.seed + 2, &two)?;
    let (nc, rc) = train_conv("c", sc, p.seed + 3, &circle(2.0))?;
    let networks = vec![ra, rb, rc];
    // The derivative in θ by central differences over ±h: two re-rendered frames per base frame (a
    // burst of M frames would cost M renders, the demo's largest cost at 64×64). A secant over the
    // burst radius, not an infinitesimal step, so that the image change rather than the networks'
    // small-scale roughness decides it.
    let hstep = h.sigma;
    let shifted: Vec<(f32, f32)> =
        [hstep, -hstep].iter().flat_map(|&d| angles.iter().map(move |a| ((a.0 as f64 + d) as f32, a.1))).collect();
    say(p, &format!("rendering {} frames at θ ± {hstep} rad for the derivatives", shifted.len()));
    let moved = renderer.render_with_progress(&shifted, "render", &p.observe.when(p.verbose))?;
    let (plus, minus) = moved.split_at(n * h.size * h.size);
    // The ground-truth input is the angle on its circle, (cos θ, sin θ): θ itself jumps at 2π and
    // no continuous map of the observations could reproduce that jump.
    let inputs = circle(1.0);
    let observe = |net: &ConvNet, layer: Option<usize>, file: &str| -> Result<Observations> {
        let o = net.observe_layer(&images, layer)?;
        let (op, om) = (net.observe_layer(plus, layer)?, net.observe_layer(minus, layer)?);
        let jac = ((&op - &om) / (2.0 * hstep)).insert_axis(ndarray::Axis(2));
        let obs = Observations::new(o, crate::data::LocalSource::Jacobians(jac), 1.0, Some(inputs.clone()))?;
        npz::write_observations(&p.out.join(file), &obs)?;
        Ok(obs)
    };
    let a = observe(&na, None, "a.npz")?;
    let b = observe(&nb, None, "b.npz")?;
    let c = observe(&nc, None, "c.npz")?;
    let ah = observe(&na, la, "a_hidden.npz")?;
    let bh = observe(&nb, lb, "b_hidden.npz")?;
    let mut comparisons = Vec::new();
    let plan = [
        (
            "a_vs_b",
            "A's (cos θ, sin θ) outputs vs B's (cos θ, sin θ, cos 2θ, sin 2θ) outputs".to_string(),
            ("a.npz", &a),
            ("b.npz", &b),
            Verdict::Equivalent,
        ),
        (
            "a_vs_b_hidden",
            format!("A's first convolution ({} units) vs B's dense hidden layer ({} units)", ah.dim(), bh.dim()),
            ("a_hidden.npz", &ah),
            ("b_hidden.npz", &bh),
            Verdict::Equivalent,
        ),
        (
            "a_hidden_vs_c",
            format!("negative control: A's first convolution ({} units) vs C's doubled-angle outputs", ah.dim()),
            ("a_hidden.npz", &ah),
            ("c.npz", &c),
            Verdict::NotEquivalent,
        ),
        (
            "a_vs_c",
            "negative control: A's outputs vs C's doubled-angle outputs (cos 2θ, sin 2θ)".to_string(),
            ("a.npz", &a),
            ("c.npz", &c),
            Verdict::NotEquivalent,
        ),
    ];
    for (name, what, fa, fb, expected) in plan {
        comparisons.push(run_compare(p, &shown, dev, name, &what, fa, fb, 2, expected, false)?.0);
    }
    stage.commit()?;
    Ok(DemoOutcome { networks, comparisons, seconds: t0.elapsed().as_secs_f64() })
}
