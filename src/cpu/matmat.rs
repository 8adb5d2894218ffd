//! CPU twin of `shaders/matmat.wgsl`: Y = A X for a block of b vectors, reading each matrix row once
//! for all b of them. This is what the block eigensolver ([`crate::solve::block`]) buys its speed with: a dense
//! solve on the CPU streams the N×N matrix from memory, so b vectors per pass cost about what one costs
//! until the arithmetic (2b flops per matrix entry) catches up with the memory bus.
//!
//! Layout: the vectors are interleaved (row j of X holds entry j of every vector, padded with zeros to
//! a multiple of 8 lanes), so one matrix entry multiplies one contiguous run of X. Each 256-column strip
//! is summed in f32 and the strips in f64, which bounds the rounding like the matvec twin's 32 lanes.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use crate::backend::{deinterleave, interleave};

/// The matrix rows a block product reads: f32, or f16 widened to f32 one strip at a time (the
/// shader's `half` mode), so both storages share the SIMD loop.
#[derive(Clone, Copy)]
enum Rows<'a> {
    F32(&'a [f32]),
    F16(&'a [f16]),
}

impl Rows<'_> {
    fn len(&self) -> usize {
        match self {
            Rows::F32(a) => a.len(),
            Rows::F16(a) => a.len(),
        }
    }
    /// Rows `r0..r0+take` of length `n`.
    fn slice(&self, r0: usize, take: usize, n: usize) -> Self {
        match self {
            Rows::F32(a) => Rows::F32(&a[r0 * n..(r0 + take) * n]),
            Rows::F16(a) => Rows::F16(&a[r0 * n..(r0 + take) * n]),
        }
    }
    /// Columns `j0..j0+len` of each of `rows` rows into `buf` (row stride `STRIP`); f32 rows are
    /// copied only by the portable path, the SIMD path reads them in place.
    fn strip(&self, rows: usize, n: usize, j0: usize, len: usize, buf: &mut [f32]) {
        for r in 0..rows {
            let dst = &mut buf[r * STRIP..r * STRIP + len];
            match self {
                Rows::F32(a) => dst.copy_from_slice(&a[r * n + j0..r * n + j0 + len]),
                Rows::F16(a) => a[r * n + j0..r * n + j0 + len].convert_to_f32_slice(dst),
            }
        }
    }
}

/// Columns per f32 partial sum (see the module doc).
const STRIP: usize = 256;
/// Rows per rayon task.
const TASK_ROWS: usize = 48;

/// Y = A X: `a` is the row-major `rows × n` matrix (rows = y.len() / b), `x` the column-major n×b block
/// and `y` the column-major rows×b result.
pub fn matmat(a: &[f32], n: usize, x: &[f32], b: usize, y: &mut [f32]) {
    matmat_rows(Rows::F32(a), n, x, b, y);
}

/// [`matmat`] for an f16 matrix (the shader's `half` mode).
pub fn matmat_f16(a: &[f16], n: usize, x: &[f32], b: usize, y: &mut [f32]) {
    matmat_rows(Rows::F16(a), n, x, b, y);
}

fn matmat_rows(a: Rows<'_>, n: usize, x: &[f32], b: usize, y: &mut [f32]) {
    assert!(b > 0 && x.len() == n * b && y.len() % b == 0, "matmat: shapes do not match");
    let rows = y.len() / b;
    assert!(a.len() >= rows * n, "matmat: matrix shorter than rows × n");
    if b > 32 {
        // Wider blocks go 32 vectors at a time (the register budget of the SIMD path).
        for c0 in (0..b).step_by(32) {
            let w = (b - c0).min(32);
            matmat_rows(a, n, &x[c0 * n..(c0 + w) * n], w, &mut y[c0 * rows..(c0 + w) * rows]);
        }
        return;
    }
    let bp = b.div_ceil(8) * 8;
    let mut xi = vec![0.0f32; n * bp];
    interleave(x, n, 0, b, bp, &mut xi);
    let mut yi = vec![0.0f32; rows * bp];
    let simd = simd_available();
    // Rows multiplied together: each X row loaded is used for this many matrix rows.
    #[cfg(target_arch = "x86_64")]
    let group = if simd { avx::rows_for(bp) } else { 4 };
    #[cfg(not(target_arch = "x86_64"))]
    let group = 4;
    yi.par_chunks_mut(TASK_ROWS * bp).enumerate().for_each(|(t, out)| {
        let row0 = t * TASK_ROWS;
        let nr = out.len() / bp;
        let mut r = 0;
        while r < nr {
            let take = (nr - r).min(group);
            let rows_a = a.slice(row0 + r, take, n);
            let dst = &mut out[r * bp..(r + take) * bp];
            if simd && take == group {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `simd_available` checked for AVX2 and FMA at run time.
                unsafe {
                    avx::rows(rows_a, n, &xi, bp, dst)
                };
            } else {
                portable(rows_a, n, take, &xi, bp, dst);
            }
            r += take;
        }
    });
    deinterleave(&yi, rows, bp, 0, b, y);
}

fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Any number of rows, any target: the reference the SIMD path must agree with.
fn portable(a: Rows<'_>, n: usize, take: usize, xi: &[f32], bp: usize, out: &mut [f32]) {
    let mut tot = vec![0.0f64; take * bp];
    let mut acc = vec![0.0f32; take * bp];
    let mut buf = vec![0.0f32; take * STRIP];
    for j0 in (0..n).step_by(STRIP) {
        acc.iter_mut().for_each(|v| *v = 0.0);
        let len = STRIP.min(n - j0);
        a.strip(take, n, j0, len, &mut buf);
        for j in j0..j0 + len {
            let xr = &xi[j * bp..(j + 1) * bp];
            for r in 0..take {
                let s = buf[r * STRIP + j - j0];
                for (q, &xv) in acc[r * bp..(r + 1) * bp].iter_mut().zip(xr) {
                    *q += s * xv;
                }
            }
        }
        tot.iter_mut().zip(&acc).for_each(|(t, &v)| *t += f64::from(v));
    }
    out.iter_mut().zip(&tot).for_each(|(o, &t)| *o = t as f32);
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::{Rows, STRIP};

    /// Rows per call for `bp` interleaved lanes: enough independent FMA chains (rows × 8-lane groups ≥ 8)
    /// to hide the FMA latency, few enough that the accumulators stay in the 16 vector registers.
    pub fn rows_for(bp: usize) -> usize {
        match bp / 8 {
            1 => 8,
            2 => 6,
            _ => 3,
        }
    }

    /// [`rows_for`]`(bp)` rows against bp = 8·G ≤ 32 interleaved columns.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `a` holds `rows_for(bp)` rows of `n`, `xi` n rows of `bp`,
    /// `out` rows_for(bp) × bp.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn rows(a: Rows<'_>, n: usize, xi: &[f32], bp: usize, out: &mut [f32]) {
        // SAFETY: forwarded from the caller; the generic bodies assert their slice lengths.
        unsafe {
            match bp / 8 {
                1 => rows_g::<1, 8>(a, n, xi, out),
                2 => rows_g::<2, 6>(a, n, xi, out),
                3 => rows_g::<3, 3>(a, n, xi, out),
                _ => rows_g::<4, 3>(a, n, xi, out),
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows_g<const G: usize, const R: usize>(a: Rows<'_>, n: usize, xi: &[f32], out: &mut [f32]) {
        let bp = 8 * G;
        assert!(a.len() >= R * n && xi.len() >= n * bp && out.len() >= R * bp);
        let mut tot = [[0.0f64; 32]; R];
        let xp = xi.as_ptr();
        // f16 rows are widened here a strip at a time (R × STRIP f32 = at most 8 KiB, in L1).
        let mut buf = vec![0.0f32; if matches!(a, Rows::F16(_)) { R * STRIP } else { 0 }];
        for j0 in (0..n).step_by(STRIP) {
            let len = STRIP.min(n - j0);
            // (base, row stride) such that entry (r, j) sits at base + r·stride + j − j0.
            let (ap, stride) = match a {
                Rows::F32(a) => (a[j0..].as_ptr(), n),
                Rows::F16(_) => {
                    a.strip(R, n, j0, len, &mut buf);
                    (buf.as_ptr(), STRIP)
                }
            };
            let mut acc = [[_mm256_setzero_ps(); G]; R];
            for j in j0..j0 + len {
                // SAFETY: j < n, so row r's entry j (in `a` or the strip buffer) and X row j's bp lanes
                // are in bounds (asserted above).
                unsafe {
                    let mut xv = [_mm256_setzero_ps(); G];
                    for (g, v) in xv.iter_mut().enumerate() {
                        *v = _mm256_loadu_ps(xp.add(j * bp + 8 * g));
                    }
                    for (r, accr) in acc.iter_mut().enumerate() {
                        let s = _mm256_broadcast_ss(&*ap.add(r * stride + j - j0));
                        for g in 0..G {
                            accr[g] = _mm256_fmadd_ps(s, xv[g], accr[g]);
                        }
                    }
                }
            }
            for r in 0..R {
                for g in 0..G {
                    let mut lanes = [0.0f32; 8];
                    // SAFETY: `lanes` holds 8 f32.
                    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc[r][g]) };
                    for (l, v) in lanes.iter().enumerate() {
                        tot[r][8 * g + l] += f64::from(*v);
                    }
                }
            }
        }
        for r in 0..R {
            for c in 0..bp {
                out[r * bp + c] = tot[r][c] as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The SIMD path, the portable path and a float64 product agree for every supported width.
    #[test]
    fn matmat_matches_f64_for_all_widths() {
        let mut rng = Rng::new(7);
        let (rows, n) = (37, 613);
        let a: Vec<f32> = (0..rows * n).map(|_| rng.uniform() as f32).collect();
        for b in [1, 3, 8, 11, 16, 24, 32, 40] {
            let x: Vec<f32> = (0..n * b).map(|_| rng.normal() as f32).collect();
            let mut y = vec![0.0f32; rows * b];
            matmat(&a, n, &x, b, &mut y);
            let got: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
            let want: Vec<f64> = (0..b)
                .flat_map(|c| {
                    let (a, x) = (&a, &x);
                    (0..rows)
                        .map(move |i| (0..n).map(|j| f64::from(a[i * n + j]) * f64::from(x[c * n + j])).sum::<f64>())
                })
                .collect();
            crate::testing::assert_close(&format!("matmat b = {b}"), &got, &want, 1e-4, 1e-5);
        }
    }

    /// The f16 rows give the float64 product of the f16 values (the widening is exact).
    #[test]
    fn matmat_f16_matches_f64_of_the_rounded_matrix() {
        let mut rng = Rng::new(8);
        let (rows, n) = (29, 700);
        let a: Vec<f16> = (0..rows * n).map(|_| f16::from_f64(rng.uniform())).collect();
        for b in [1, 5, 16, 19] {
            let x: Vec<f32> = (0..n * b).map(|_| rng.normal() as f32).collect();
            let mut y = vec![0.0f32; rows * b];
            matmat_f16(&a, n, &x, b, &mut y);
            let got: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
            let want: Vec<f64> = (0..b)
                .flat_map(|c| {
                    let (a, x) = (&a, &x);
                    (0..rows).map(move |i| (0..n).map(|j| a[i * n + j].to_f64() * f64::from(x[c * n + j])).sum::<f64>())
                })
                .collect();
            crate::testing::assert_close(&format!("matmat_f16 b = {b}"), &got, &want, 1e-4, 1e-5);
            let mut yv = vec![0.0f32; rows];
            crate::cpu::matvec::matvec_f16(&a, n, &x[..n], &mut yv);
            let gv: Vec<f64> = yv.iter().map(|&v| f64::from(v)).collect();
            crate::testing::assert_close("matvec_f16", &gv, &want[..rows], 1e-4, 1e-5);
        }
    }
}
