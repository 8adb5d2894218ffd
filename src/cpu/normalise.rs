//! CPU twin of `shaders/normalise.wgsl`: the in-place symmetric scaling A_ij ← w_i A_ij w_j that turns
//! K into S = D^{-1/2} K^α D^{-1/2}.

use rayon::prelude::*;

/// Scales rows `row0..` of the row-major matrix block `a` (rows × n).
pub fn normalise(a: &mut [f32], n: usize, row0: usize, w: &[f32]) {
    a.par_chunks_mut(n).enumerate().for_each(|(local, row)| {
        let wi = w[row0 + local];
        for (x, &wj) in row.iter_mut().zip(w) {
            *x *= wi * wj;
        }
    });
}
