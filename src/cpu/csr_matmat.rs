//! CPU twin of `shaders/csr_matmat.wgsl`: Y = S X for the sparse k-NN kernel in CSR and a block of b
//! vectors. The vectors are interleaved (row j of X holds entry j of every vector), so one stored entry
//! multiplies one contiguous run; each row accumulates in f64.

use rayon::prelude::*;

use crate::backend::Csr;
use crate::backend::{deinterleave, interleave};

/// Y = S X: `x` column-major N×b, `y` column-major N×b.
pub fn csr_matmat(s: &Csr, x: &[f32], b: usize, y: &mut [f32]) {
    let n = s.n;
    assert!(b > 0 && x.len() == n * b && y.len() == n * b, "csr_matmat: shapes do not match");
    let mut xi = vec![0.0f32; n * b];
    interleave(x, n, 0, b, b, &mut xi);
    let mut yi = vec![0.0f32; n * b];
    yi.par_chunks_mut(b).enumerate().for_each(|(i, out)| {
        let (lo, hi) = (s.indptr[i] as usize, s.indptr[i + 1] as usize);
        let mut acc = [0.0f64; 64];
        for c0 in (0..b).step_by(64) {
            let w = (b - c0).min(64);
            acc[..w].iter_mut().for_each(|a| *a = 0.0);
            for p in lo..hi {
                let v = f64::from(s.values[p]);
                let row = &xi[s.indices[p] as usize * b + c0..][..w];
                for (a, &xv) in acc[..w].iter_mut().zip(row) {
                    *a += v * f64::from(xv);
                }
            }
            for (o, a) in out[c0..c0 + w].iter_mut().zip(&acc[..w]) {
                *o = *a as f32;
            }
        }
    });
    deinterleave(&yi, n, b, 0, b, y);
}
