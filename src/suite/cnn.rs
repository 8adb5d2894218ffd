//! Trained convolutional ReLU networks for the verdict suite: the piecewise-linear, trained case that
//! random tanh perceptrons do not cover. An asymmetric object of three Gaussian blobs is rendered at
//! 20×20 pixels, rotated by θ ∈ [0, 2π) and scaled by s ∈ [0.6, 1] (d = 2, a cylinder); two ReLU
//! convolutional networks of different shape and seed are trained with candle on frames of it (full
//! batch Adam, a bound on the validation error), and observed on fresh base inputs with Gaussian bursts
//! in (θ, s) at σ = 0.01 — each burst sample a re-rendered frame, as `netmatch.record` with a renderer
//! would make them.
//!
//! Targets, by construction: A learns (cos θ, sin θ, s), B (sin θ, cos θ, 2s − 1, s·cos θ) — both
//! determine (θ, s), so a pair of them is equivalent up to their training errors (≤ 6 % of the
//! targets' spread, checked at training). The controls learn the doubled angle (cos 2θ, sin 2θ, s),
//! which cannot tell θ from θ + π, or fold an arc of the angle back (a Z over θ ∈ [0.5, 2], a quarter
//! of the inputs losing information). The renderer is analytic and smooth in (θ, s), so the
//! networks' own kinks are the only non-smoothness the bursts see.

use ndarray::Array2;

use crate::data::{LocalSource, Observations};
use crate::error::Result;
use crate::nn::conv::{ConvLayer, ConvNet, ConvSpec};
use crate::nn::{Activation, TrainParams};
use crate::rng::Rng;

/// Image side in pixels.
pub const SIDE: usize = 20;
/// Burst radius in (θ, s) units.
pub const SIGMA: f64 = 0.01;
/// Burst size.
pub const M: usize = 16;
const S_RANGE: (f64, f64) = (0.6, 1.0);

/// Renders the blob object at each (θ, s): N × SIDE² grey values in [0, 1].
pub fn render(points: &[(f64, f64)]) -> Vec<f32> {
    // Centres (in units of half the image side), widths and brightness of the three blobs: no
    // rotation maps the object onto itself.
    const BLOBS: [(f64, f64, f64, f64); 3] =
        [(0.45, 0.0, 0.16, 1.0), (-0.25, 0.3, 0.12, 0.7), (-0.15, -0.35, 0.09, 0.5)];
    let mut out = Vec::with_capacity(points.len() * SIDE * SIDE);
    for &(theta, s) in points {
        let (c, sn) = (theta.cos(), theta.sin());
        let blobs: Vec<(f64, f64, f64, f64)> =
            BLOBS.iter().map(|&(x, y, w, a)| (s * (c * x - sn * y), s * (sn * x + c * y), s * w, a)).collect();
        for py in 0..SIDE {
            for px in 0..SIDE {
                let (u, v) = (2.0 * (px as f64 + 0.5) / SIDE as f64 - 1.0, 2.0 * (py as f64 + 0.5) / SIDE as f64 - 1.0);
                let val: f64 = blobs
                    .iter()
                    .map(|&(x, y, w, a)| a * (-((u - x).powi(2) + (v - y).powi(2)) / (2.0 * w * w)).exp())
                    .sum();
                out.push(val.min(1.0) as f32);
            }
        }
    }
    out
}

/// What a network is trained to output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// (cos θ, sin θ, s).
    Plain,
    /// (sin θ, cos θ, 2s − 1, s·cos θ): another injective function of (θ, s).
    Remixed,
    /// (cos 2θ, sin 2θ, s): θ and θ + π merged everywhere.
    Doubled,
    /// (cos φ(θ), sin φ(θ), s) with φ a Z on the arc θ ∈ [1, 1.5]: up to θ = 1, back down to 0.5, then
    /// on (stretched) to 2π, so the arc [0.5, 2] — a quarter of the inputs — is covered three times.
    FoldedArc,
}

impl Target {
    fn values(self, theta: f64, s: f64) -> Vec<f64> {
        match self {
            Target::Plain => vec![theta.cos(), theta.sin(), s],
            Target::Remixed => vec![theta.sin(), theta.cos(), 2.0 * s - 1.0, s * theta.cos()],
            Target::Doubled => vec![(2.0 * theta).cos(), (2.0 * theta).sin(), s],
            Target::FoldedArc => {
                let tau = 2.0 * std::f64::consts::PI;
                let (a, w) = (1.0, 0.5);
                let phi = if theta < a {
                    theta
                } else if theta < a + w {
                    2.0 * a - theta
                } else {
                    a - w + (theta - a - w) * (tau - a + w) / (tau - a - w)
                };
                vec![phi.cos(), phi.sin(), s]
            }
        }
    }
}

fn sample(rng: &mut Rng, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|_| (2.0 * std::f64::consts::PI * rng.uniform(), S_RANGE.0 + (S_RANGE.1 - S_RANGE.0) * rng.uniform()))
        .collect()
}

/// The two shapes: A (8 channels of 4×4 at stride 2, 16 of 3×3 at stride 2, 32 dense units) and B
/// (6 channels of 5×5 at stride 3, dense 48 and 24), both ReLU.
fn spec(which: usize, outputs: usize) -> ConvSpec {
    let conv = |channels, kernel, stride| ConvLayer { channels, kernel, stride };
    match which {
        0 => ConvSpec {
            side: SIDE,
            convs: vec![conv(8, 4, 2), conv(16, 3, 2)],
            dense: vec![32],
            outputs,
            act: Activation::Relu,
        },
        _ => ConvSpec { side: SIDE, convs: vec![conv(6, 5, 3)], dense: vec![48, 24], outputs, act: Activation::Relu },
    }
}

/// Trains network `which` (0 or 1) on `target` from 800 seeded frames.
pub fn train(which: usize, target: Target, seed: u64) -> Result<ConvNet> {
    let mut rng = Rng::new(seed ^ 0x7a1);
    let pts = sample(&mut rng, 800);
    let x = render(&pts);
    let y0 = target.values(0.0, 0.8);
    let y = Array2::from_shape_fn((pts.len(), y0.len()), |(i, c)| target.values(pts[i].0, pts[i].1)[c]);
    let mut net = ConvNet::new(spec(which, y0.len()), seed)?;
    let p = TrainParams { steps: 400, lr: 3e-3, val_fraction: 0.2, max_val_rmse: 0.06, seed };
    net.train(&x, &y, &p)?;
    Ok(net)
}

/// Observes `net` (its outputs, or hidden layer `layer`) at `base` with seeded Gaussian bursts of
/// re-rendered frames; `inputs` = (cos θ, sin θ, s), `burst_dim` = 2.
pub fn observe(net: &ConvNet, layer: Option<usize>, base: &[(f64, f64)], seed: u64) -> Result<Observations> {
    let mut rng = Rng::new(seed ^ 0xb0b);
    let n = base.len();
    let moved: Vec<(f64, f64)> = base
        .iter()
        .flat_map(|&(t, s)| (0..M).map(|_| (t + SIGMA * rng.normal(), s + SIGMA * rng.normal())).collect::<Vec<_>>())
        .collect();
    let obs = net.observe_layer(&render(base), layer)?;
    let flat = net.observe_layer(&render(&moved), layer)?;
    let dim = obs.ncols();
    let bursts = ndarray::Array3::from_shape_fn((n, M, dim), |(i, a, c)| flat[[i * M + a, c]]);
    let inputs = Array2::from_shape_fn((n, 3), |(i, c)| match c {
        0 => base[i].0.cos(),
        1 => base[i].0.sin(),
        _ => base[i].1,
    });
    Observations::new(obs, LocalSource::Bursts(bursts), SIGMA, Some(inputs))?.with_burst_dim(2)
}

/// A pair of the suite: `equivalent` trains A and B on injective targets (rep 1 observes A's dense
/// hidden layer instead of its outputs); otherwise B learns a control target (the doubled angle on
/// even reps, the folded arc on odd ones). Returns (A, B, description).
pub fn pair(equivalent: bool, rep: usize, n: usize, seed: u64) -> Result<(Observations, Observations, String)> {
    let net_a = train(0, Target::Plain, seed + 1)?;
    let (target_b, which_b) = match (equivalent, rep % 2) {
        (true, _) => (Target::Remixed, 1),
        (false, 0) => (Target::Doubled, 1),
        (false, _) => (Target::FoldedArc, 1),
    };
    let net_b = train(which_b, target_b, seed + 2)?;
    let base = sample(&mut Rng::new(seed ^ 0xba5e), n);
    let layer_a = if equivalent && rep % 2 == 1 { Some(2) } else { None };
    let a = observe(&net_a, layer_a, &base, seed + 3)?;
    let b = observe(&net_b, None, &base, seed + 4)?;
    let what = format!(
        "trained ReLU CNNs on {SIDE}×{SIDE} frames of a rotating, scaling object, M = {M}, σ = {SIGMA}: A {} ({}) vs B's \
         {target_b:?} outputs",
        if layer_a.is_some() { "dense hidden layer" } else { "outputs" },
        a.dim()
    );
    Ok((a, b, what))
}
