//! CPU twin of `shaders/kernel.wgsl`: rows of the Mahalanobis d² or Gaussian kernel matrix, in f32
//! arithmetic like the shader; [`kernel_f16`] rounds the rows to f16 like the shader's `half` mode.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use crate::backend::GeometryF32;
use crate::pipeline::covariance::MAX_RANK;

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

/// e^x for the kernel's x = −d²/ε ≤ 0, in f32, written so that a loop of it vectorises (no call, no
/// branch): glibc's `expf` is a scalar call whose underflow path (most far pairs) cost more than the
/// whole matrix product at D ≤ 64 (measured with perf). Cephes' expf: x = n·ln 2 + r with |r| ≤ ½ ln 2,
/// e^r by its degree-6 polynomial (relative error ≈ 1e-7, like one f32 rounding), 2ⁿ through the
/// exponent bits; below −87 (e^x < 2⁻¹²⁵, under f32's normal range) the result is 0.
#[inline(always)]
pub(crate) fn exp_kernel(x: f32) -> f32 {
    let xc = x.clamp(-87.0, 0.0);
    // Round to nearest by the 1.5·2²³ trick (SSE2 has no rounding instruction).
    let n = (xc * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    let r = xc - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 0.5; // Cephes' 5.0000001201e-1, which is 0.5 in f32
    let e = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if x < -87.0 { 0.0 } else { e * scale }
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
            Some(ie) => exp_kernel(-d2 * ie),
            None => d2,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::exp_kernel;

    /// The vectorisable exp against f64's over the kernel's whole range: one f32 rounding's worth of
    /// relative error, exactly 1 at 0 and 0 past f32's normal range.
    #[test]
    fn exp_kernel_matches_f64() {
        let mut worst = 0.0f64;
        for k in 0..=200_000 {
            let x = -87.0 * k as f32 / 200_000.0;
            let want = f64::from(x).exp();
            worst = worst.max((f64::from(exp_kernel(x)) - want).abs() / want);
        }
        assert!(worst <= 3.0 * f64::from(f32::EPSILON), "worst relative error {worst:.2e}");
        assert_eq!(exp_kernel(0.0), 1.0);
        assert_eq!(exp_kernel(-90.0), 0.0);
        assert_eq!(exp_kernel(-1e30), 0.0);
    }
}
