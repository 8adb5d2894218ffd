//! The verdict-evaluation suite behind `netmatch bench verdicts`: seeded families of network pairs whose
//! answer is known by construction, each run through [`crate::pipeline::compare::compare`] at its defaults, scored
//! as a confusion matrix (truth × verdict) and one row per family.
//!
//! Every pair observes the same N base inputs u of an intrinsic domain (an interval, a circle, boxes of
//! d = 2–4, a torus) through two seeded random multi-layer perceptrons (tanh, ReLU or GELU; outputs or a
//! whole hidden layer), with Gaussian bursts in u (or exact-to-rounding Jacobians by central
//! differences). *Equivalent* pairs are two generic networks of the same input (or one network and a
//! linear remix, a change of units, a second copy, float32 rounding); *not equivalent* pairs break
//! injectivity or the shared variable on purpose (a coordinate ignored, a fold, the doubled angle, a
//! region mapped to one point, a scalar observation of a 2-D input, shuffled inputs, a different
//! variable). The networks are random, not trained: nothing here is tuned to the method, and a
//! different `seed` gives pairs the method has never seen. The library prints nothing; progress goes
//! through the caller's callback.

use ndarray::{Array2, Array3};
use serde_json::{Value, json};

use crate::backend::Device;
use crate::data::{LocalSource, Observations};
use crate::error::Result;
use crate::pipeline::compare::{CompareParams, compare};
use crate::pipeline::verdict::Verdict;
use crate::rng::Rng;

#[cfg(feature = "demos")]
pub mod cnn;

/// Activation of a hidden layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// tanh.
    Tanh,
    /// max(0, x).
    Relu,
    /// x·Φ(x) (tanh approximation).
    Gelu,
}

impl Act {
    fn apply(self, z: f64) -> f64 {
        match self {
            Act::Tanh => z.tanh(),
            Act::Relu => z.max(0.0),
            Act::Gelu => 0.5 * z * (1.0 + (0.797_884_560_802_865_4 * (z + 0.044_715 * z * z * z)).tanh()),
        }
    }
}

/// A seeded random MLP: input p → hidden widths (activation `act`) → a linear read-out of `outputs`.
#[derive(Clone, Debug)]
pub struct Mlp {
    layers: Vec<(Vec<f64>, Vec<f64>, usize, usize)>,
    act: Act,
    /// Observe hidden layer `tap` (0-based) instead of the read-out.
    tap: Option<usize>,
}

impl Mlp {
    /// Weights: first layer N(0, scale²) (inputs are O(1), so `scale` sets the nonlinearity), later
    /// layers N(0, 1/fan_in)·1.5, biases N(0, 0.5²)·scale for the first layer and N(0, 0.3²) after.
    pub fn random(inputs: usize, hidden: &[usize], outputs: usize, act: Act, scale: f64, seed: u64) -> Mlp {
        let mut rng = Rng::new(seed ^ 0x6d6c70);
        let mut sizes = vec![inputs];
        sizes.extend_from_slice(hidden);
        sizes.push(outputs);
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let (ws, bs) = if l == 0 { (scale, 0.5 * scale) } else { (1.5 / (fan_in as f64).sqrt(), 0.3) };
                let weights = (0..fan_in * fan_out).map(|_| ws * rng.normal()).collect();
                let bias = (0..fan_out).map(|_| bs * rng.normal()).collect();
                (weights, bias, fan_in, fan_out)
            })
            .collect();
        Mlp { layers, act, tap: None }
    }

    /// Observe the activations of hidden layer `l` (0-based) instead of the read-out.
    pub fn tap_hidden(mut self, l: usize) -> Mlp {
        self.tap = Some(l.min(self.layers.len().saturating_sub(2)));
        self
    }

    /// The observed dimension D.
    pub fn dim(&self) -> usize {
        match self.tap {
            Some(l) => self.layers[l].3,
            None => self.layers.last().map(|l| l.3).unwrap_or(0),
        }
    }

    /// Evaluates the observed values at `x`.
    pub fn eval(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        let last = self.layers.len() - 1;
        for (l, (w, b, fan_in, fan_out)) in self.layers.iter().enumerate() {
            let mut z: Vec<f64> =
                (0..*fan_out).map(|o| b[o] + (0..*fan_in).map(|i| w[o * fan_in + i] * h[i]).sum::<f64>()).collect();
            if l < last {
                z.iter_mut().for_each(|v| *v = self.act.apply(*v));
            }
            if self.tap == Some(l) {
                return z;
            }
            h = z;
        }
        h
    }
}

/// An intrinsic input domain: where the base inputs u live and how a network sees them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Domain {
    /// [0, w₁]×…×[0, w_d]; the network sees 2u − 1 (centred).
    Box(&'static [f64]),
    /// The angle t ∈ [0, 2π); the network sees (cos t, sin t).
    Circle,
    /// Two angles; the network sees (cos t₁, sin t₁, cos t₂, sin t₂) (a flat torus).
    Torus,
}

impl Domain {
    /// Intrinsic dimension d.
    pub fn d(self) -> usize {
        match self {
            Domain::Box(w) => w.len(),
            Domain::Circle => 1,
            Domain::Torus => 2,
        }
    }
    /// The side lengths of a box (angles: 2π each).
    pub fn widths(self) -> Vec<f64> {
        match self {
            Domain::Box(w) => w.to_vec(),
            _ => vec![2.0 * std::f64::consts::PI; self.d()],
        }
    }
    /// Dimension of what the network reads.
    pub fn inputs(self) -> usize {
        match self {
            Domain::Box(w) => w.len(),
            Domain::Circle => 2,
            Domain::Torus => 4,
        }
    }
    /// Burst radius σ in units of u: 1 % of the box's long side, 0.02 rad on angles.
    pub fn sigma(self) -> f64 {
        match self {
            Domain::Box(_) => 0.01,
            Domain::Circle | Domain::Torus => 0.02,
        }
    }
    fn sample(self, rng: &mut Rng) -> Vec<f64> {
        let tau = 2.0 * std::f64::consts::PI;
        match self {
            Domain::Box(w) => w.iter().map(|&s| s * rng.uniform()).collect(),
            Domain::Circle => vec![tau * rng.uniform()],
            Domain::Torus => vec![tau * rng.uniform(), tau * rng.uniform()],
        }
    }
    /// What the network reads at intrinsic point u.
    pub fn features(self, u: &[f64]) -> Vec<f64> {
        match self {
            Domain::Box(_) => u.iter().map(|v| 2.0 * v - 1.0).collect(),
            Domain::Circle => vec![u[0].cos(), u[0].sin()],
            Domain::Torus => vec![u[0].cos(), u[0].sin(), u[1].cos(), u[1].sin()],
        }
    }
    /// Ground-truth `inputs` row: u on a box, (cos, sin) per angle (continuous on the closed manifold).
    fn truth(self, u: &[f64]) -> Vec<f64> {
        match self {
            Domain::Box(_) => u.to_vec(),
            _ => self.features(u),
        }
    }
}

/// An observation map of the intrinsic input u.
pub type ObsFn = Box<dyn Fn(&[f64]) -> Vec<f64> + Sync>;

/// How one side of a pair is observed.
pub struct Side {
    /// The map u ↦ o.
    pub f: ObsFn,
    /// Burst size M (ignored with Jacobians).
    pub m: usize,
    /// Jacobians ∂o/∂u (central differences) instead of bursts.
    pub jacobians: bool,
    /// Round obs and bursts to float32 (what a float32 network hands over).
    pub f32: bool,
    /// Observe at the base inputs u permuted by a seeded shuffle (a different input variable).
    pub shuffled: bool,
}

impl Side {
    fn new(f: ObsFn, m: usize) -> Side {
        Side { f, m, jacobians: false, f32: false, shuffled: false }
    }
}

/// Observes `u` (N×d) through `side`.
fn observe(domain: Domain, u: &Array2<f64>, side: &Side, seed: u64) -> Result<Observations> {
    let (n, d) = u.dim();
    let mut rng = Rng::new(seed);
    let order: Vec<usize> = if side.shuffled {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, rng.below(i + 1));
        }
        p
    } else {
        (0..n).collect()
    };
    let sigma = domain.sigma();
    let row = |i: usize| u.row(order[i]).to_vec();
    let first = (side.f)(&row(0));
    let dim = first.len();
    let round = |v: f64| if side.f32 { v as f32 as f64 } else { v };
    let mut obs = Array2::zeros((n, dim));
    for i in 0..n {
        let o = (side.f)(&row(i));
        for c in 0..dim {
            obs[[i, c]] = round(o[c]);
        }
    }
    let local = if side.jacobians {
        let h = 1e-5;
        let mut jac = Array3::zeros((n, dim, d));
        for i in 0..n {
            let ui = row(i);
            for a in 0..d {
                let (mut up, mut dn) = (ui.clone(), ui.clone());
                up[a] += h;
                dn[a] -= h;
                let (fu, fd) = ((side.f)(&up), (side.f)(&dn));
                for c in 0..dim {
                    jac[[i, c, a]] = (fu[c] - fd[c]) / (2.0 * h);
                }
            }
        }
        LocalSource::Jacobians(jac)
    } else {
        let m = side.m;
        let mut bursts = Array3::zeros((n, m, dim));
        for i in 0..n {
            let ui = row(i);
            for s in 0..m {
                let up: Vec<f64> = ui.iter().map(|v| v + sigma * rng.normal()).collect();
                let o = (side.f)(&up);
                for c in 0..dim {
                    bursts[[i, s, c]] = round(o[c]);
                }
            }
        }
        LocalSource::Bursts(bursts)
    };
    let truth = Array2::from_shape_fn((n, domain.truth(&row(0)).len()), |(i, c)| domain.truth(&row(i))[c]);
    Observations::new(obs, local, sigma, Some(truth))
}

/// One generated pair with its known answer.
pub struct Case {
    /// Family name (one row of the table).
    pub family: &'static str,
    /// Human-readable description with its sizes.
    pub what: String,
    /// The answer by construction.
    pub truth: Verdict,
    /// Network A.
    pub a: Observations,
    /// Network B.
    pub b: Observations,
}

impl Case {
    /// Forgets the declared burst design (`burst_dim`), so that d is estimated from the bursts: the
    /// path a file without `burst_dim` takes.
    pub fn without_design(mut self) -> Case {
        self.a.burst_dim = None;
        self.b.burst_dim = None;
        self
    }
}

const RECT: &[f64] = &[1.0, 0.6];
const SQUARE: &[f64] = &[1.0, 1.0];
const INTERVAL: &[f64] = &[1.0];
const BOX3: &[f64] = &[1.0, 0.8, 0.6];
const BOX4: &[f64] = &[1.0, 0.9, 0.8, 0.7];

/// A network of `domain` read through its features.
fn net(domain: Domain, mlp: Mlp) -> ObsFn {
    Box::new(move |u: &[f64]| mlp.eval(&domain.features(u)))
}

/// The family names, in the order [`make_case`] knows them: equivalent first, then controls.
pub const FAMILIES: &[&str] = &[
    "interval",
    "circle",
    "rectangle",
    "rectangle_strong",
    "square",
    "torus",
    "box3",
    "box4",
    "hidden_tanh",
    "hidden_relu",
    "hidden_gelu",
    "relu_outputs",
    "cnn_relu",
    "jacobians",
    "unequal_m",
    "linear_remix",
    "change_of_units",
    "same_network",
    "float32",
    "sizes",
    "ctl_blind",
    "ctl_fold",
    "ctl_doubled_angle",
    "ctl_constant_region",
    "ctl_partial_fold",
    "ctl_partial_constant",
    "ctl_partial_blind",
    "ctl_cnn",
    "ctl_scalar",
    "ctl_shuffled",
    "ctl_other_variable",
];

/// A loss of information confined to part of the inputs, for [`partial_sides`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partial {
    /// Constant on a ball around a seeded centre (mapped to the centre).
    Constant,
    /// x₁ > 1 − f reflected back onto [1 − 2f, 1 − f]: 2f of the inputs lose information.
    FoldEnd,
    /// A Z inside the range of x₁ (up to c, back down to c − f, up again): [c − f, c + 2f], 3f.
    FoldInside,
    /// The last coordinate ignored where x₁ ≥ 1 − f (faded out over a band of 0.05 below it).
    Blind,
}

/// A generic tanh network A of `domain` and a network B that loses information on ≈ `lost` of the
/// inputs in the way `kind` says and is a generic injective map elsewhere; with a description.
pub fn partial_sides(kind: Partial, domain: Domain, lost: f64, s: u64, m: usize) -> (Side, Side, String) {
    let d = domain.d();
    let tanh = |hidden: &[usize], out: usize, k: u64| Mlp::random(d, hidden, out, Act::Tanh, 1.5, s + k);
    let a = Side::new(net(domain, tanh(&[24, 24], 8, 1)), m);
    let mb = tanh(&[32], 12, 2);
    let mut rng = Rng::new(s + 5);
    let (f, what): (ObsFn, String) = match kind {
        Partial::Constant => {
            // The radius that covers `lost` of the box (area for d = 2, length for d = 1).
            let widths = domain.widths();
            let volume: f64 = widths.iter().product();
            let rho = if d == 2 { (lost * volume / std::f64::consts::PI).sqrt() } else { lost * volume / 2.0 };
            let centre: Vec<f64> =
                widths.iter().map(|&w| rho.min(w / 2.0) + rng.uniform() * (w - 2.0 * rho.min(w / 2.0))).collect();
            (
                Box::new(move |u: &[f64]| {
                    let r = u.iter().zip(&centre).map(|(x, c)| (x - c) * (x - c)).sum::<f64>().sqrt();
                    let shrink = if r > rho { 1.0 - rho / r } else { 0.0 };
                    let v: Vec<f64> = u.iter().zip(&centre).map(|(x, c)| c + (x - c) * shrink).collect();
                    mb.eval(&domain.features(&v))
                }),
                format!("B is constant on a ball holding ≈ {:.1} % of the inputs", 100.0 * lost),
            )
        }
        Partial::FoldEnd | Partial::FoldInside => {
            let end = kind == Partial::FoldEnd;
            let f = if end { lost / 2.0 } else { lost / 3.0 };
            let c = if end { 1.0 - f } else { f + 0.1 + rng.uniform() * (0.8 - 3.0 * f).max(0.0) };
            let fold = move |x: f64| {
                if end {
                    if x <= c { x } else { 2.0 * c - x }
                } else if x <= c {
                    x
                } else if x <= c + f {
                    2.0 * c - x
                } else {
                    x - 2.0 * f
                }
            };
            let place = if end {
                format!("x₁ > {:.3}", 1.0 - 2.0 * f)
            } else {
                format!("x₁ ∈ [{:.3}, {:.3}]", c - f, c + 2.0 * f)
            };
            (
                Box::new(move |u: &[f64]| {
                    let mut v = u.to_vec();
                    v[0] = fold(v[0]);
                    mb.eval(&domain.features(&v))
                }),
                format!(
                    "B folds x₁ back ({}): {:.1} % of the inputs ({place}) lose information",
                    if end { "at the end" } else { "inside, a Z" },
                    100.0 * lost
                ),
            )
        }
        Partial::Blind => {
            let c = 1.0 - lost;
            let w = domain.widths()[d - 1];
            (
                Box::new(move |u: &[f64]| {
                    let mut v = u.to_vec();
                    let keep = ((c - v[0]) / 0.05).clamp(0.0, 1.0);
                    v[d - 1] = 0.5 * w + (v[d - 1] - 0.5 * w) * keep;
                    mb.eval(&domain.features(&v))
                }),
                format!("B is blind to x{d} where x₁ ≥ {c:.2} ({:.1} % of the inputs)", 100.0 * lost),
            )
        }
    };
    (a, Side::new(f, m), what)
}

/// Builds case `rep` (0, 1, 2, …) of `family`; `seed` moves every random choice (a different seed
/// gives unseen networks, inputs and bursts); `quick` shrinks N.
pub fn make_case(family: &str, rep: usize, seed: u64, quick: bool) -> Result<Case> {
    let s = seed.wrapping_mul(1_000_003).wrapping_add(rep as u64 * 7919).wrapping_add(fnv(family));
    let pick = |v: &[usize]| v[rep % v.len()];
    let scale_of = |v: &[f64]| v[rep % v.len()];
    let n_default = if quick { 600 } else { pick(&[800, 1200, 1600]) };
    let tanh = |d_in: usize, hidden: &[usize], out: usize, sc: f64, k: u64| {
        Mlp::random(d_in, hidden, out, Act::Tanh, sc, s + k)
    };
    let equivalent = !family.starts_with("ctl_");
    let truth = if equivalent { Verdict::Equivalent } else { Verdict::NotEquivalent };
    let m = 64;
    if family == "cnn_relu" || family == "ctl_cnn" {
        let name = FAMILIES.iter().copied().find(|f| *f == family).unwrap_or("?");
        #[cfg(feature = "demos")]
        {
            let n = if quick { 600 } else { pick(&[1000, 1200, 1500]) };
            let (a, b, what) = cnn::pair(equivalent, rep, n, s)?;
            return Ok(Case { family: name, what: format!("{what}; N = {n}, d = 2"), truth, a, b });
        }
        #[cfg(not(feature = "demos"))]
        return Err(crate::error::Error::param(
            "family",
            format!("`{name}` trains networks with candle: build with the `demos` feature"),
        ));
    }
    let (domain, n, a, b, what): (Domain, usize, Side, Side, String) = match family {
        "interval" | "circle" | "rectangle" | "square" | "torus" | "box3" | "box4" | "rectangle_strong" => {
            let (domain, da, db, sc, n) = match family {
                "interval" => (Domain::Box(INTERVAL), 3, 5, scale_of(&[1.5, 2.5, 3.0]), n_default),
                "circle" => (Domain::Circle, 6, 10, scale_of(&[1.0, 2.0, 3.0]), n_default),
                "rectangle" => (Domain::Box(RECT), 5, 8, scale_of(&[1.0, 1.5, 2.0]), n_default),
                "rectangle_strong" => (Domain::Box(RECT), 8, 12, scale_of(&[2.5, 3.0, 3.0]), n_default),
                "square" => (Domain::Box(SQUARE), 8, 12, scale_of(&[1.0, 1.5, 2.0]), n_default),
                "torus" => (
                    Domain::Torus,
                    9,
                    12,
                    scale_of(&[1.0, 1.5, 2.0]),
                    if quick { 1500 } else { pick(&[2000, 3000, 4000]) },
                ),
                "box3" => (
                    Domain::Box(BOX3),
                    7,
                    14,
                    scale_of(&[1.0, 1.5, 2.0]),
                    if quick { 1500 } else { pick(&[1500, 2500, 3500]) },
                ),
                _ => (
                    Domain::Box(BOX4),
                    9,
                    16,
                    scale_of(&[1.0, 1.2, 1.5]),
                    if quick { 2000 } else { pick(&[3000, 4000, 5000]) },
                ),
            };
            let p = domain.inputs();
            let a = Side::new(net(domain, tanh(p, &[24, 24], da, sc, 1)), m);
            let b = Side::new(net(domain, tanh(p, &[32], db, sc, 2)), m);
            (domain, n, a, b, format!("two tanh networks, D = {da} vs {db}, weight scale {sc}"))
        }
        "hidden_tanh" | "hidden_relu" | "hidden_gelu" => {
            let (act, domain) = match family {
                "hidden_tanh" => (Act::Tanh, Domain::Box(RECT)),
                "hidden_relu" => (Act::Relu, Domain::Box(RECT)),
                _ => (Act::Gelu, Domain::Circle),
            };
            let (wa, wb) = (pick(&[256, 300, 400]), pick(&[320, 256, 512]));
            let p = domain.inputs();
            let ma = Mlp::random(p, &[64, wa], 4, act, 1.5, s + 1).tap_hidden(1);
            let mb = Mlp::random(p, &[wb, 48], 3, act, 1.5, s + 2).tap_hidden(0);
            let a = Side::new(net(domain, ma), 32);
            let b = Side::new(net(domain, mb), 32);
            (domain, n_default, a, b, format!("{act:?} hidden layers, D = {wa} vs {wb}"))
        }
        "relu_outputs" => {
            let domain = [Domain::Box(RECT), Domain::Box(INTERVAL), Domain::Circle][rep % 3];
            let p = domain.inputs();
            let (da, db) = if domain.d() == 1 { (3, 5) } else { (5, 8) };
            let a = Side::new(net(domain, Mlp::random(p, &[32, 32], da, Act::Relu, 1.5, s + 1)), m);
            let b = Side::new(net(domain, Mlp::random(p, &[48], db, Act::Relu, 1.5, s + 2)), m);
            (domain, n_default, a, b, format!("two ReLU networks' outputs, D = {da} vs {db}"))
        }
        "jacobians" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(INTERVAL) };
            let p = domain.inputs();
            let mut a = Side::new(net(domain, tanh(p, &[24, 24], 6, 2.0, 1)), m);
            let mut b = Side::new(net(domain, tanh(p, &[32], 9, 2.0, 2)), m);
            a.jacobians = true;
            b.jacobians = true;
            (domain, n_default, a, b, format!("Jacobians on d = {}, D = 6 vs 9", domain.d()))
        }
        "unequal_m" => {
            let domain = Domain::Box(RECT);
            let a = Side::new(net(domain, tanh(2, &[24, 24], 6, 1.5, 1)), 64);
            let b = Side::new(net(domain, tanh(2, &[32], 9, 1.5, 2)), pick(&[16, 24, 32]));
            let mb = b.m;
            (domain, n_default, a, b, format!("M = 64 vs {mb}, D = 6 vs 9"))
        }
        "linear_remix" | "change_of_units" => {
            let domain = if rep % 3 == 2 { Domain::Circle } else { Domain::Box(RECT) };
            let p = domain.inputs();
            let dim = 7;
            let ma = tanh(p, &[24, 24], dim, 1.5, 1);
            let a = Side::new(net(domain, ma.clone()), m);
            let mut rng = Rng::new(s + 9);
            let (mix, shift): (Vec<f64>, Vec<f64>) = if family == "linear_remix" {
                // A well-conditioned random invertible matrix: identity plus a small random part.
                (
                    (0..dim * dim).map(|k| if k % (dim + 1) == 0 { 1.0 } else { 0.0 } + 0.3 * rng.normal()).collect(),
                    (0..dim).map(|_| rng.normal()).collect(),
                )
            } else {
                let unit = [1e3, 1e-3, 37.0][rep % 3];
                (
                    (0..dim * dim).map(|k| if k % (dim + 1) == 0 { unit } else { 0.0 }).collect(),
                    (0..dim).map(|_| 5.0 * rng.normal()).collect(),
                )
            };
            let f = net(domain, ma);
            let b = Side::new(
                Box::new(move |u: &[f64]| {
                    let o = f(u);
                    (0..dim).map(|r| shift[r] + (0..dim).map(|c| mix[r * dim + c] * o[c]).sum::<f64>()).collect()
                }),
                m,
            );
            (domain, n_default, a, b, format!("B = a fixed affine map of A's {dim} outputs ({family})"))
        }
        "same_network" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Circle };
            let p = domain.inputs();
            let mlp = tanh(p, &[24, 24], 6, 2.0, 1);
            let a = Side::new(net(domain, mlp.clone()), m);
            let b = Side::new(net(domain, mlp), 48);
            (domain, n_default, a, b, "one network twice (independent bursts)".into())
        }
        "float32" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(INTERVAL) };
            let p = domain.inputs();
            let mut a = Side::new(net(domain, tanh(p, &[24, 24], 6, 1.5, 1)), m);
            let mut b = Side::new(net(domain, tanh(p, &[32], 9, 1.5, 2)), m);
            a.f32 = true;
            b.f32 = true;
            (domain, n_default, a, b, "obs and bursts rounded to float32".into())
        }
        "sizes" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(INTERVAL) };
            let n = if quick { 500 } else { pick(&[500, 2500, 5000]) };
            let p = domain.inputs();
            let a = Side::new(net(domain, tanh(p, &[24, 24], 6, 1.5, 1)), m);
            let b = Side::new(net(domain, tanh(p, &[32], 9, 1.5, 2)), m);
            (domain, n, a, b, format!("N = {n}"))
        }
        "ctl_blind" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(BOX3) };
            let d = domain.d();
            let ma = tanh(d, &[24, 24], 8, 1.5, 1);
            let a = Side::new(
                Box::new(move |u: &[f64]| {
                    let mut v = u.to_vec();
                    v[d - 1] = 0.3;
                    ma.eval(&domain.features(&v))
                }),
                m,
            );
            let b = Side::new(net(domain, tanh(d, &[32], 12, 1.5, 2)), m);
            let n = if d == 3 && !quick { 2000 } else { n_default };
            (domain, n, a, b, format!("A ignores coordinate {d} of d = {d}"))
        }
        "ctl_fold" => {
            let domain = if rep % 2 == 0 { Domain::Box(INTERVAL) } else { Domain::Box(RECT) };
            let d = domain.d();
            let ma = tanh(d, &[24, 24], 6, 1.5, 1);
            let a = Side::new(
                Box::new(move |u: &[f64]| {
                    let mut v = u.to_vec();
                    v[0] = (2.0 * v[0] - 1.0).abs();
                    ma.eval(&domain.features(&v))
                }),
                m,
            );
            let b = Side::new(net(domain, tanh(d, &[32], 9, 1.5, 2)), m);
            (domain, n_default, a, b, "A sees |2u₁ − 1| (folded)".into())
        }
        "ctl_doubled_angle" => {
            let domain = Domain::Circle;
            let ma = tanh(2, &[24, 24], 6, scale_of(&[1.0, 1.5, 2.0]), 1);
            let a = Side::new(Box::new(move |u: &[f64]| ma.eval(&domain.features(&[2.0 * u[0]]))), m);
            let b = Side::new(net(domain, tanh(2, &[32], 10, 1.5, 2)), m);
            (domain, n_default, a, b, "A sees the doubled angle 2t".into())
        }
        "ctl_constant_region" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(INTERVAL) };
            let frac = [0.3, 0.5, 0.15][rep % 3];
            // The constant network is A here (B in the partial families).
            let (b, a, what) = partial_sides(Partial::Constant, domain, frac, s, m);
            (domain, n_default, a, b, what.replacen('B', "A", 1))
        }
        "ctl_partial_constant" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(INTERVAL) };
            let frac = [0.03, 0.06, 0.1, 0.15][(rep + seed as usize) % 4];
            let (a, b, what) = partial_sides(Partial::Constant, domain, frac, s, m);
            (domain, n_default, a, b, what)
        }
        "ctl_partial_fold" => {
            let domain = if rep % 3 == 2 { Domain::Box(RECT) } else { Domain::Box(INTERVAL) };
            let f: f64 = [0.05, 0.1, 0.15, 0.2, 0.25][(rep + seed as usize) % 5];
            let end = (rep + seed as usize / 5) % 2 == 0;
            let (kind, lost) = if end { (Partial::FoldEnd, 2.0 * f) } else { (Partial::FoldInside, 3.0 * f) };
            let (a, b, what) = partial_sides(kind, domain, lost, s, m);
            (domain, n_default, a, b, what)
        }
        "ctl_partial_blind" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Box(BOX3) };
            let f: f64 = [0.1, 0.2, 0.3][(rep + seed as usize) % 3];
            let (a, b, what) = partial_sides(Partial::Blind, domain, f, s, m);
            let n = if domain.d() == 3 && !quick { 2000 } else { n_default };
            (domain, n, a, b, what)
        }
        "ctl_scalar" => {
            let domain = Domain::Box(if rep % 2 == 0 { RECT } else { SQUARE });
            let a = Side::new(net(domain, tanh(2, &[24, 24], 1, 1.5, 1)), m);
            let b = Side::new(net(domain, tanh(2, &[32], 8, 1.5, 2)), m);
            (domain, n_default, a, b, "A: one scalar output of a 2-D input".into())
        }
        "ctl_shuffled" => {
            let domain = if rep % 2 == 0 { Domain::Box(RECT) } else { Domain::Circle };
            let p = domain.inputs();
            let a = Side::new(net(domain, tanh(p, &[24, 24], 6, 1.5, 1)), m);
            let mut b = Side::new(net(domain, tanh(p, &[32], 9, 1.5, 2)), m);
            b.shuffled = true;
            (domain, n_default, a, b, "B observes a shuffled copy of the inputs".into())
        }
        "ctl_other_variable" => {
            let domain = Domain::Box(BOX3);
            let ma = tanh(3, &[24, 24], 8, 1.5, 1);
            let mb = tanh(3, &[32], 8, 1.5, 2);
            let a = Side::new(Box::new(move |u: &[f64]| ma.eval(&domain.features(&[u[0], u[1], 0.3]))), m);
            let b = Side::new(Box::new(move |u: &[f64]| mb.eval(&domain.features(&[u[0], 0.4, u[2]]))), m);
            (domain, if quick { 1000 } else { 1500 }, a, b, "A sees (u₁, u₂), B sees (u₁, u₃)".into())
        }
        other => {
            return Err(crate::error::Error::param(
                "family",
                format!("unknown family `{other}`; known: {}", FAMILIES.join(", ")),
            ));
        }
    };
    let mut rng = Rng::new(s + 77);
    let u =
        Array2::from_shape_vec((n, domain.d()), (0..n).flat_map(|_| domain.sample(&mut rng)).collect()).expect("n × d");
    // The suite knows its burst design (d Gaussian directions of u), as `netmatch.record` does; Jacobians
    // carry it in their column count.
    let design =
        |o: Observations| if matches!(o.local, LocalSource::Bursts(_)) { o.with_burst_dim(domain.d()) } else { Ok(o) };
    let a_obs = design(observe(domain, &u, &a, s + 101)?)?;
    let b_obs = design(observe(domain, &u, &b, s + 202)?)?;
    let what = format!("{what}; N = {n}, d = {}", domain.d());
    Ok(Case { family: FAMILIES.iter().copied().find(|f| *f == family).unwrap_or("?"), what, truth, a: a_obs, b: b_obs })
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Settings of the suite.
#[derive(Clone, Debug)]
pub struct SuiteParams {
    /// Cases per family.
    pub reps: usize,
    /// Smaller N (the `cargo test` variant).
    pub quick: bool,
    /// Seed of every network, input and burst (a new seed: unseen pairs).
    pub seed: u64,
    /// Only families whose name contains this.
    pub filter: Option<String>,
    /// Drop the declared burst design, so that d is estimated from the bursts.
    pub unknown_design: bool,
}

impl SuiteParams {
    /// The full suite: 3 cases per family.
    pub fn full(seed: u64) -> Self {
        SuiteParams { reps: 3, quick: false, seed, filter: None, unknown_design: false }
    }
    /// The quick suite: one small case per family.
    pub fn quick(seed: u64) -> Self {
        SuiteParams { reps: 1, quick: true, seed, filter: None, unknown_design: false }
    }
}

/// The outcome of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Family.
    pub family: &'static str,
    /// Description.
    pub what: String,
    /// Known answer.
    pub truth: Verdict,
    /// The verdict, or the error message.
    pub verdict: std::result::Result<Verdict, String>,
    /// The comparison's report (JSON) when it ran.
    pub report: Option<Value>,
    /// Wall seconds.
    pub seconds: f64,
}

impl CaseResult {
    /// Whether the verdict is the known answer.
    pub fn right(&self) -> bool {
        self.verdict.as_ref().is_ok_and(|v| *v == self.truth)
    }
}

/// Runs the suite on `dev`, calling `progress` after each case.
pub fn run(p: &SuiteParams, dev: &mut dyn Device, progress: &mut dyn FnMut(&CaseResult)) -> Result<Vec<CaseResult>> {
    let mut out = Vec::new();
    for family in FAMILIES.iter().filter(|f| p.filter.as_ref().is_none_or(|s| f.contains(s.as_str()))) {
        for rep in 0..p.reps {
            let t = std::time::Instant::now();
            let case = make_case(family, rep, p.seed, p.quick)?;
            let case = if p.unknown_design { case.without_design() } else { case };
            let cp = CompareParams { seed: p.seed.wrapping_add(rep as u64), ..Default::default() };
            let (verdict, report) = match compare(&case.a, &case.b, &cp, dev) {
                Ok(c) => (Ok(c.verdict), Some(c.to_json(&cp))),
                Err(e) => (Err(e.to_string()), None),
            };
            let r = CaseResult {
                family: case.family,
                what: case.what,
                truth: case.truth,
                verdict,
                report,
                seconds: t.elapsed().as_secs_f64(),
            };
            progress(&r);
            out.push(r);
        }
    }
    Ok(out)
}

/// The suite's summary: confusion matrix, per-family rows and every case, as JSON.
pub fn summary(results: &[CaseResult], p: &SuiteParams, seconds: f64) -> Value {
    let label = |v: &std::result::Result<Verdict, String>| match v {
        Ok(v) => v.as_str(),
        Err(_) => "error",
    };
    let cols = ["equivalent", "not_equivalent", "inconclusive", "error"];
    let mut confusion = serde_json::Map::new();
    for truth in [Verdict::Equivalent, Verdict::NotEquivalent] {
        let row: serde_json::Map<String, Value> = cols
            .iter()
            .map(|c| {
                (c.to_string(), json!(results.iter().filter(|r| r.truth == truth && label(&r.verdict) == *c).count()))
            })
            .collect();
        confusion.insert(truth.as_str().into(), Value::Object(row));
    }
    let mut families = Vec::new();
    for f in FAMILIES {
        let rs: Vec<&CaseResult> = results.iter().filter(|r| r.family == *f).collect();
        if rs.is_empty() {
            continue;
        }
        families.push(json!({
            "family": f,
            "truth": rs[0].truth.as_str(),
            "cases": rs.len(),
            "right": rs.iter().filter(|r| r.right()).count(),
            "verdicts": rs.iter().map(|r| label(&r.verdict)).collect::<Vec<_>>(),
        }));
    }
    let total = results.len();
    let right = results.iter().filter(|r| r.right()).count();
    let false_eq =
        results.iter().filter(|r| r.truth != Verdict::Equivalent && r.verdict == Ok(Verdict::Equivalent)).count();
    let inconclusive = results.iter().filter(|r| r.verdict == Ok(Verdict::Inconclusive)).count();
    let errors = results.iter().filter(|r| r.verdict.is_err()).count();
    json!({
        "seed": p.seed,
        "quick": p.quick,
        "unknown_design": p.unknown_design,
        "reps": p.reps,
        "cases": total,
        "right": right,
        "accuracy": right as f64 / total.max(1) as f64,
        "false_equivalent": false_eq,
        "inconclusive": inconclusive,
        "errors": errors,
        "seconds": seconds,
        "confusion": confusion,
        "families": families,
        "results": results.iter().map(|r| json!({
            "family": r.family, "what": r.what, "truth": r.truth.as_str(), "verdict": label(&r.verdict),
            "error": r.verdict.as_ref().err(), "seconds": r.seconds, "report": r.report,
        })).collect::<Vec<_>>(),
    })
}

/// The confusion matrix and per-family table as text (what the CLI prints).
pub fn table(s: &Value) -> String {
    let mut t = String::new();
    let c = &s["confusion"];
    t.push_str("truth \\ verdict   equivalent  not_equivalent  inconclusive  error\n");
    for truth in ["equivalent", "not_equivalent"] {
        let r = &c[truth];
        let v = |k: &str| r[k].as_u64().unwrap_or(0);
        t.push_str(&format!(
            "{truth:<16} {:>11} {:>15} {:>13} {:>6}\n",
            v("equivalent"),
            v("not_equivalent"),
            v("inconclusive"),
            v("error")
        ));
    }
    t.push_str(&format!(
        "\n{} / {} right ({:.1} %), {} false equivalent, {} inconclusive, {} errors, {:.0} s\n\nfamily                 truth            right  verdicts\n",
        s["right"], s["cases"], 100.0 * s["accuracy"].as_f64().unwrap_or(0.0), s["false_equivalent"], s["inconclusive"], s["errors"], s["seconds"].as_f64().unwrap_or(0.0)
    ));
    for f in s["families"].as_array().into_iter().flatten() {
        t.push_str(&format!(
            "{:<22} {:<16} {}/{}    {}\n",
            f["family"].as_str().unwrap_or(""),
            f["truth"].as_str().unwrap_or(""),
            f["right"],
            f["cases"],
            f["verdicts"]
                .as_array()
                .map(|v| v.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        ));
    }
    t
}

/// The losses the resolution study places, with their domains.
pub const RESOLUTION_KINDS: [(Partial, &str); 5] = [
    (Partial::Constant, "rectangle"),
    (Partial::Constant, "interval"),
    (Partial::FoldEnd, "interval"),
    (Partial::FoldEnd, "rectangle"),
    (Partial::Blind, "rectangle"),
];

/// The size of region the rule can see at a given N: for each loss of [`RESOLUTION_KINDS`], each
/// fraction of the inputs and `seeds` seeded pairs (a generic tanh network A, and B losing that
/// fraction, M = 64), whether `compare` at its defaults finds a region of B's (and calls the pair
/// `not_equivalent`), and what the pooled regressions alone say. Returns the JSON record; `progress`
/// gets one line per case.
pub fn resolution(
    n: usize,
    fractions: &[f64],
    seeds: usize,
    dev: &mut dyn Device,
    progress: &mut dyn FnMut(&str),
) -> Result<Value> {
    let mut cases = Vec::new();
    for (kind, dom) in RESOLUTION_KINDS {
        let domain = if dom == "interval" { Domain::Box(INTERVAL) } else { Domain::Box(RECT) };
        for &lost in fractions {
            for seed in 0..seeds as u64 {
                let s = seed.wrapping_mul(1_000_003).wrapping_add(fnv(dom)).wrapping_add((lost * 1e6) as u64);
                let (a, b, what) = partial_sides(kind, domain, lost, s, 64);
                let mut rng = Rng::new(s + 77);
                let u = Array2::from_shape_vec((n, domain.d()), (0..n).flat_map(|_| domain.sample(&mut rng)).collect())
                    .expect("n × d");
                let design = |o: Observations| o.with_burst_dim(domain.d());
                let (a, b) = (design(observe(domain, &u, &a, s + 101)?)?, design(observe(domain, &u, &b, s + 202)?)?);
                let t = std::time::Instant::now();
                let cp = CompareParams { seed, ..Default::default() };
                let row = match compare(&a, &b, &cp, dev) {
                    Ok(c) => {
                        use crate::pipeline::local::Network;
                        let found = c.local.region_fraction(Network::B);
                        json!({
                            "kind": format!("{kind:?}"), "domain": dom, "lost": lost, "seed": seed, "what": what,
                            "verdict": c.verdict.as_str(), "pooled_verdict": c.pooled_verdict.as_str(),
                            "detected": c.verdict == Verdict::NotEquivalent && found > 0.0,
                            "region_fraction_b": found, "region_fraction_a": c.local.region_fraction(Network::A),
                            "places": c.regions.iter().filter(|r| r.network == Network::B).map(|r| r.place.clone()).collect::<Vec<_>>(),
                            "seconds": t.elapsed().as_secs_f64(),
                        })
                    }
                    Err(e) => {
                        json!({"kind": format!("{kind:?}"), "domain": dom, "lost": lost, "seed": seed, "error": e.to_string()})
                    }
                };
                progress(&format!(
                    "{:<10} {:<9} lost {:>5.1} % seed {seed}: {} (pooled {}), region of B {:.1} %",
                    format!("{kind:?}"),
                    dom,
                    100.0 * lost,
                    row["verdict"].as_str().unwrap_or("error"),
                    row["pooled_verdict"].as_str().unwrap_or("-"),
                    100.0 * row["region_fraction_b"].as_f64().unwrap_or(0.0)
                ));
                cases.push(row);
            }
        }
    }
    Ok(json!({ "n": n, "fractions": fractions, "seeds": seeds, "cases": cases }))
}

/// The resolution study as a table: per loss, how many of the seeds were found at each fraction
/// (and, in brackets, how many the pooled regressions alone called `not_equivalent`).
pub fn resolution_table(r: &Value) -> String {
    let fractions: Vec<f64> = r["fractions"].as_array().into_iter().flatten().filter_map(|v| v.as_f64()).collect();
    let cases = r["cases"].as_array().cloned().unwrap_or_default();
    let mut t = format!(
        "N = {}: found by the local rule (pooled regressions alone) of {} seeds\nloss                 ",
        r["n"], r["seeds"]
    );
    for f in &fractions {
        t.push_str(&format!("{:>10}", format!("{:.1} %", 100.0 * f)));
    }
    t.push('\n');
    for (kind, dom) in RESOLUTION_KINDS {
        t.push_str(&format!("{:<21}", format!("{kind:?} {dom}")));
        for f in &fractions {
            let these: Vec<&Value> = cases
                .iter()
                .filter(|c| c["kind"] == format!("{kind:?}") && c["domain"] == dom && c["lost"].as_f64() == Some(*f))
                .collect();
            let found = these.iter().filter(|c| c["detected"] == true).count();
            let pooled = these.iter().filter(|c| c["pooled_verdict"] == "not_equivalent").count();
            t.push_str(&format!("{:>10}", format!("{found} ({pooled})")));
        }
        t.push('\n');
    }
    t
}
