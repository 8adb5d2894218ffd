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

/// Thin singular value decomposition of the row-major `rows × cols` matrix `a`.
#[derive(Clone, Debug)]
pub struct Svd {
    /// Left singular vectors, row-major rows × r.
    pub u: Vec<f64>,
    /// Singular values, descending (r = min(rows, cols)).
    pub s: Vec<f64>,
    /// Right singular vectors, row-major cols × r.
    pub v: Vec<f64>,
    /// r.
    pub r: usize,
}

/// Thin SVD (faer).
pub fn svd(a: &[f64], rows: usize, cols: usize) -> Result<Svd> {
    assert_eq!(a.len(), rows * cols, "svd: buffer does not hold rows × cols");
    let m = faer::Mat::<f64>::from_fn(rows, cols, |i, j| a[i * cols + j]);
    let d = m.thin_svd().map_err(|e| Error::Eigen(format!("SVD of a {rows}×{cols} matrix failed: {e:?}")))?;
    let r = rows.min(cols);
    let (u, v, s) = (d.U(), d.V(), d.S().column_vector());
    let mut out = Svd { u: vec![0.0; rows * r], s: (0..r).map(|i| s[i]).collect(), v: vec![0.0; cols * r], r };
    for i in 0..rows {
        for c in 0..r {
            out.u[i * r + c] = u[(i, c)];
        }
    }
    for i in 0..cols {
        for c in 0..r {
            out.v[i * r + c] = v[(i, c)];
        }
    }
    Ok(out)
}

/// Solves (A + λI) X = B for the symmetric positive definite `n × n` matrix `a` (row- or column-major;
/// the lower triangle is read) and the `n × m` right-hand sides `b` (row-major), by Cholesky: a third
/// of the work of an eigen-decomposition, for the one-off ridge fits that need no λ sweep.
pub fn spd_solve(a: &[f64], n: usize, lambda: f64, b: &[f64], m: usize) -> Result<Vec<f64>> {
    use faer::linalg::solvers::Solve;
    assert_eq!(a.len(), n * n, "spd_solve: buffer does not hold an n × n matrix");
    assert_eq!(b.len(), n * m, "spd_solve: right-hand sides do not hold n × m values");
    let mat = faer::Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j] + if i == j { lambda } else { 0.0 });
    let llt = mat.llt(faer::Side::Lower).map_err(|e| {
        Error::Eigen(format!("Cholesky factorisation of order {n} failed (not positive definite): {e:?}"))
    })?;
    let mut rhs = faer::Mat::<f64>::from_fn(n, m, |i, j| b[i * m + j]);
    llt.solve_in_place(rhs.as_mut());
    Ok((0..n).flat_map(|i| (0..m).map(move |j| (i, j))).map(|(i, j)| rhs[(i, j)]).collect())
}
