//! The float64 ground truth: the same formulas as the f32 twins, evaluated in f64 with a dense
//! symmetric eigen-solve (faer). O(N²) memory and O(N³) time — for tests and benchmark error columns at
//! moderate N, never for production runs.

use rayon::prelude::*;

use crate::error::Result;
use crate::pipeline::covariance::LocalGeometry;
use crate::pipeline::kernel::distance2;
use crate::solve::dense::{fix_sign, sym_eig};

/// Dense f64 d² matrix (row-major N×N).
pub fn distance_matrix(g: &LocalGeometry) -> Vec<f64> {
    let n = g.n;
    let mut d = vec![0.0; n * n];
    d.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for (j, x) in row.iter_mut().enumerate() {
            *x = distance2(g, i, j);
        }
    });
    d
}

/// Dense f64 kernel matrix exp(−d²/ε).
pub fn kernel_matrix(g: &LocalGeometry, eps: f64) -> Vec<f64> {
    let mut k = distance_matrix(g);
    k.par_iter_mut().for_each(|x| *x = (-*x / eps).exp());
    k
}

/// S = D^{-1/2} K^α D^{-1/2} from K, with D^{-1/2} of the α-normalised kernel.
pub fn normalise(k: &[f64], n: usize, alpha: f64) -> (Vec<f64>, Vec<f64>) {
    let q: Vec<f64> = k.par_chunks(n).map(|r| r.iter().sum()).collect();
    let qa: Vec<f64> = q.iter().map(|v| v.powf(-alpha)).collect();
    let deg: Vec<f64> =
        k.par_chunks(n).enumerate().map(|(i, r)| qa[i] * r.iter().zip(&qa).map(|(a, b)| a * b).sum::<f64>()).collect();
    let isd: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
    let w: Vec<f64> = (0..n).map(|i| qa[i] * isd[i]).collect();
    let mut s = k.to_vec();
    s.par_chunks_mut(n).enumerate().for_each(|(i, r)| {
        for (j, x) in r.iter_mut().enumerate() {
            *x *= w[i] * w[j];
        }
    });
    (s, isd)
}

/// Ground-truth eigenpairs and diffusion coordinates.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The top eigenvalues of S, descending.
    pub values: Vec<f64>,
    /// Unit eigenvectors of S, column-major (N per column).
    pub vectors: Vec<f64>,
    /// ψ = D^{-1/2} v, column-major, signs fixed.
    pub coords: Vec<f64>,
    /// The f64 matrix S (row-major), for residual checks.
    pub s: Vec<f64>,
}

/// The top `k` eigenpairs of the f64 S for geometry `g`, bandwidth `eps` and `alpha`.
pub fn embed(g: &LocalGeometry, eps: f64, alpha: f64, k: usize) -> Result<Reference> {
    let n = g.n;
    let kmat = kernel_matrix(g, eps);
    let (s, isd) = normalise(&kmat, n, alpha);
    drop(kmat);
    let e = sym_eig(&s, n)?;
    let k = k.min(n);
    let values = e.values[..k].to_vec();
    let mut vectors = e.vectors[..k * n].to_vec();
    let mut coords = vec![0.0; k * n];
    for c in 0..k {
        for i in 0..n {
            coords[c * n + i] = vectors[c * n + i] * isd[i];
        }
        // The sign rule applies to ψ; v follows it.
        if fix_sign(&mut coords[c * n..(c + 1) * n]) {
            vectors[c * n..(c + 1) * n].iter_mut().for_each(|x| *x = -*x);
        }
    }
    Ok(Reference { values, vectors, coords, s })
}
