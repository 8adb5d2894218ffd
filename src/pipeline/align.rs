//! Step 7: put network A's selected diffusion coordinates into network B's frame. Coordinates are
//! standardised, matched greedily by |corr| on the shared inputs with a sign fix, and blocks of
//! (near-)equal eigenvalues (relative gap of the rates −ln λ below `gap`, e.g. a circle's cos/sin pair or a square's two
//! modes) — where only the span is defined — are aligned by orthogonal Procrustes (reflections allowed).

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::solve::dense::svd;
use crate::stats::{corr, standardise};

/// Cross-correlation between A's coordinate of one matched pair and B's of another at which the two
/// pairs are aligned jointly: well above what sampling leaves between distinct eigenfunctions
/// (≈ 1/√N), well below a real correspondence.
pub const MIXED_CORR: f64 = 0.3;

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
    // Blocks: coordinates whose correspondence is mixed, aligned jointly. Two matched pairs join one
    // block when their eigenvalues are near-equal (relative gap of the diffusion rates μ = −ln λ
    // below `gap`; the gap of λ itself says nothing, every leading λ lies within a few per cent of 1)
    // or when A's coordinate of one pair correlates with B's coordinate of the other by ≥
    // [`MIXED_CORR`]: then only their span is shared (a circle's cos/sin pair, whose two rates finite
    // sampling splits by a few per cent; a square's x/y modes), and Procrustes aligns the span.
    let rate = |l: f64| -(l.clamp(1e-300, 1.0 - 1e-15)).ln();
    let mut parent: Vec<usize> = (0..d).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for p in 0..d {
        for q in p + 1..d {
            let (lp, lq) = (rate(a_vals[a_sel[matched[p].0]]), rate(a_vals[a_sel[matched[q].0]]));
            let near = (lp - lq).abs() <= gap * lp.max(lq);
            let mixed = corr(&sa[matched[p].0], &sb[matched[q].1]).abs() >= MIXED_CORR
                || corr(&sa[matched[q].0], &sb[matched[p].1]).abs() >= MIXED_CORR;
            if near || mixed {
                let (rp, rq) = (root(&mut parent, p), root(&mut parent, q));
                parent[rq] = rp;
            }
        }
    }
    let roots: Vec<usize> = (0..d).map(|p| root(&mut parent, p)).collect();
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for p in 0..d {
        match blocks.iter_mut().find(|b| roots[b[0]] == roots[p]) {
            Some(b) => b.push(p),
            None => blocks.push(vec![p]),
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
