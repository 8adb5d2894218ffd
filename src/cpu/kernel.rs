//! CPU twin of `shaders/kernel.wgsl`: rows of the Mahalanobis d² or Gaussian kernel matrix, in f32
//! arithmetic like the shader.

use rayon::prelude::*;

use crate::covariance::MAX_RANK;
use crate::kernel::GeometryF32;

/// Fills `out` (rows × N, row-major) with rows `row0..` of exp(−d²/ε) (or d² when `eps` is `None`).
pub fn kernel(g: &GeometryF32, eps: Option<f64>, row0: usize, out: &mut [f32]) {
    let (n, dim, r) = (g.n, g.dim, g.rank);
    let inv_eps = eps.map(|e| (1.0 / e) as f32);
    out.par_chunks_mut(n).enumerate().for_each(|(local, row)| {
        let i = row0 + local;
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
    });
}
