//! Small convolutional image networks for the horse experiment and the verdict suite: strided 2-D
//! convolutions with tanh or ReLU,
//! optional dense tanh layers, a linear output (candle tensors and autograd, f32 on the CPU); trained
//! like the perceptrons (full-batch Adam on a seeded split, a bound on the validation error) and observed
//! through their outputs or a whole hidden layer — the activation sets of hundreds to thousands of units
//! the comparison is for. Weights come from netmatch's seeded RNG, so a seed fixes a network bit for bit.
//!
//! A convolution is written as im2col (one `index_select` of the padded activations with precomputed
//! indices) and one matrix product, not with candle's `conv2d`: on this workload (576 frames of 64×64,
//! 8 channels, 8×8 kernels at stride 4) candle's CPU `conv2d` took 0.08 s forward and 0.56 s backward
//! per step for the first layer alone (its backward also computes the gradient of the input images).
//! The first layer's im2col matrix is built once per training run, as the frames do not change.
//! Activations are kept channel-last (NHWC, flattened per image).

use std::path::Path;

use candle_core::{DType, Device as Cpu, Tensor, Var};
use ndarray::Array2;

use super::{Activation, TrainParams, TrainReport, adam_fit, moments, nn_err};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// One strided convolution.
#[derive(Clone, Copy, Debug)]
pub struct ConvLayer {
    /// Output channels.
    pub channels: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride (the padding keeps the side at ⌈side / stride⌉).
    pub stride: usize,
}

/// Shape of a convolutional network: a `side`×`side` grey image → tanh convolutions → tanh dense
/// layers → linear `outputs`.
#[derive(Clone, Debug)]
pub struct ConvSpec {
    /// Image side in pixels.
    pub side: usize,
    /// The convolutions, in order.
    pub convs: Vec<ConvLayer>,
    /// Widths of the dense tanh layers after the flattened last convolution.
    pub dense: Vec<usize>,
    /// Output dimension.
    pub outputs: usize,
    /// The hidden layers' nonlinearity.
    pub act: Activation,
}

impl ConvSpec {
    /// (channels, side) after each convolution.
    fn maps(&self) -> Vec<(usize, usize)> {
        let mut side = self.side;
        self.convs
            .iter()
            .map(|c| {
                side = (side + 2 * padding(c) - c.kernel) / c.stride + 1;
                (c.channels, side)
            })
            .collect()
    }

    /// The width of every hidden layer: flattened convolution maps, then the dense layers.
    pub fn hidden_widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.maps().iter().map(|(c, s)| c * s * s).collect();
        w.extend(&self.dense);
        w
    }

    /// One line, e.g. `64² → conv 8@8/4 → conv 16@3/2 → 2 (hidden 2048, 1024)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}²", self.side);
        for c in &self.convs {
            s += &format!(" → conv {}@{}/{}", c.channels, c.kernel, c.stride);
        }
        for d in &self.dense {
            s += &format!(" → {d}");
        }
        let widths: Vec<String> = self.hidden_widths().iter().map(|w| w.to_string()).collect();
        format!("{s} → {} {} (hidden widths {})", self.outputs, self.act.name(), widths.join(", "))
    }
}

/// Padding of a layer: (kernel − stride + 1) / 2, which gives ⌈side / stride⌉ outputs per side for the
/// kernels used here.
fn padding(c: &ConvLayer) -> usize {
    (c.kernel + 1).saturating_sub(c.stride) / 2
}

/// A convolutional network with candle variables. Pixels are standardised by one fixed affine map and
/// the outputs by per-column ones, fitted when training starts (part of the model).
pub struct ConvNet {
    /// Its shape.
    pub spec: ConvSpec,
    convs: Vec<(Var, Var)>,
    /// Per convolution: the im2col indices into its padded input (see [`gather_indices`]).
    gathers: Vec<Tensor>,
    dense: Vec<(Var, Var)>,
    pixel_norm: (f64, f64),
    output_norm: (Tensor, Tensor),
}

fn uniform(rng: &mut Rng, len: usize, a: f64) -> Vec<f32> {
    (0..len).map(|_| (a * (2.0 * rng.uniform() - 1.0)) as f32).collect()
}

fn var(v: Vec<f32>, shape: &[usize]) -> Result<Var> {
    Var::from_tensor(&Tensor::from_vec(v, shape, &Cpu::Cpu).map_err(nn_err)?).map_err(nn_err)
}

/// The images (N × side², row-major grey values) as an (N, side²) f32 tensor.
fn images(x: &[f32], side: usize) -> Result<Tensor> {
    let px = side * side;
    if px == 0 || !x.len().is_multiple_of(px) {
        return Err(Error::Shape(format!("{} values are not whole {side}×{side} images", x.len())));
    }
    Tensor::from_slice(x, (x.len() / px, px), &Cpu::Cpu).map_err(nn_err)
}

/// The im2col indices of convolution `c` on an NHWC map of `cin` channels and side `side` (flattened,
/// one zero entry appended at index cin·side²): for every output position (oy, ox) and tap
/// (ky, kx, channel), the input entry it reads, or the zero entry outside the image.
fn gather_indices(c: &ConvLayer, cin: usize, side: usize, sout: usize) -> Result<Tensor> {
    let pad = padding(c) as i64;
    let zero = (cin * side * side) as u32;
    let mut idx = Vec::with_capacity(sout * sout * c.kernel * c.kernel * cin);
    for oy in 0..sout as i64 {
        for ox in 0..sout as i64 {
            for ky in 0..c.kernel as i64 {
                for kx in 0..c.kernel as i64 {
                    let (iy, ix) = (oy * c.stride as i64 - pad + ky, ox * c.stride as i64 - pad + kx);
                    let inside = (0..side as i64).contains(&iy) && (0..side as i64).contains(&ix);
                    for ch in 0..cin {
                        idx.push(if inside { ((iy as usize * side + ix as usize) * cin + ch) as u32 } else { zero });
                    }
                }
            }
        }
    }
    let len = idx.len();
    Tensor::from_vec(idx, len, &Cpu::Cpu).map_err(nn_err)
}

fn to_array(t: &Tensor) -> Result<Array2<f64>> {
    let t = t.to_dtype(DType::F64).map_err(nn_err)?;
    let v: Vec<Vec<f64>> = t.to_vec2().map_err(nn_err)?;
    let (n, d) = (v.len(), v.first().map(|r| r.len()).unwrap_or(0));
    Ok(Array2::from_shape_fn((n, d), |(i, j)| v[i][j]))
}

/// Rows per forward pass when observing: bounds the activations held at once.
const CHUNK: usize = 512;

impl ConvNet {
    /// A network with Glorot-uniform weights and small uniform biases drawn from `seed`.
    pub fn new(spec: ConvSpec, seed: u64) -> Result<ConvNet> {
        if spec.side == 0 || spec.outputs == 0 || spec.convs.is_empty() {
            return Err(Error::param("network", format!("need an image side, a convolution and outputs: {spec:?}")));
        }
        if spec.convs.iter().any(|c| c.channels == 0 || c.kernel == 0 || c.stride == 0) || spec.dense.contains(&0) {
            return Err(Error::param("network", format!("every layer needs a positive size: {spec:?}")));
        }
        if spec.maps().iter().any(|&(_, s)| s == 0) {
            return Err(Error::param(
                "network",
                format!("the convolutions shrink a {0}×{0} image to nothing", spec.side),
            ));
        }
        let mut rng = Rng::new(seed ^ 0xC0_4E);
        let mut convs = Vec::new();
        let mut cin = 1;
        for c in &spec.convs {
            let (fan_in, fan_out) = (cin * c.kernel * c.kernel, c.channels * c.kernel * c.kernel);
            let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
            // Columns in the gather's order: (ky, kx, input channel).
            let w = var(uniform(&mut rng, c.channels * fan_in, a), &[c.channels, fan_in])?;
            let b = var(uniform(&mut rng, c.channels, 0.1), &[c.channels])?;
            convs.push((w, b));
            cin = c.channels;
        }
        let mut widths = vec![*spec.hidden_widths().get(spec.convs.len() - 1).expect("a convolution")];
        widths.extend(&spec.dense);
        widths.push(spec.outputs);
        let mut dense = Vec::new();
        for w in widths.windows(2) {
            let a = (6.0 / (w[0] + w[1]) as f64).sqrt();
            dense.push((
                var(uniform(&mut rng, w[0] * w[1], a), &[w[1], w[0]])?,
                var(uniform(&mut rng, w[1], 0.5), &[w[1]])?,
            ));
        }
        let o = spec.outputs;
        let row = |v: f32| Tensor::from_vec(vec![v; o], (1, o), &Cpu::Cpu).map_err(nn_err);
        let mut gathers = Vec::new();
        let (mut cin, mut side) = (1, spec.side);
        for (c, &(cout, sout)) in spec.convs.iter().zip(&spec.maps()) {
            gathers.push(gather_indices(c, cin, side, sout)?);
            (cin, side) = (cout, sout);
        }
        Ok(ConvNet { output_norm: (row(0.0)?, row(1.0)?), pixel_norm: (0.0, 1.0), spec, convs, gathers, dense })
    }

    /// The first convolution's im2col matrix of a batch of images (N × side² values as an (N, side²)
    /// tensor), pixels standardised: (N·S₁², k²) rows of taps. Computed once per training run, since
    /// the images do not change.
    fn first_cols(&self, x: &Tensor) -> Result<Tensor> {
        let (m, s) = self.pixel_norm;
        let h = x.affine(1.0 / s, -m / s).map_err(nn_err)?;
        self.cols(&h, 0)
    }

    /// im2col of convolution `k` applied to the flattened NHWC activations `h` (N rows).
    fn cols(&self, h: &Tensor, k: usize) -> Result<Tensor> {
        let n = h.dim(0).map_err(nn_err)?;
        let sout = self.spec.maps()[k].1;
        // The padded input: one zero column at the end, where every out-of-image tap points.
        let zero = Tensor::zeros((n, 1), DType::F32, &Cpu::Cpu).map_err(nn_err)?;
        Tensor::cat(&[h, &zero], 1)
            .and_then(|p| p.index_select(&self.gathers[k], 1))
            .and_then(|c| c.reshape((n * sout * sout, ())))
            .map_err(nn_err)
    }

    /// Every layer's activations for a batch of images: the hidden layers after tanh (convolution
    /// maps flattened NHWC), then the output.
    fn forward_all(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        self.forward_cols(&self.first_cols(x)?)
    }

    /// [`ConvNet::forward_all`] from the first convolution's im2col matrix.
    fn forward_cols(&self, cols0: &Tensor) -> Result<Vec<Tensor>> {
        let maps = self.spec.maps();
        let n = cols0.dim(0).map_err(nn_err)? / (maps[0].1 * maps[0].1);
        let mut out: Vec<Tensor> = Vec::new();
        let mut h = cols0.clone();
        for (k, ((w, b), &(cout, sout))) in self.convs.iter().zip(&maps).enumerate() {
            let cols = if k == 0 { cols0.clone() } else { self.cols(&h, k)? };
            h = cols
                .matmul(&w.as_tensor().t().map_err(nn_err)?)
                .and_then(|z| z.broadcast_add(b.as_tensor()))
                .and_then(|z| self.spec.act.apply(z))
                .and_then(|z| z.reshape((n, sout * sout * cout)))
                .map_err(nn_err)?;
            out.push(h.clone());
        }
        super::dense_stack(h, &self.dense, &self.output_norm, self.spec.act, &mut out)?;
        Ok(out)
    }

    /// Fits y ≈ f(images) by full-batch Adam on a seeded split (`x`: N × side² grey values); an error
    /// if the validation relative RMSE ends above `p.max_val_rmse`.
    pub fn train(&mut self, x: &[f32], y: &Array2<f64>, p: &TrainParams) -> Result<TrainReport> {
        let t0 = std::time::Instant::now();
        let side = self.spec.side;
        let n = y.nrows();
        if x.len() != n * side * side || n < 10 {
            return Err(Error::Shape(format!("training needs ≥ 10 images with one target row each, got {n} rows")));
        }
        let (train, val) = crate::pipeline::compare::split(n, p.val_fraction, p.seed);
        let px = side * side;
        let pick =
            |idx: &[usize]| -> Vec<f32> { idx.iter().flat_map(|&i| x[i * px..(i + 1) * px].iter().copied()).collect() };
        let (xt, xv) = (pick(&train), pick(&val));
        let mean = xt.iter().map(|&v| f64::from(v)).sum::<f64>() / xt.len() as f64;
        let var = xt.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / xt.len() as f64;
        self.pixel_norm = (mean, var.sqrt().max(1e-6));
        let yt = y.select(ndarray::Axis(0), &train);
        let (ym, ys) = moments(&yt);
        let row = |v: Vec<f64>| {
            Tensor::from_vec(v.iter().map(|&a| a as f32).collect::<Vec<f32>>(), (1, v.len()), &Cpu::Cpu).map_err(nn_err)
        };
        self.output_norm = (row(ym)?, row(ys)?);
        let yt_t = Tensor::from_vec(yt.iter().map(|&v| v as f32).collect::<Vec<f32>>(), yt.dim(), &Cpu::Cpu)
            .map_err(nn_err)?;
        let xt_t = images(&xt, side)?;
        let vars: Vec<Var> = self.convs.iter().chain(&self.dense).flat_map(|(w, b)| [w.clone(), b.clone()]).collect();
        let cols0 = self.first_cols(&xt_t)?;
        let train_mse =
            adam_fit(vars, &|t: &Tensor| Ok(self.forward_cols(t)?.pop().expect("output")), &cols0, &yt_t, p)?;
        let pv = self.observe_layer(&xv, None)?;
        let yv = y.select(ndarray::Axis(0), &val);
        let val_mse = (&pv - &yv).mapv(|v| v * v).mean().unwrap_or(f64::NAN);
        let val_rmse = crate::pipeline::transform::relative_rmse(&pv, &yv);
        let report = TrainReport { train_mse, val_mse, val_rmse, seconds: t0.elapsed().as_secs_f64() };
        super::check_bound(&report, p)?;
        Ok(report)
    }

    /// The activations of hidden layer `layer` (flattened; see [`ConvSpec::hidden_widths`]), or the
    /// outputs with `None`, for N images (N × side² grey values), in chunks of 512 images.
    pub fn observe_layer(&self, x: &[f32], layer: Option<usize>) -> Result<Array2<f64>> {
        let hidden = self.spec.hidden_widths().len();
        if let Some(l) = layer.filter(|&l| l >= hidden) {
            return Err(Error::param("layer", format!("layer {l}: the network has {hidden} hidden layers")));
        }
        let px = self.spec.side * self.spec.side;
        let mut parts = Vec::new();
        for chunk in x.chunks(CHUNK * px) {
            let all = self.forward_all(&images(chunk, self.spec.side)?)?;
            let t = match layer {
                Some(l) => &all[l],
                None => all.last().expect("an output layer"),
            };
            parts.push(to_array(t)?);
        }
        let views: Vec<_> = parts.iter().map(|a| a.view()).collect();
        ndarray::concatenate(ndarray::Axis(0), &views).map_err(|e| Error::Shape(e.to_string()))
    }

    /// Writes the weights as `.safetensors` (`conv{k}.weight` C_out×C_in×k×k, `conv{k}.bias`,
    /// `dense{k}.weight` out×in, `dense{k}.bias`, and the fixed `pixel_norm` (mean, std),
    /// `output_mean`, `output_std`), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dynf = |t: &Tensor| -> Result<ndarray::ArrayD<f64>> {
            let dims = t.dims().to_vec();
            let v: Vec<f64> =
                t.flatten_all().and_then(|t| t.to_dtype(DType::F64)).and_then(|t| t.to_vec1()).map_err(nn_err)?;
            ndarray::ArrayD::from_shape_vec(dims, v).map_err(|e| Error::Shape(e.to_string()))
        };
        let mut owned: Vec<(String, ndarray::ArrayD<f64>)> = Vec::new();
        for (k, (w, b)) in self.convs.iter().enumerate() {
            owned.push((format!("conv{k}.weight"), dynf(w.as_tensor())?));
            owned.push((format!("conv{k}.bias"), dynf(&b.as_tensor().flatten_all().map_err(nn_err)?)?));
        }
        for (k, (w, b)) in self.dense.iter().enumerate() {
            owned.push((format!("dense{k}.weight"), dynf(w.as_tensor())?));
            owned.push((format!("dense{k}.bias"), dynf(b.as_tensor())?));
        }
        owned.push(("pixel_norm".into(), ndarray::arr1(&[self.pixel_norm.0, self.pixel_norm.1]).into_dyn()));
        owned.push(("output_mean".into(), dynf(&self.output_norm.0.flatten_all().map_err(nn_err)?)?));
        owned.push(("output_std".into(), dynf(&self.output_norm.1.flatten_all().map_err(nn_err)?)?));
        let names: Vec<String> = owned.iter().map(|(k, _)| k.clone()).collect();
        let refs: Vec<(&str, ndarray::ArrayD<f64>)> =
            names.iter().zip(owned).map(|(name, (_, v))| (name.as_str(), v)).collect();
        crate::data::safetensors::write_tensors(path, &refs)
    }
}
