//! CPU twin of `shaders/kernel.wgsl`: rows of the Mahalanobis d² or Gaussian kernel matrix, in f32
//! arithmetic like the shader; [`kernel_f16`] rounds the rows to f16 like the shader's `half` mode.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use crate::covariance::MAX_RANK;
use crate::kernel::GeometryF32;

/// Fills `out` (rows × N, row-major) with rows `row0..` of exp(−d²/ε) (or d² when `eps` is `None`).
pub fn kernel(g: &GeometryF32, eps: Option<f64>, row0: usize, out: &mut [f32]) {
    let inv_eps = eps.map(|e| (1.0 / e) as f32);
    out.par_chunks_mut(g.n).enumerate().for_each(|(local, row)| kernel_row(g, inv_eps, row0 + local, row));
}

/// [`kernel`] stored as f16 (the shader's `half` mode): each row is computed in f32 and rounded to
/// nearest f16, as `pack2x16float` does.
pub fn kernel_f16(g: &GeometryF32, eps: f64, row0: usize, out: &mut [f16]) {
    let inv_eps = Some((1.0 / eps) as f32);
    out.par_chunks_mut(g.n).enumerate().for_each_init(
        || vec![0.0f32; g.n],
        |tmp, (local, row)| {
            kernel_row(g, inv_eps, row0 + local, tmp);
            row.convert_from_f32_slice(tmp);
        },
    );
}

/// Row i of the matrix into `row` (length N).
pub(crate) fn kernel_row(g: &GeometryF32, inv_eps: Option<f32>, i: usize, row: &mut [f32]) {
    let (dim, r) = (g.dim, g.rank);
    let oi = &g.obs[i * dim..(i + 1) * dim];
    let ui = &g.factors[i * dim * r..(i + 1) * dim * r];
    let vi = &g.tangents[i * dim * r..(i + 1) * dim * r];
    let wi = g.normal_weights[i];
    for (j, slot) in row.iter_mut().enumerate() {
        let oj = &g.obs[j * dim..(j + 1) * dim];
        let uj = &g.factors[j * dim * r..(j + 1) * dim * r];
        let vj = &g.tangents[j * dim * r..(j + 1) * dim * r];
        let mut a = [0.0f32; MAX_RANK];
        let mut b = [0.0f32; MAX_RANK];
        let mut ta = [0.0f32; MAX_RANK];
        let mut tb = [0.0f32; MAX_RANK];
        let mut dd = 0.0f32;
        for c in 0..dim {
            let d = oi[c] - oj[c];
            dd += d * d;
            for s in 0..r {
                a[s] += ui[c * r + s] * d;
                b[s] += uj[c * r + s] * d;
                ta[s] += vi[c * r + s] * d;
                tb[s] += vj[c * r + s] * d;
            }
        }
        let (mut d2, mut pa, mut pb) = (0.0f32, 0.0f32, 0.0f32);
        for s in 0..r {
            d2 += a[s] * a[s] + b[s] * b[s];
            pa += ta[s] * ta[s];
            pb += tb[s] * tb[s];
        }
        d2 += (dd - pa).max(0.0) * wi + (dd - pb).max(0.0) * g.normal_weights[j];
        d2 *= 0.5;
        *slot = match inv_eps {
            Some(ie) => (-d2 * ie).exp(),
            None => d2,
        };
    }
}
