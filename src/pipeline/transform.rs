//! Step 8: out-of-sample maps by kernel ridge regression with a Euclidean Gaussian kernel (the
//! Mahalanobis kernel has no out-of-sample form without a burst). Inputs are standardised per column;
//! the bandwidth h² (a grid of multiples of the median squared distance) and the ridge λ are chosen on
//! a seeded inner validation split of at most [`TUNE_SAMPLE`] points, then the model is refitted on all
//! training points (at most [`KRR_SAMPLE`], seeded subsample). One eigen-decomposition per bandwidth
//! serves every λ.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::solve::dense::sym_eig;

/// Largest training set a fit uses.
pub const KRR_SAMPLE: usize = 1200;
/// Points used to choose the hyper-parameters (a subset of the training sample; the final fit uses all).
pub const TUNE_SAMPLE: usize = 500;
const H_GRID: [f64; 8] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];
// λ is floored at 1e-7: smaller ridges fit the training points no better but make the map explode on
// inputs slightly off the training manifold — exactly what a composed map T = G ∘ Φ feeds it.
const L_GRID: [f64; 6] = [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2];

/// A fitted kernel ridge regression.
#[derive(Clone, Debug)]
pub struct Krr {
    x: Array2<f64>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    alpha: Array2<f64>,
    y_mean: Vec<f64>,
    /// Chosen h² (in standardised input units).
    pub h2: f64,
    /// Chosen ridge λ.
    pub lambda: f64,
    /// Relative RMSE on the inner validation split at the chosen parameters.
    pub validation_rmse: f64,
    /// Largest training set this model (and its refits) uses.
    cap: usize,
}

fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn gram(x: &Array2<f64>, rows: &[usize], cols: &[usize], h2: f64) -> Vec<f64> {
    use rayon::prelude::*;
    let dx = x.ncols();
    let data = x.as_slice().expect("standard layout");
    let inv = 1.0 / h2;
    let mut k = vec![0.0; rows.len() * cols.len()];
    k.par_chunks_mut(cols.len().max(1)).zip(rows.par_iter()).for_each(|(row, &i)| {
        let xi = &data[i * dx..(i + 1) * dx];
        for (slot, &j) in row.iter_mut().zip(cols) {
            *slot = (-sqdist(xi, &data[j * dx..(j + 1) * dx]) * inv).exp();
        }
    });
    k
}

/// The ridge coefficients α = (K + λI)⁻¹ Y on all rows of `xs` at bandwidth h² (Cholesky; K + λI is
/// positive definite for λ > 0).
fn fit_alpha(xs: &Array2<f64>, ys: &Array2<f64>, h2: f64, lambda: f64) -> Result<Array2<f64>> {
    let m = xs.nrows();
    let all: Vec<usize> = (0..m).collect();
    let k = gram(xs, &all, &all, h2);
    let y: Vec<f64> = ys.iter().copied().collect();
    let alpha = crate::solve::dense::spd_solve(&k, m, lambda, &y, ys.ncols())?;
    Ok(Array2::from_shape_vec((m, ys.ncols()), alpha).expect("m × out"))
}

/// Relative RMSE: ‖pred − truth‖ / ‖truth − mean(truth)‖ over all rows and columns.
pub fn relative_rmse(pred: &Array2<f64>, truth: &Array2<f64>) -> f64 {
    let mut num = 0.0;
    let mut den = 0.0;
    for c in 0..truth.ncols() {
        let col = truth.column(c);
        let m = col.mean().unwrap_or(0.0);
        for i in 0..truth.nrows() {
            num += (pred[[i, c]] - truth[[i, c]]).powi(2);
            den += (truth[[i, c]] - m).powi(2);
        }
    }
    (num / den.max(1e-300)).sqrt()
}

impl Krr {
    /// Fits y ≈ f(x) on the given rows.
    pub fn fit(x: ArrayView2<f64>, y: ArrayView2<f64>, seed: u64) -> Result<Krr> {
        Krr::fit_capped(x, y, seed, KRR_SAMPLE)
    }

    /// [`Krr::fit`] on at most `cap` training points (seeded subsample).
    pub fn fit_capped(x: ArrayView2<f64>, y: ArrayView2<f64>, seed: u64, cap: usize) -> Result<Krr> {
        let (n, dx) = x.dim();
        if y.nrows() != n || n < 10 {
            return Err(Error::Shape(format!("regression needs ≥ 10 paired rows, got x {n}, y {}", y.nrows())));
        }
        let mut rng = Rng::new(seed ^ 0x4b55);
        let idx = rng.sample_indices(n, cap);
        let mean: Vec<f64> = (0..dx).map(|c| idx.iter().map(|&i| x[[i, c]]).sum::<f64>() / idx.len() as f64).collect();
        let scale: Vec<f64> = (0..dx)
            .map(|c| {
                let v = idx.iter().map(|&i| (x[[i, c]] - mean[c]).powi(2)).sum::<f64>() / idx.len() as f64;
                if v > 0.0 { v.sqrt() } else { 1.0 }
            })
            .collect();
        let xs = Array2::from_shape_fn((idx.len(), dx), |(a, c)| (x[[idx[a], c]] - mean[c]) / scale[c]);
        let y_mean: Vec<f64> =
            (0..y.ncols()).map(|o| idx.iter().map(|&i| y[[i, o]]).sum::<f64>() / idx.len() as f64).collect();
        let ys = Array2::from_shape_fn((idx.len(), y.ncols()), |(a, o)| y[[idx[a], o]] - y_mean[o]);
        // Inner split for the hyper-parameters.
        let m = idx.len();
        let mut perm: Vec<usize> = (0..m).collect();
        for i in (1..m).rev() {
            perm.swap(i, rng.below(i + 1));
        }
        let tune = m.min(TUNE_SAMPLE);
        let nv = (tune / 5).max(2);
        let (val, tr) = perm[..tune].split_at(nv);
        let (mut val, mut tr) = (val.to_vec(), tr.to_vec());
        val.sort_unstable();
        tr.sort_unstable();
        let mut d2: Vec<f64> = Vec::new();
        for a in (0..m).step_by((m / 200).max(1)) {
            for b in (a + 1..m).step_by((m / 200).max(1)) {
                d2.push(sqdist(xs.row(a).as_slice().expect("std"), xs.row(b).as_slice().expect("std")));
            }
        }
        d2.sort_unstable_by(f64::total_cmp);
        let med = d2.get(d2.len() / 2).copied().unwrap_or(1.0).max(1e-12);
        let yval = Array2::from_shape_fn((val.len(), ys.ncols()), |(a, o)| ys[[val[a], o]]);
        let mut best = (f64::INFINITY, med, 1e-6);
        // Per bandwidth one eigen-decomposition K = Q diag(w) Qᵀ serves every λ: the validation
        // prediction is (K_v Q) diag(1/(w + λ)) (Qᵀ Y), two products formed once per bandwidth.
        let (ntr, nval, out) = (tr.len(), val.len(), ys.ncols());
        let y_tr = faer::Mat::<f64>::from_fn(ntr, out, |t, o| ys[[tr[t], o]]);
        for &hf in &H_GRID {
            let h2 = hf * med;
            let k = gram(&xs, &tr, &tr, h2);
            let e = sym_eig(&k, ntr)?;
            let q = faer::Mat::<f64>::from_fn(ntr, ntr, |i, c| e.vectors[c * ntr + i]);
            let kv = gram(&xs, &val, &tr, h2);
            let kv = faer::Mat::<f64>::from_fn(nval, ntr, |a, t| kv[a * ntr + t]);
            let qty = q.transpose() * &y_tr;
            let kq = &kv * &q;
            for &lam in &L_GRID {
                let scaled = faer::Mat::<f64>::from_fn(ntr, out, |c, o| qty[(c, o)] / (e.values[c].max(0.0) + lam));
                let pred = &kq * &scaled;
                let pred = Array2::from_shape_fn((nval, out), |(a, o)| pred[(a, o)]);
                let err = relative_rmse(&pred, &yval);
                if err < best.0 {
                    best = (err, h2, lam);
                }
            }
        }
        let alpha = fit_alpha(&xs, &ys, best.1, best.2)?;
        Ok(Krr { x: xs, mean, scale, alpha, y_mean, h2: best.1, lambda: best.2, validation_rmse: best.0, cap })
    }

    /// Fits y ≈ f(x) with this model's bandwidth and ridge (no new search): the cross-validation folds
    /// after the first reuse its hyper-parameters, which keeps k folds at about the cost of one fit.
    pub fn refit(&self, x: ArrayView2<f64>, y: ArrayView2<f64>, seed: u64) -> Result<Krr> {
        let (n, dx) = x.dim();
        if y.nrows() != n || n < 10 {
            return Err(Error::Shape(format!("regression needs ≥ 10 paired rows, got x {n}, y {}", y.nrows())));
        }
        let idx = Rng::new(seed ^ 0x4b55).sample_indices(n, self.cap);
        let m = idx.len();
        let mean: Vec<f64> = (0..dx).map(|c| idx.iter().map(|&i| x[[i, c]]).sum::<f64>() / m as f64).collect();
        let scale: Vec<f64> = (0..dx)
            .map(|c| {
                let v = idx.iter().map(|&i| (x[[i, c]] - mean[c]).powi(2)).sum::<f64>() / m as f64;
                if v > 0.0 { v.sqrt() } else { 1.0 }
            })
            .collect();
        let xs = Array2::from_shape_fn((m, dx), |(a, c)| (x[[idx[a], c]] - mean[c]) / scale[c]);
        let y_mean: Vec<f64> = (0..y.ncols()).map(|o| idx.iter().map(|&i| y[[i, o]]).sum::<f64>() / m as f64).collect();
        let ys = Array2::from_shape_fn((m, y.ncols()), |(a, o)| y[[idx[a], o]] - y_mean[o]);
        let alpha = fit_alpha(&xs, &ys, self.h2, self.lambda)?;
        Ok(Krr {
            x: xs,
            mean,
            scale,
            alpha,
            y_mean,
            h2: self.h2,
            lambda: self.lambda,
            validation_rmse: f64::NAN,
            cap: self.cap,
        })
    }
}

/// Fraction of the worst-predicted held-out points [`cross_validated_rmse`] leaves out (at least one
/// per fold). A Gaussian-kernel regression extrapolates badly at the few points outside the training
/// points' hull (a corner of the domain): measured on a ReLU hidden layer, one such point of 120 held
/// 99 % of a fold's squared error and alone lifted it from 1 % to 15 %. One in a hundred inputs is
/// the resolution the verdict claims; a network blind on a larger region also shows in the ranks.
pub const TRIM: f64 = 0.01;

/// Relative RMSE over the rows of `truth` after leaving out the ⌈`trim`·rows⌉ rows with the largest
/// squared error (numerator and denominator over the rows kept).
pub fn trimmed_relative_rmse(pred: &Array2<f64>, truth: &Array2<f64>, trim: f64) -> f64 {
    let n = truth.nrows();
    let drop = ((trim * n as f64).ceil() as usize).min(n.saturating_sub(2));
    let err: Vec<f64> =
        (0..n).map(|i| (0..truth.ncols()).map(|c| (pred[[i, c]] - truth[[i, c]]).powi(2)).sum()).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| err[a].total_cmp(&err[b]));
    let keep = &order[..n - drop];
    let mut num = 0.0;
    let mut den = 0.0;
    for c in 0..truth.ncols() {
        let m = keep.iter().map(|&i| truth[[i, c]]).sum::<f64>() / keep.len() as f64;
        den += keep.iter().map(|&i| (truth[[i, c]] - m).powi(2)).sum::<f64>();
    }
    for &i in keep {
        num += err[i];
    }
    (num / den.max(1e-300)).sqrt()
}

/// The bandwidth search runs on [`TUNE_SAMPLE`] points, but the best bandwidth shrinks as the training
/// set grows: with thousands of rows the searched h² over-smooths. So h² × {1, ½, ¼} are compared once
/// more at the model's own training size (Cholesky fits on 80 % of the rows, scored on the rest) and
/// the best is kept.
fn refine_bandwidth(model: Krr, x: ArrayView2<f64>, y: ArrayView2<f64>, seed: u64) -> Result<Krr> {
    use ndarray::Axis;
    let n = x.nrows();
    if model.cap.min(n) <= 2 * TUNE_SAMPLE {
        return Ok(model);
    }
    let idx = Rng::new(seed ^ 0x5eed).sample_indices(n, n);
    let nv = (n / 5).max(10);
    let (val, tr) = idx.split_at(nv);
    let (xt, yt) = (x.select(Axis(0), tr), y.select(Axis(0), tr));
    let (xv, yv) = (x.select(Axis(0), val), y.select(Axis(0), val));
    let mut best = (f64::INFINITY, model.h2);
    for f in [1.0, 0.5, 0.25] {
        let m = Krr { h2: model.h2 * f, ..model.clone() }.refit(xt.view(), yt.view(), seed)?;
        let err = relative_rmse(&m.predict(xv.view()), &yv.to_owned());
        if err < best.0 {
            best = (err, model.h2 * f);
        }
    }
    Ok(Krr { h2: best.1, ..model })
}

/// Largest training set of the deciding cross-validated regressions: more than the other fits get,
/// because a d = 4 map needs it (at 1200 points a nonlinear 4-D pair stayed at 8–11 % error whatever
/// N was; the error was the regression's, not the networks').
pub const CV_SAMPLE: usize = 2500;

/// The cross-validated regression of `y` from `x`: the held-out error per fold, and the learning-curve
/// check of the first fold.
#[derive(Clone, Debug)]
pub struct CrossValidation {
    /// Held-out relative RMSE (trimmed by [`TRIM`]) per fold.
    pub folds: Vec<f64>,
    /// The first fold's error when the model is refitted on a seeded half of its training rows.
    pub half: f64,
    /// Per row (every row is held out once): its held-out error ‖ŷ_i − y_i‖ over the RMS spread
    /// √(mean_i ‖y_i − ȳ‖²) of all rows, so that the relative RMSE is the root mean square of these.
    /// Untrimmed: it says where the regression fails.
    pub points: Vec<f64>,
}

impl CrossValidation {
    /// The first fold's error at full training size over its error at half the size: ≈ 1 when the
    /// error sits at an irreducible floor (one network does not determine the other), clearly below 1
    /// while more data still reduce it (the regression is under-sampled).
    pub fn learning_ratio(&self) -> f64 {
        self.folds.first().copied().unwrap_or(f64::NAN) / self.half.max(1e-300)
    }
}

/// Held-out relative RMSE (trimmed by [`TRIM`]) of predicting `y` from `x` by kernel ridge regression
/// in each of `folds` seeded cross-validation folds (every row is held out once), on at most
/// [`CV_SAMPLE`] training rows. The first fold searches the bandwidth and ridge; the others reuse them.
pub fn cross_validated_rmse(
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    folds: usize,
    seed: u64,
) -> Result<CrossValidation> {
    use ndarray::Axis;
    let n = x.nrows();
    let folds = folds.clamp(2, n / 10);
    let mut perm: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed ^ 0xf01d);
    for i in (1..n).rev() {
        perm.swap(i, rng.below(i + 1));
    }
    let mut out = Vec::with_capacity(folds);
    let mut first: Option<Krr> = None;
    let mut half = f64::NAN;
    let spread = {
        let mut s = 0.0;
        for c in 0..y.ncols() {
            let col = y.column(c);
            let m = col.mean().unwrap_or(0.0);
            s += col.iter().map(|v| (v - m).powi(2)).sum::<f64>();
        }
        (s / n.max(1) as f64).sqrt().max(1e-300)
    };
    let mut points = vec![f64::NAN; n];
    for f in 0..folds {
        let mut test: Vec<usize> = perm.iter().copied().skip(f).step_by(folds).collect();
        test.sort_unstable();
        let mut is_test = vec![false; n];
        test.iter().for_each(|&i| is_test[i] = true);
        let train: Vec<usize> = (0..n).filter(|&i| !is_test[i]).collect();
        let (xt, yt) = (x.select(Axis(0), &train), y.select(Axis(0), &train));
        let model = match &first {
            None => {
                let tuned = Krr::fit_capped(xt.view(), yt.view(), seed + f as u64, CV_SAMPLE)?;
                let tuned = refine_bandwidth(tuned, xt.view(), yt.view(), seed + 55)?;
                tuned.refit(xt.view(), yt.view(), seed + f as u64)?
            }
            Some(m) => m.refit(xt.view(), yt.view(), seed + f as u64)?,
        };
        let (xv, yv) = (x.select(Axis(0), &test), y.select(Axis(0), &test));
        let pred = model.predict(xv.view());
        for (r, &i) in test.iter().enumerate() {
            let e2: f64 = (0..yv.ncols()).map(|c| (pred[[r, c]] - yv[[r, c]]).powi(2)).sum();
            points[i] = e2.sqrt() / spread;
        }
        out.push(trimmed_relative_rmse(&pred, &yv, TRIM));
        if first.is_none() {
            // The same model on half as many training rows (those it used, halved).
            let used = train.len().min(model.cap);
            let m_half = Krr { cap: used / 2, ..model.clone() };
            let small = m_half.refit(xt.view(), yt.view(), seed + 101)?;
            half = trimmed_relative_rmse(&small.predict(xv.view()), &yv, TRIM);
            first = Some(model);
        }
    }
    Ok(CrossValidation { folds: out, half, points })
}

impl Krr {
    /// Predictions for the rows of `x`: the kernel rows to the training points, then one product with α.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array2<f64> {
        use rayon::prelude::*;
        let (n, dx) = x.dim();
        let (m, out) = self.alpha.dim();
        let train = self.x.as_slice().expect("standard layout");
        let inv = 1.0 / self.h2;
        let mut k = vec![0.0; n * m];
        k.par_chunks_mut(m.max(1)).enumerate().for_each(|(i, row)| {
            let xi: Vec<f64> = (0..dx).map(|c| (x[[i, c]] - self.mean[c]) / self.scale[c]).collect();
            for (t, slot) in row.iter_mut().enumerate() {
                *slot = (-sqdist(&xi, &train[t * dx..(t + 1) * dx]) * inv).exp();
            }
        });
        let k = faer::Mat::<f64>::from_fn(n, m, |i, t| k[i * m + t]);
        let alpha = faer::Mat::<f64>::from_fn(m, out, |t, o| self.alpha[[t, o]]);
        let y = &k * &alpha;
        Array2::from_shape_fn((n, out), |(i, o)| y[(i, o)] + self.y_mean[o])
    }
}
