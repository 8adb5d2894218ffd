//! CPU twins of the Lanczos kernels `shaders/lanczos_{project,orthogonalise,normalise,restart}.wgsl`.
//! The basis is column-major f32: column c is `basis[c*n .. (c+1)*n]`.

use rayon::prelude::*;

/// h[c] = ⟨v_c, w⟩ for c < ncols (twin of `lanczos_project`).
pub fn lanczos_project(basis: &[f32], n: usize, ncols: usize, w: &[f32], h: &mut [f32]) {
    h[..ncols].par_iter_mut().enumerate().for_each(|(c, hc)| {
        let v = &basis[c * n..(c + 1) * n];
        *hc = v.iter().zip(w).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum::<f64>() as f32;
    });
}

/// w ← w − Σ_{c<ncols} h[c] v_c (twin of `lanczos_orthogonalise`).
pub fn lanczos_orthogonalise(basis: &[f32], n: usize, ncols: usize, h: &[f32], w: &mut [f32]) {
    w.par_iter_mut().enumerate().for_each(|(i, wi)| {
        let mut s = 0.0f64;
        for c in 0..ncols {
            s += f64::from(basis[c * n + i]) * f64::from(h[c]);
        }
        *wi = (f64::from(*wi) - s) as f32;
    });
}

/// dst ← w / ‖w‖ (zero when ‖w‖ underflows: an invariant subspace); returns ‖w‖ (twin of
/// `lanczos_normalise`). `scale` overrides the norm when given.
pub fn lanczos_normalise(w: &[f32], dst: &mut [f32], scale: Option<f32>) -> f32 {
    let beta = scale.unwrap_or_else(|| w.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt() as f32);
    let inv = if beta > 1e-30 { 1.0 / beta } else { 0.0 };
    dst.par_iter_mut().zip(w).for_each(|(d, &v)| *d = v * inv);
    beta
}

/// new[:, c] = Σ_{l<m} old[:, l] Y[l, c] for c < k; with `carry`, also new[:, k] = old[:, m]
/// (twin of `lanczos_restart`).
pub fn lanczos_restart(old: &[f32], n: usize, m: usize, y: &[f32], k: usize, carry: bool, new: &mut [f32]) {
    let (head, _) = new.split_at_mut((k + usize::from(carry)) * n);
    head.par_chunks_mut(n).enumerate().for_each(|(c, col)| {
        if c == k {
            col.copy_from_slice(&old[m * n..(m + 1) * n]);
            return;
        }
        let yc = &y[c * m..(c + 1) * m];
        for (i, x) in col.iter_mut().enumerate() {
            let mut s = 0.0f64;
            for l in 0..m {
                s += f64::from(old[l * n + i]) * f64::from(yc[l]);
            }
            *x = s as f32;
        }
    });
}
