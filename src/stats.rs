//! Small statistics on paired series and paired observation matrices: Pearson correlation, R², and the
//! similarity indices reported beside the verdict for context (linear CKA, orthogonal-Procrustes
//! distance, mean CCA correlation).

use ndarray::Array2;

use crate::error::Result;
use crate::solve::dense::svd;

/// Pearson correlation of two equally long series (0 when either is constant).
pub fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 { 0.0 } else { sab / (saa * sbb).sqrt() }
}

/// `v` shifted to zero mean and scaled to unit variance (a constant series stays at zero).
pub fn standardise(v: &[f64]) -> Vec<f64> {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt().max(1e-300);
    v.iter().map(|x| (x - m) / sd).collect()
}

/// Coefficient of determination per column of `truth`.
pub fn r2(pred: &Array2<f64>, truth: &Array2<f64>) -> Vec<f64> {
    (0..truth.ncols())
        .map(|c| {
            let t = truth.column(c);
            let m = t.mean().unwrap_or(0.0);
            let ss_res: f64 = t.iter().zip(pred.column(c)).map(|(a, b)| (a - b).powi(2)).sum();
            let ss_tot: f64 = t.iter().map(|a| (a - m).powi(2)).sum();
            if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { 0.0 }
        })
        .collect()
}

fn centred(x: &Array2<f64>) -> Array2<f64> {
    let mut y = x.clone();
    for mut c in y.columns_mut() {
        let m = c.mean().unwrap_or(0.0);
        c.mapv_inplace(|v| v - m);
    }
    y
}

fn flat(a: &Array2<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

/// Similarity indices between paired observations X (N×Dx) and Y (N×Dy).
#[derive(Clone, Debug)]
pub struct Similarity {
    /// Linear CKA ∈ [0, 1] (1 = same up to rotation and isotropic scale).
    pub linear_cka: f64,
    /// Orthogonal-Procrustes distance ∈ [0, 2] between the centred, Frobenius-normalised matrices
    /// (0 = same up to rotation); the smaller dimension is zero-padded.
    pub procrustes_distance: f64,
    /// Mean canonical correlation ∈ [0, 1].
    pub cca_mean_corr: f64,
}

/// Computes [`Similarity`] on the paired rows of `x` and `y`.
pub fn similarity(x: &Array2<f64>, y: &Array2<f64>) -> Result<Similarity> {
    let (xc, yc) = (centred(x), centred(y));
    let xty = xc.t().dot(&yc);
    let xtx = xc.t().dot(&xc);
    let yty = yc.t().dot(&yc);
    let fro = |m: &Array2<f64>| m.iter().map(|v| v * v).sum::<f64>().sqrt();
    let linear_cka = fro(&xty).powi(2) / (fro(&xtx) * fro(&yty)).max(1e-300);
    let (nx, ny) = (fro(&xc), fro(&yc));
    let s = svd(&flat(&xty), xty.nrows(), xty.ncols())?;
    let nuclear: f64 = s.s.iter().sum::<f64>() / (nx * ny).max(1e-300);
    let procrustes_distance = (2.0 - 2.0 * nuclear).max(0.0);
    // CCA: singular values of Qxᵀ Qy with orthonormal bases of the column spaces (thin SVD's U).
    let basis = |m: &Array2<f64>| -> Result<(Vec<f64>, usize)> {
        let s = svd(&flat(m), m.nrows(), m.ncols())?;
        let top = s.s.first().copied().unwrap_or(0.0);
        let keep: Vec<usize> = (0..s.r).filter(|&c| s.s[c] > top * 1e-8).collect();
        let n = m.nrows();
        let mut q = vec![0.0; n * keep.len()];
        for i in 0..n {
            for (k, &c) in keep.iter().enumerate() {
                q[i * keep.len() + k] = s.u[i * s.r + c];
            }
        }
        Ok((q, keep.len()))
    };
    let (qx, kx) = basis(&xc)?;
    let (qy, ky) = basis(&yc)?;
    let n = x.nrows();
    let mut m = vec![0.0; kx * ky];
    for i in 0..n {
        for a in 0..kx {
            for b in 0..ky {
                m[a * ky + b] += qx[i * kx + a] * qy[i * ky + b];
            }
        }
    }
    let cc = svd(&m, kx, ky)?;
    let cca_mean_corr = cc.s.iter().map(|v| v.min(1.0)).sum::<f64>() / cc.r.max(1) as f64;
    Ok(Similarity { linear_cka, procrustes_distance, cca_mean_corr })
}
