//! CPU twin of `shaders/matvec.wgsl`: y = A x over f32 rows (or f16 rows, the shader's `half` mode),
//! accumulated in f64 (the CPU can afford the wider sum; the shader uses a 256-way tree instead, which
//! bounds its error similarly).

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

/// Columns of an f16 row converted to f32 at a time.
const STRIP: usize = 256;

/// y = A x for the row-major `rows × n` matrix `a` (rows = y.len()).
pub fn matvec(a: &[f32], n: usize, x: &[f32], y: &mut [f32]) {
    y.par_iter_mut().enumerate().for_each(|(i, yi)| {
        *yi = dot(&a[i * n..(i + 1) * n], x) as f32;
    });
}

/// [`matvec`] for an f16 matrix: each row is widened to f32 a strip at a time (F16C through `half`).
pub fn matvec_f16(a: &[f16], n: usize, x: &[f32], y: &mut [f32]) {
    y.par_iter_mut().enumerate().for_each(|(i, yi)| {
        let row = &a[i * n..(i + 1) * n];
        let mut buf = [0.0f32; STRIP];
        let mut s = 0.0f64;
        for (j0, part) in (0..n).step_by(STRIP).zip(row.chunks(STRIP)) {
            let wide = &mut buf[..part.len()];
            part.convert_to_f32_slice(wide);
            s += dot(wide, &x[j0..j0 + part.len()]);
        }
        *yi = s as f32;
    });
}

/// Σ row·x with 32 f32 lanes in four independent groups of eight, reduced in f64 at the end: the
/// groups give the core four add chains to overlap (N = 20 000, 2 cores: one group of eight streamed
/// 22 GB/s, four 25.5 GB/s; numpy's dgemv 33 GB/s), and each lane sums only N/32 terms.
pub(crate) fn dot(row: &[f32], x: &[f32]) -> f64 {
    let n = row.len();
    let mut acc = [[0.0f32; 8]; 4];
    for (rc, xc) in row.chunks_exact(32).zip(x.chunks_exact(32)) {
        for g in 0..4 {
            for l in 0..8 {
                acc[g][l] += rc[8 * g + l] * xc[8 * g + l];
            }
        }
    }
    let tail = n - n % 32;
    let mut s: f64 = acc.iter().flatten().map(|&v| f64::from(v)).sum();
    for j in tail..n {
        s += f64::from(row[j]) * f64::from(x[j]);
    }
    s
}
