//! The demo networks: small multilayer perceptrons trained in-process with candle (tensors, autograd
//! and Adam on the CPU), and their observation taps — outputs and named hidden neurons, with bursts
//! (M perturbed inputs per base input) or exact Jacobians by autograd. This is the only module that
//! names candle. Weights are initialised from netmatch's own seeded RNG, so a seed fixes a network
//! bit for bit; training is full-batch Adam on a seeded train/validation split, and a network whose
//! validation error stays above its bound is an error, not a silently bad demo.

use std::path::Path;

use candle_core::{DType, Device as Cpu, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use ndarray::{Array2, Array3};

use crate::data::{LocalSource, Observations};
use crate::error::{Error, Result};
use crate::rng::Rng;

pub mod conv;

fn nn_err(e: candle_core::Error) -> Error {
    Error::Network(e.to_string())
}

/// A fixed, non-learned transformation of the input in front of the first layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Feature {
    /// The input as it is.
    Identity,
    /// Every input coordinate replaced by (2x − 1)²: the network sees only the distance from the
    /// middle of [0, 1], so it cannot tell x from 1 − x (used by negative controls).
    Fold,
}

/// Shape of a perceptron: `inputs` → tanh hidden layers of the given widths → linear `outputs`.
#[derive(Clone, Debug)]
pub struct MlpSpec {
    /// Input dimension d.
    pub inputs: usize,
    /// Hidden layer widths (tanh).
    pub hidden: Vec<usize>,
    /// Output dimension.
    pub outputs: usize,
    /// Input feature.
    pub feature: Feature,
}

/// A multilayer perceptron with candle variables. Inputs (after the feature) and outputs are
/// standardised by fixed affine maps fitted to the training data when training starts — part of the
/// model, so observations and Jacobians are of the network as trained.
pub struct Mlp {
    /// Its shape.
    pub spec: MlpSpec,
    layers: Vec<(Var, Var)>,
    input_norm: (Tensor, Tensor),
    output_norm: (Tensor, Tensor),
}

fn row(v: Vec<f64>) -> Result<Tensor> {
    let n = v.len();
    Tensor::from_vec(v, (1, n), &Cpu::Cpu).map_err(nn_err)
}

/// Column means and standard deviations, floored at 5 % of the largest column's (1 where all are
/// constant): a pixel that is lit in two frames out of a thousand must not be blown up into the
/// network's loudest input.
fn moments(a: &Array2<f64>) -> (Vec<f64>, Vec<f64>) {
    let mean: Vec<f64> = a.columns().into_iter().map(|c| c.mean().unwrap_or(0.0)).collect();
    let std = a
        .columns()
        .into_iter()
        .zip(&mean)
        .map(|(c, m)| (c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / c.len().max(1) as f64).sqrt())
        .collect::<Vec<f64>>();
    let top = std.iter().copied().fold(0.0, f64::max);
    let std = std.into_iter().map(|s| if top > 1e-12 { s.max(0.05 * top) } else { 1.0 }).collect();
    (mean, std)
}

/// Training settings.
#[derive(Clone, Debug)]
pub struct TrainParams {
    /// Adam steps (full batch).
    pub steps: usize,
    /// Learning rate (cosine-decayed to 1 % of it).
    pub lr: f64,
    /// Fraction of the samples held out for validation.
    pub val_fraction: f64,
    /// Largest acceptable validation relative RMSE (‖pred − y‖ / ‖y − mean y‖).
    pub max_val_rmse: f64,
    /// Seed of the split.
    pub seed: u64,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams { steps: 2000, lr: 1e-2, val_fraction: 0.2, max_val_rmse: 0.03, seed: 0 }
    }
}

/// How training ended.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Final training MSE.
    pub train_mse: f64,
    /// Final validation MSE.
    pub val_mse: f64,
    /// Final validation relative RMSE.
    pub val_rmse: f64,
    /// Seconds spent.
    pub seconds: f64,
}

/// What to observe of a network: its outputs and/or some neurons of one hidden layer.
#[derive(Clone, Debug)]
pub struct Tap {
    /// Include the outputs (all of them).
    pub outputs: bool,
    /// (hidden layer index, neuron indices) to include after the outputs.
    pub hidden: Option<(usize, Vec<usize>)>,
}

/// How a burst perturbs the input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BurstDesign {
    /// M Gaussian perturbations of radius σ.
    Gaussian,
    /// The 2d points x ± √d σ e_k (M = 2d): the sample covariance is exactly σ² J Jᵀ for a linear
    /// map, so the difference to the Jacobian is the curvature term alone (tests).
    Axes,
}

fn to_tensor(a: &Array2<f64>) -> Result<Tensor> {
    let (n, d) = a.dim();
    Tensor::from_vec(a.iter().copied().collect::<Vec<f64>>(), (n, d), &Cpu::Cpu).map_err(nn_err)
}

fn to_array(t: &Tensor) -> Result<Array2<f64>> {
    let v: Vec<Vec<f64>> = t.to_dtype(DType::F64).and_then(|t| t.to_vec2()).map_err(nn_err)?;
    let (n, d) = (v.len(), v.first().map(|r| r.len()).unwrap_or(0));
    Ok(Array2::from_shape_fn((n, d), |(i, j)| v[i][j]))
}

/// Full-batch Adam (no weight decay) of `vars` on the mean squared error of `forward(x)` against `y`,
/// the learning rate cosine-decayed to 1 % over `p.steps`; returns the last step's training MSE.
fn adam_fit(
    vars: Vec<Var>,
    forward: &dyn Fn(&Tensor) -> Result<Tensor>,
    x: &Tensor,
    y: &Tensor,
    p: &TrainParams,
) -> Result<f64> {
    let mut opt =
        AdamW::new(vars, ParamsAdamW { lr: p.lr, weight_decay: 0.0, ..Default::default() }).map_err(nn_err)?;
    let mut train_mse = f64::NAN;
    for step in 0..p.steps {
        // Cosine decay: large steps to find the shape, small ones to settle the fine error.
        let f = 0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / p.steps as f64).cos());
        opt.set_learning_rate(p.lr * f);
        let loss = forward(x)?.sub(y).and_then(|d| d.sqr()).and_then(|d| d.mean_all()).map_err(nn_err)?;
        opt.backward_step(&loss).map_err(nn_err)?;
        if step + 1 == p.steps {
            train_mse = loss.to_dtype(DType::F64).and_then(|l| l.to_scalar::<f64>()).map_err(nn_err)?;
        }
    }
    Ok(train_mse)
}

/// The nonlinearity of a network's hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// tanh (smooth).
    Tanh,
    /// max(0, x) (piecewise linear: kinks inside a burst).
    Relu,
}

impl Activation {
    fn apply(self, t: Tensor) -> candle_core::Result<Tensor> {
        match self {
            Activation::Tanh => t.tanh(),
            Activation::Relu => t.relu(),
        }
    }
    /// "tanh" or "relu".
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }
}

/// Runs `h` through dense layers (`act` on all but the last, which is linear), pushing each layer's
/// activations to `out`, the last one mapped back to output units by `output_norm` (mean, std).
fn dense_stack(
    mut h: Tensor,
    layers: &[(Var, Var)],
    output_norm: &(Tensor, Tensor),
    act: Activation,
    out: &mut Vec<Tensor>,
) -> Result<()> {
    let last = layers.len().saturating_sub(1);
    for (k, (w, b)) in layers.iter().enumerate() {
        let z = h.matmul(&w.as_tensor().t().map_err(nn_err)?).and_then(|z| z.broadcast_add(b.as_tensor()));
        h = if k < last { z.and_then(|z| act.apply(z)) } else { z }.map_err(nn_err)?;
        out.push(h.clone());
    }
    let (m, s) = output_norm;
    let y = h.broadcast_mul(s).and_then(|t| t.broadcast_add(m)).map_err(nn_err)?;
    *out.last_mut().ok_or_else(|| Error::Network("a network without layers".into()))? = y;
    Ok(())
}

/// An error when training ended above its bound: a demo on an untrained network would be meaningless.
fn check_bound(r: &TrainReport, p: &TrainParams) -> Result<()> {
    if r.val_rmse <= p.max_val_rmse {
        return Ok(());
    }
    Err(Error::Network(format!(
        "training did not reach its bound: validation relative RMSE {:.3} % > {:.3} % after {} steps \
         (train MSE {:.3e}); a demo on an untrained network would be meaningless",
        100.0 * r.val_rmse,
        100.0 * p.max_val_rmse,
        p.steps,
        r.train_mse
    )))
}

impl Mlp {
    /// A network with Glorot-uniform weights and zero biases drawn from `seed`.
    pub fn new(spec: MlpSpec, seed: u64) -> Result<Mlp> {
        if spec.inputs == 0 || spec.outputs == 0 || spec.hidden.iter().any(|&w| w == 0) {
            return Err(Error::param("network", format!("every layer needs a positive width: {spec:?}")));
        }
        let mut rng = Rng::new(seed ^ 0x0AE7);
        let mut widths = vec![spec.inputs];
        widths.extend(&spec.hidden);
        widths.push(spec.outputs);
        let mut layers = Vec::new();
        for w in widths.windows(2) {
            let (fan_in, fan_out) = (w[0], w[1]);
            let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
            let wv: Vec<f64> = (0..fan_in * fan_out).map(|_| a * (2.0 * rng.uniform() - 1.0)).collect();
            // Biases spread the units' transitions over the standardised input range rather than
            // stacking them all at the origin.
            let bv: Vec<f64> = (0..fan_out).map(|_| 2.0 * rng.uniform() - 1.0).collect();
            let wt = Tensor::from_vec(wv, (fan_out, fan_in), &Cpu::Cpu).map_err(nn_err)?;
            let bt = Tensor::from_vec(bv, fan_out, &Cpu::Cpu).map_err(nn_err)?;
            layers.push((Var::from_tensor(&wt).map_err(nn_err)?, Var::from_tensor(&bt).map_err(nn_err)?));
        }
        let (i, o) = (spec.inputs, spec.outputs);
        Ok(Mlp {
            input_norm: (row(vec![0.0; i])?, row(vec![1.0; i])?),
            output_norm: (row(vec![0.0; o])?, row(vec![1.0; o])?),
            spec,
            layers,
        })
    }

    /// Activations of every layer for the rows of `x` (hidden layers after tanh, then the output).
    fn features(&self, x: &Tensor) -> Result<Tensor> {
        match self.spec.feature {
            Feature::Identity => Ok(x.clone()),
            Feature::Fold => x.affine(2.0, -1.0).and_then(|t| t.sqr()).map_err(nn_err),
        }
    }

    fn forward_all(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        let (m, s) = &self.input_norm;
        let h = self.features(x)?.broadcast_sub(m).and_then(|t| t.broadcast_div(s)).map_err(nn_err)?;
        let mut out = Vec::new();
        dense_stack(h, &self.layers, &self.output_norm, Activation::Tanh, &mut out)?;
        Ok(out)
    }

    /// The outputs for the rows of `x`.
    pub fn predict(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let all = self.forward_all(&to_tensor(x)?)?;
        to_array(all.last().expect("at least one layer"))
    }

    /// The activations of hidden layer `layer` for the rows of `x`.
    pub fn hidden(&self, x: &Array2<f64>, layer: usize) -> Result<Array2<f64>> {
        if layer >= self.spec.hidden.len() {
            return Err(Error::param("layer", format!("the network has {} hidden layers", self.spec.hidden.len())));
        }
        to_array(&self.forward_all(&to_tensor(x)?)?[layer])
    }

    /// Fits y ≈ f(x) by full-batch Adam on a seeded split; an error if the validation relative RMSE
    /// ends above `p.max_val_rmse`.
    pub fn train(&mut self, x: &Array2<f64>, y: &Array2<f64>, p: &TrainParams) -> Result<TrainReport> {
        let t0 = std::time::Instant::now();
        let n = x.nrows();
        if y.nrows() != n || n < 10 {
            return Err(Error::Shape(format!("training needs ≥ 10 paired rows, got x {n}, y {}", y.nrows())));
        }
        let (train, val) = crate::pipeline::compare::split(n, p.val_fraction, p.seed);
        let sel = |a: &Array2<f64>, idx: &[usize]| a.select(ndarray::Axis(0), idx);
        let feats = to_array(&self.features(&to_tensor(&sel(x, &train))?)?)?;
        let (fm, fs) = moments(&feats);
        let (ym, ys) = moments(&sel(y, &train));
        self.input_norm = (row(fm)?, row(fs)?);
        self.output_norm = (row(ym)?, row(ys)?);
        let (xt, yt) = (to_tensor(&sel(x, &train))?, to_tensor(&sel(y, &train))?);
        let vars: Vec<Var> = self.layers.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect();
        let train_mse =
            adam_fit(vars, &|t: &Tensor| Ok(self.forward_all(t)?.pop().expect("output layer")), &xt, &yt, p)?;
        let (xv, yv) = (sel(x, &val), sel(y, &val));
        let pv = self.predict(&xv)?;
        let val_mse = (&pv - &yv).mapv(|v| v * v).mean().unwrap_or(f64::NAN);
        let val_rmse = crate::pipeline::transform::relative_rmse(&pv, &yv);
        let report = TrainReport { train_mse, val_mse, val_rmse, seconds: t0.elapsed().as_secs_f64() };
        check_bound(&report, p)?;
        Ok(report)
    }

    fn tap_tensor(&self, all: &[Tensor], tap: &Tap) -> Result<Tensor> {
        let mut parts = Vec::new();
        if tap.outputs {
            parts.push(all.last().expect("output").clone());
        }
        if let Some((layer, cols)) = &tap.hidden {
            let h = all.get(*layer).filter(|_| *layer < self.spec.hidden.len()).ok_or_else(|| {
                Error::param("layer", format!("the network has {} hidden layers", self.spec.hidden.len()))
            })?;
            for &c in cols {
                if c >= self.spec.hidden[*layer] {
                    return Err(Error::param(
                        "neurons",
                        format!("layer {layer} has {} neurons", self.spec.hidden[*layer]),
                    ));
                }
                parts.push(h.narrow(1, c, 1).map_err(nn_err)?);
            }
        }
        if parts.is_empty() {
            return Err(Error::param("tap", "observe the outputs, some hidden neurons, or both"));
        }
        Tensor::cat(&parts, 1).map_err(nn_err)
    }

    /// The tapped values for the rows of `x`.
    pub fn observe(&self, x: &Array2<f64>, tap: &Tap) -> Result<Array2<f64>> {
        to_array(&self.tap_tensor(&self.forward_all(&to_tensor(x)?)?, tap)?)
    }

    /// Observations with bursts: for every base input, M perturbed inputs (σ in input units) run
    /// through the network; `inputs` keeps the base inputs, `burst_dim` their dimension (the design).
    pub fn observe_bursts(
        &self,
        x: &Array2<f64>,
        tap: &Tap,
        m: usize,
        sigma: f64,
        design: BurstDesign,
        seed: u64,
    ) -> Result<Observations> {
        let (n, d) = x.dim();
        let m = if design == BurstDesign::Axes { 2 * d } else { m };
        let mut rng = Rng::new(seed ^ 0xB0B5);
        let r = (d as f64).sqrt() * sigma;
        let xp = Array2::from_shape_fn((n * m, d), |(row, c)| {
            let (i, a) = (row / m, row % m);
            x[[i, c]]
                + match design {
                    BurstDesign::Gaussian => sigma * rng.normal(),
                    BurstDesign::Axes => {
                        if a / 2 == c {
                            if a % 2 == 0 { r } else { -r }
                        } else {
                            0.0
                        }
                    }
                }
        });
        let obs = self.observe(x, tap)?;
        let dim = obs.ncols();
        let flat = self.observe(&xp, tap)?;
        let bursts = Array3::from_shape_fn((n, m, dim), |(i, a, c)| flat[[i * m + a, c]]);
        Observations::new(obs, LocalSource::Bursts(bursts), sigma, Some(x.clone()))?.with_burst_dim(d)
    }

    /// Observations with exact Jacobians ∂o/∂x by autograd (one backward pass per observed value:
    /// the rows are independent, so the gradient of a column's sum is every row's gradient).
    pub fn observe_jacobians(&self, x: &Array2<f64>, tap: &Tap) -> Result<Observations> {
        let (n, d) = x.dim();
        let xv = Var::from_tensor(&to_tensor(x)?).map_err(nn_err)?;
        let o = self.tap_tensor(&self.forward_all(xv.as_tensor())?, tap)?;
        let dim = o.dim(1).map_err(nn_err)?;
        let mut jac = Array3::zeros((n, dim, d));
        for c in 0..dim {
            let g = o.narrow(1, c, 1).and_then(|t| t.sum_all()).and_then(|t| t.backward()).map_err(nn_err)?;
            let gx = g.get(xv.as_tensor()).ok_or_else(|| Error::Network("no gradient reached the input".into()))?;
            let gx = to_array(gx)?;
            for i in 0..n {
                for k in 0..d {
                    jac[[i, c, k]] = gx[[i, k]];
                }
            }
        }
        Observations::new(to_array(&o)?, LocalSource::Jacobians(jac), 1.0, Some(x.clone()))
    }

    /// Writes the weights as `.safetensors` (`layer{k}.weight` out×in, `layer{k}.bias`, and the fixed
    /// `input_mean`, `input_std`, `output_mean`, `output_std`), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut t = Vec::new();
        let mut names = Vec::new();
        for k in 0..self.layers.len() {
            names.push((format!("layer{k}.weight"), format!("layer{k}.bias")));
        }
        for ((w, b), (nw, nb)) in self.layers.iter().zip(&names) {
            t.push((nw.as_str(), to_array(w.as_tensor())?.into_dyn()));
            let bias = to_array(&b.as_tensor().unsqueeze(0).map_err(nn_err)?)?;
            let len = bias.len();
            t.push((nb.as_str(), bias.into_shape_with_order(len).expect("one row").into_dyn()));
        }
        let norms = [
            ("input_mean", &self.input_norm.0),
            ("input_std", &self.input_norm.1),
            ("output_mean", &self.output_norm.0),
            ("output_std", &self.output_norm.1),
        ];
        for (name, v) in norms {
            let a = to_array(v)?;
            let len = a.len();
            t.push((name, a.into_shape_with_order(len).expect("one row").into_dyn()));
        }
        crate::data::safetensors::write_tensors(path, &t)
    }
}
