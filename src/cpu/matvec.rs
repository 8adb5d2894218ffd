//! CPU twin of `shaders/matvec.wgsl`: y = A x over f32 rows, accumulated in f64 (the CPU can afford the
//! wider sum; the shader uses a 256-way tree instead, which bounds its error similarly).

use rayon::prelude::*;

/// y = A x for the row-major `rows × n` matrix `a` (rows = y.len()).
pub fn matvec(a: &[f32], n: usize, x: &[f32], y: &mut [f32]) {
    y.par_iter_mut().enumerate().for_each(|(i, yi)| {
        let row = &a[i * n..(i + 1) * n];
        // Eight f32 lanes reduced in f64 at the end: vectorises, and each lane sums only N/8 terms.
        let mut acc = [0.0f32; 8];
        let chunks = row.chunks_exact(8).zip(x.chunks_exact(8));
        for (rc, xc) in chunks {
            for l in 0..8 {
                acc[l] += rc[l] * xc[l];
            }
        }
        let tail = n - n % 8;
        let mut s: f64 = acc.iter().map(|&v| f64::from(v)).sum();
        for j in tail..n {
            s += f64::from(row[j]) * f64::from(x[j]);
        }
        *yi = s as f32;
    });
}
