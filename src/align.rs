//! Step 7: put network A's selected diffusion coordinates into network B's frame. Coordinates are
//! standardised, matched greedily by |corr| on the shared inputs with a sign fix, and blocks of
//! (near-)equal eigenvalues (relative gap of the rates −ln λ below `gap`, e.g. a circle's cos/sin pair or a square's two
//! modes) — where only the span is defined — are aligned by orthogonal Procrustes (reflections allowed).

use ndarray::Array2;

use crate::dense::svd;
use crate::error::{Error, Result};
use crate::stats::{corr, standardise};

/// The result of aligning A's coordinates to B's.
#[derive(Clone, Debug)]
pub struct Alignment {
    /// (A column, B column) per matched pair (1-based diffusion indices).
    pub pairs: Vec<(usize, usize)>,
    /// |corr| of each aligned A coordinate with its B partner.
    pub corr: Vec<f64>,
    /// A's coordinates in B's frame, standardised, N×d.
    pub a_aligned: Array2<f64>,
    /// B's matched coordinates, standardised, N×d.
    pub b_matched: Array2<f64>,
    /// Groups of pair positions aligned jointly by Procrustes (size ≥ 2 only).
    pub blocks: Vec<Vec<usize>>,
}

/// Aligns A's selected coordinates (`a_sel`, indices into `a`) to B's (`b_sel`).
pub fn align(
    a: &Array2<f64>,
    a_vals: &[f64],
    a_sel: &[usize],
    b: &Array2<f64>,
    b_sel: &[usize],
    gap: f64,
) -> Result<Alignment> {
    let n = a.nrows();
    if b.nrows() != n {
        return Err(Error::Shape(format!("A has {n} points, B has {}", b.nrows())));
    }
    let sa: Vec<Vec<f64>> = a_sel.iter().map(|&c| standardise(&a.column(c).to_vec())).collect();
    let sb: Vec<Vec<f64>> = b_sel.iter().map(|&c| standardise(&b.column(c).to_vec())).collect();
    // Greedy matching on |corr|.
    let mut cands: Vec<(f64, usize, usize)> = Vec::new();
    for (i, x) in sa.iter().enumerate() {
        for (j, y) in sb.iter().enumerate() {
            cands.push((corr(x, y).abs(), i, j));
        }
    }
    cands.sort_by(|p, q| q.0.total_cmp(&p.0));
    let mut used_a = vec![false; sa.len()];
    let mut used_b = vec![false; sb.len()];
    let mut matched: Vec<(usize, usize)> = Vec::new();
    for (_, i, j) in cands {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            matched.push((i, j));
        }
    }
    matched.sort_unstable();
    let d = matched.len();
    // Blocks of near-equal eigenvalues among A's matched coordinates, chained by the relative gap of
    // the diffusion rates μ = −ln λ (the Laplacian's eigenvalues). The gap of λ itself says nothing:
    // every leading λ lies within a few per cent of 1.
    let rate = |l: f64| -(l.clamp(1e-300, 1.0 - 1e-15)).ln();
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for p in 0..d {
        let lam = rate(a_vals[a_sel[matched[p].0]]);
        let joins = blocks.last().and_then(|blk| blk.last()).is_some_and(|&q| {
            let mu = rate(a_vals[a_sel[matched[q].0]]);
            (lam - mu).abs() <= gap * mu.max(lam)
        });
        if joins {
            blocks.last_mut().expect("checked").push(p);
        } else {
            blocks.push(vec![p]);
        }
    }
    let mut a_aligned = Array2::zeros((n, d));
    let mut b_matched = Array2::zeros((n, d));
    for (p, &(_, j)) in matched.iter().enumerate() {
        for i in 0..n {
            b_matched[[i, p]] = sb[j][i];
        }
    }
    for blk in &blocks {
        if blk.len() == 1 {
            let p = blk[0];
            let x = &sa[matched[p].0];
            let sign = if corr(x, &sb[matched[p].1]) < 0.0 { -1.0 } else { 1.0 };
            for i in 0..n {
                a_aligned[[i, p]] = sign * x[i];
            }
            continue;
        }
        // Orthogonal Procrustes: Q = U Vᵀ from the SVD of A_blkᵀ B_blk.
        let bsz = blk.len();
        let mut m = vec![0.0; bsz * bsz];
        for (r, &p) in blk.iter().enumerate() {
            for (c, &q) in blk.iter().enumerate() {
                m[r * bsz + c] = sa[matched[p].0].iter().zip(&sb[matched[q].1]).map(|(x, y)| x * y).sum();
            }
        }
        let s = svd(&m, bsz, bsz)?;
        let mut qm = vec![0.0; bsz * bsz];
        for r in 0..bsz {
            for c in 0..bsz {
                qm[r * bsz + c] = (0..s.r).map(|t| s.u[r * s.r + t] * s.v[c * s.r + t]).sum();
            }
        }
        for (c, &pc) in blk.iter().enumerate() {
            for i in 0..n {
                a_aligned[[i, pc]] =
                    blk.iter().enumerate().map(|(r, &pr)| sa[matched[pr].0][i] * qm[r * bsz + c]).sum();
            }
        }
    }
    let corr_out = (0..d).map(|p| corr(&a_aligned.column(p).to_vec(), &b_matched.column(p).to_vec()).abs()).collect();
    Ok(Alignment {
        pairs: matched.iter().map(|&(i, j)| (a_sel[i], b_sel[j])).collect(),
        corr: corr_out,
        a_aligned,
        b_matched,
        blocks: blocks.into_iter().filter(|b| b.len() > 1).collect(),
    })
}
