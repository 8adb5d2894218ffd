//! CPU twin of `shaders/kernel_matmat.wgsl`: the matrix-free block product Y = K X, each kernel row
//! recomputed from the local geometry (as [`super::kernel`] computes it) and used at once for all b
//! vectors, so no N×N matrix is ever held. Costs one kernel build per pass.

use rayon::prelude::*;

use super::kernel::kernel_row;
use super::matvec::dot;
use crate::backend::GeometryF32;

/// Y = K X with K = exp(−d²/ε) of `g`; `x` and `y` column-major N×b.
pub fn kernel_matmat(g: &GeometryF32, eps: f64, x: &[f32], b: usize, y: &mut [f32]) {
    let n = g.n;
    assert!(b > 0 && x.len() == n * b && y.len() == n * b, "kernel_matmat: shapes do not match");
    let inv_eps = Some((1.0 / eps) as f32);
    let rows: Vec<Vec<f32>> = (0..n)
        .into_par_iter()
        .map_init(
            || vec![0.0f32; n],
            |k, i| {
                kernel_row(g, inv_eps, i, k);
                (0..b).map(|c| dot(k, &x[c * n..(c + 1) * n]) as f32).collect()
            },
        )
        .collect();
    for (i, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            y[c * n + i] = *v;
        }
    }
}
