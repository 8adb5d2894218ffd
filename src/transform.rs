//! Step 8: out-of-sample maps by kernel ridge regression with a Euclidean Gaussian kernel (the
//! Mahalanobis kernel has no out-of-sample form without a burst). Inputs are standardised per column;
//! the bandwidth h² (a grid of multiples of the median squared distance) and the ridge λ are chosen on
//! a seeded inner validation split of at most [`TUNE_SAMPLE`] points, then the model is refitted on all
//! training points (at most [`KRR_SAMPLE`], seeded subsample). One eigen-decomposition per bandwidth
//! serves every λ.

use ndarray::{Array2, ArrayView2};

use crate::dense::sym_eig;
use crate::error::{Error, Result};
use crate::rng::Rng;

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
}

fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn gram(x: &Array2<f64>, rows: &[usize], cols: &[usize], h2: f64) -> Vec<f64> {
    use rayon::prelude::*;
    let mut k = vec![0.0; rows.len() * cols.len()];
    k.par_chunks_mut(cols.len()).zip(rows.par_iter()).for_each(|(row, &i)| {
        let xi = x.row(i);
        let xi = xi.as_slice().expect("standard layout");
        for (slot, &j) in row.iter_mut().zip(cols) {
            *slot = (-sqdist(xi, x.row(j).as_slice().expect("standard layout")) / h2).exp();
        }
    });
    k
}

/// Solves (K + λI) α = Y with K = Q diag(w) Qᵀ.
fn ridge_solve(e: &crate::dense::SymEig, y: &Array2<f64>, rows: &[usize], lambda: f64) -> Array2<f64> {
    let n = rows.len();
    let out = y.ncols();
    let mut alpha = Array2::zeros((n, out));
    for c in 0..n {
        let v = e.vector(c);
        let w = 1.0 / (e.values[c].max(0.0) + lambda);
        for o in 0..out {
            let proj: f64 = rows.iter().enumerate().map(|(a, &r)| v[a] * y[[r, o]]).sum();
            for a in 0..n {
                alpha[[a, o]] += v[a] * w * proj;
            }
        }
    }
    alpha
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
        let (n, dx) = x.dim();
        if y.nrows() != n || n < 10 {
            return Err(Error::Shape(format!("regression needs ≥ 10 paired rows, got x {n}, y {}", y.nrows())));
        }
        let mut rng = Rng::new(seed ^ 0x4b55);
        let idx = rng.sample_indices(n, KRR_SAMPLE);
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
        for &hf in &H_GRID {
            let h2 = hf * med;
            let k = gram(&xs, &tr, &tr, h2);
            let e = sym_eig(&k, tr.len())?;
            let kv = gram(&xs, &val, &tr, h2);
            for &lam in &L_GRID {
                let alpha = ridge_solve(&e, &ys, &tr, lam);
                let pred = Array2::from_shape_fn((val.len(), ys.ncols()), |(a, o)| {
                    (0..tr.len()).map(|t| kv[a * tr.len() + t] * alpha[[t, o]]).sum::<f64>()
                });
                let err = relative_rmse(&pred, &yval);
                if err < best.0 {
                    best = (err, h2, lam);
                }
            }
        }
        let all: Vec<usize> = (0..m).collect();
        let k = gram(&xs, &all, &all, best.1);
        let e = sym_eig(&k, m)?;
        let alpha = ridge_solve(&e, &ys, &all, best.2);
        Ok(Krr { x: xs, mean, scale, alpha, y_mean, h2: best.1, lambda: best.2, validation_rmse: best.0 })
    }

    /// Predictions for the rows of `x`.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array2<f64> {
        use rayon::prelude::*;
        let (n, dx) = x.dim();
        let out = self.alpha.ncols();
        let rows: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let xi: Vec<f64> = (0..dx).map(|c| (x[[i, c]] - self.mean[c]) / self.scale[c]).collect();
                let mut y = self.y_mean.clone();
                for t in 0..self.x.nrows() {
                    let w = (-sqdist(&xi, self.x.row(t).as_slice().expect("std")) / self.h2).exp();
                    for o in 0..out {
                        y[o] += w * self.alpha[[t, o]];
                    }
                }
                y
            })
            .collect();
        Array2::from_shape_fn((n, out), |(i, o)| rows[i][o])
    }
}
