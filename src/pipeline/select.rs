//! Step 6: which diffusion coordinates are new directions and which are harmonics of earlier ones.
//! Local linear regression (Dsilva et al. 2018): ψ_k is fitted locally-linearly on ψ_1..ψ_{k−1} with
//! Gaussian weights (bandwidth = median squared distance / 3), leave-one-out; the normalised residual
//! r_k ≈ 1 marks a new direction, ≈ 0 a function of the earlier ones. r_1 = 1 by definition. Runs on a
//! seeded subsample of at most [`SELECT_SAMPLE`] points (fit and evaluation), which keeps it
//! O(sample² · k²) for any N.

use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::solve::dense::sym_eig;
use crate::stats::standardise;

/// Points used by the local regression.
pub const SELECT_SAMPLE: usize = 1000;

/// r_k for the non-trivial columns 1..=k of `coords` (column 0, the trivial one, is skipped). Entry
/// `c` of the result belongs to coordinate `c + 1`.
pub fn residuals(coords: &Array2<f64>, seed: u64) -> Result<Vec<f64>> {
    let (n, kk) = coords.dim();
    if kk < 2 {
        return Err(Error::Shape(format!("need at least one non-trivial coordinate, got {kk} columns")));
    }
    let idx = Rng::new(seed ^ 0x5e1ec7).sample_indices(n, SELECT_SAMPLE);
    let s = idx.len();
    // Standardised coordinates on the subsample.
    let cols: Vec<Vec<f64>> =
        (1..kk).map(|c| standardise(&idx.iter().map(|&i| coords[[i, c]]).collect::<Vec<f64>>())).collect();
    let mut out = vec![1.0];
    for k in 1..cols.len() {
        // Regress column k on columns 0..k.
        let p = k + 1; // intercept + k slopes
        let mut d2 = Vec::with_capacity(s * (s - 1) / 2);
        let dist = |a: usize, b: usize| -> f64 { (0..k).map(|c| (cols[c][a] - cols[c][b]).powi(2)).sum() };
        for a in 0..s {
            for b in a + 1..s {
                d2.push(dist(a, b));
            }
        }
        d2.sort_unstable_by(f64::total_cmp);
        let h = d2[d2.len() / 2].sqrt() / 3.0;
        let eps = (h * h).max(1e-300);
        let y = &cols[k];
        let sq: Vec<f64> = (0..s)
            .into_par_iter()
            .map(|i| {
                let mut ata = vec![0.0; p * p];
                let mut aty = vec![0.0; p];
                let mut row = vec![0.0; p];
                for j in 0..s {
                    if j == i {
                        continue;
                    }
                    let w = (-dist(i, j) / eps).exp();
                    if w < 1e-300 {
                        continue;
                    }
                    row[0] = 1.0;
                    for c in 0..k {
                        row[c + 1] = cols[c][j] - cols[c][i];
                    }
                    for a in 0..p {
                        aty[a] += w * row[a] * y[j];
                        for b in 0..=a {
                            ata[a * p + b] += w * row[a] * row[b];
                        }
                    }
                }
                for a in 0..p {
                    for b in 0..a {
                        ata[b * p + a] = ata[a * p + b];
                    }
                }
                // With centred regressors the prediction at i is the intercept β₀. Solve by a
                // regularised eigen-decomposition: robust when the local design is rank deficient.
                let pred = solve_spd_first(&ata, &aty, p);
                (y[i] - pred).powi(2)
            })
            .collect();
        let rss: f64 = sq.iter().sum();
        out.push((rss / s as f64).sqrt());
    }
    Ok(out)
}

/// β₀ of the solution of (AᵀWA) β = AᵀWy via a pseudo-inverse with a relative cut-off.
fn solve_spd_first(ata: &[f64], aty: &[f64], p: usize) -> f64 {
    let Ok(e) = sym_eig(ata, p) else { return 0.0 };
    let top = e.values.first().copied().unwrap_or(0.0);
    let mut beta0 = 0.0;
    for c in 0..p {
        let lam = e.values[c];
        if lam <= top * 1e-10 || lam <= 0.0 {
            continue;
        }
        let v = e.vector(c);
        let proj: f64 = v.iter().zip(aty).map(|(a, b)| a * b).sum();
        beta0 += v[0] * proj / lam;
    }
    beta0
}

/// Coordinates (1-based column indices into `coords`) to keep: the `d` largest r_k, or all with
/// r_k > `threshold` when `d` is `None`; returned in increasing index order.
pub fn choose(r: &[f64], d: Option<usize>, threshold: f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..r.len()).collect();
    order.sort_by(|&a, &b| r[b].total_cmp(&r[a]).then(a.cmp(&b)));
    let mut keep: Vec<usize> = match d {
        Some(d) => order.into_iter().take(d).collect(),
        None => order.into_iter().filter(|&c| r[c] > threshold).collect(),
    };
    keep.sort_unstable();
    keep.into_iter().map(|c| c + 1).collect()
}

/// r_k above which a coordinate counts as a new direction (halfway between a harmonic, r ≈ 0, and a
/// new direction, r ≈ 1).
pub const NEW_DIRECTION: f64 = 0.5;

/// The coordinates to keep when the intrinsic dimension `d` is known (from the bursts): every
/// coordinate with r_k ≥ [`NEW_DIRECTION`], at least the `d` largest (a domain with boundary needs d)
/// and at most 2d (Whitney: 2d coordinates embed any d-manifold; a closed one needs more than d, a
/// circle its cos/sin pair). Returned as 1-based column indices in increasing order.
pub fn choose_count(r: &[f64], d: usize) -> Vec<usize> {
    let new = r.iter().filter(|&&v| v >= NEW_DIRECTION).count();
    let count = new.clamp(d.max(1), (2 * d).max(1)).min(r.len());
    choose(r, Some(count), 0.0)
}
