//! Small dense float64 linear algebra on the host: the symmetric eigen-decomposition (through faer) that
//! the local covariances, the Lanczos Ritz problem and the ground-truth reference all use. One wrapper so
//! that ordering (descending) and layout (column-major eigenvectors) are decided in exactly one place.

use crate::error::{Error, Result};

/// Eigen-decomposition of a symmetric matrix, eigenvalues in descending order.
#[derive(Clone, Debug)]
pub struct SymEig {
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Eigenvectors, column-major: column `c` is `vectors[c * n .. (c + 1) * n]`.
    pub vectors: Vec<f64>,
    /// Matrix order.
    pub n: usize,
}

impl SymEig {
    /// Column `c` (the eigenvector of `values[c]`).
    pub fn vector(&self, c: usize) -> &[f64] {
        &self.vectors[c * self.n..(c + 1) * self.n]
    }
}

/// Eigen-decomposition of the symmetric `n × n` matrix `a` (row- or column-major: it is symmetric; only
/// the lower triangle is read).
pub fn sym_eig(a: &[f64], n: usize) -> Result<SymEig> {
    assert_eq!(a.len(), n * n, "sym_eig: buffer does not hold an n × n matrix");
    let m = faer::Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
    let e = m
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| Error::Eigen(format!("dense symmetric eigen-solve of order {n} failed: {e:?}")))?;
    let s = e.S().column_vector();
    let u = e.U();
    // faer sorts ascending; netmatch wants the largest first.
    let mut values = Vec::with_capacity(n);
    let mut vectors = Vec::with_capacity(n * n);
    for c in (0..n).rev() {
        values.push(s[c]);
        for i in 0..n {
            vectors.push(u[(i, c)]);
        }
    }
    Ok(SymEig { values, vectors, n })
}

/// Flips the sign of `v` so that its entry of largest magnitude is positive (the deterministic sign rule
/// of the design; ties go to the lowest index). Returns whether it flipped.
pub fn fix_sign(v: &mut [f64]) -> bool {
    let mut best = 0usize;
    for (i, x) in v.iter().enumerate() {
        if x.abs() > v[best].abs() {
            best = i;
        }
    }
    if v.get(best).is_some_and(|x| *x < 0.0) {
        v.iter_mut().for_each(|x| *x = -*x);
        return true;
    }
    false
}
