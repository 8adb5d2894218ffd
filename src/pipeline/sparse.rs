//! Past memory: the k-nearest-neighbour sparse kernel for N whose dense N×N matrix does not fit. Each
//! point keeps its k Mahalanobis-nearest neighbours (itself included); the kernel is symmetrised by
//! union (K_ij is kept when j is among i's neighbours or i among j's — d² is symmetric, so the value
//! is the same), α-normalised like the dense path, and stored as CSR. The block eigensolver then runs
//! on [`Csr::matmat`], O(nnz·b) per pass instead of O(N²·b).
//!
//! Neighbour search: a kd-tree ([`kiddo`]) over the observations gives `candidates` Euclidean-nearest
//! points per query, which are re-ranked by the exact Mahalanobis d² of [`crate::pipeline::kernel::distance2`].
//! For D > 8 the tree is built on the top 8 principal components (the re-ranking stays exact). The
//! search is exact when the Mahalanobis k nearest lie among the Euclidean `candidates` nearest, which
//! holds when the metric is not too anisotropic; the summary reports the largest kernel value dropped
//! at the k-th neighbour so a user can see whether k covers the kernel's support.

use std::num::NonZero;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use rayon::prelude::*;

pub use crate::backend::Csr;
use crate::error::{Error, Result};
use crate::pipeline::covariance::LocalGeometry;
use crate::pipeline::kernel::{Normalisation, check_alpha, distance2};

/// Parameters of the sparse kernel.
#[derive(Clone, Debug)]
pub struct SparseParams {
    /// Neighbours per point (itself included).
    pub k: usize,
    /// Euclidean candidates per point that are re-ranked by the Mahalanobis distance (≥ k).
    pub candidates: usize,
}

impl SparseParams {
    /// k neighbours from 3k candidates.
    pub fn with_k(k: usize) -> Self {
        SparseParams { k, candidates: 3 * k }
    }
}

impl Default for SparseParams {
    fn default() -> Self {
        SparseParams::with_k(32)
    }
}

/// What the sparse build measured.
#[derive(Clone, Debug)]
pub struct SparseStats {
    /// Stored entries after symmetrisation.
    pub nnz: usize,
    /// Largest exp(−d²/ε) at any point's k-th neighbour: an upper bound on the kernel values a point's
    /// own neighbour list dropped.
    pub max_dropped: f64,
    /// Neighbours per point.
    pub k: usize,
    /// The ε used (given, or from the k-NN rule).
    pub eps: f64,
}

impl Csr {
    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        (4 * (self.indptr.len() + self.indices.len() + self.values.len())) as u64
    }

    /// Y = A X for a column-major N×b block X (Y column-major N×b); see
    /// [`crate::cpu::csr_matmat::csr_matmat`].
    pub fn matmat(&self, x: &[f32], b: usize) -> Result<Vec<f32>> {
        let n = self.n;
        if b == 0 || x.len() != n * b {
            return Err(Error::Shape(format!("csr matmat: block of {} values for N = {n}, b = {b}", x.len())));
        }
        let mut y = vec![0.0f32; n * b];
        crate::cpu::csr_matmat::csr_matmat(self, x, b, &mut y);
        Ok(y)
    }

    fn row_sums(&self, w: Option<&[f64]>) -> Vec<f64> {
        (0..self.n)
            .into_par_iter()
            .map(|i| {
                let (lo, hi) = (self.indptr[i] as usize, self.indptr[i + 1] as usize);
                (lo..hi).map(|p| f64::from(self.values[p]) * w.map_or(1.0, |w| w[self.indices[p] as usize])).sum()
            })
            .collect()
    }
}

/// Search coordinates: the observations, zero-padded to K, or their top-K principal components.
fn search_points<const K: usize>(g: &LocalGeometry) -> Result<Vec<[f64; K]>> {
    let (n, d) = (g.n, g.dim);
    if d <= K {
        return Ok((0..n)
            .map(|i| {
                let mut p = [0.0; K];
                p[..d].copy_from_slice(g.point(i));
                p
            })
            .collect());
    }
    let mean: Vec<f64> = (0..d).map(|c| (0..n).map(|i| g.point(i)[c]).sum::<f64>() / n as f64).collect();
    let mut cov = vec![0.0f64; d * d];
    for i in 0..n {
        let o = g.point(i);
        for a in 0..d {
            for b in 0..=a {
                cov[a * d + b] += (o[a] - mean[a]) * (o[b] - mean[b]);
            }
        }
    }
    for a in 0..d {
        for b in 0..a {
            cov[b * d + a] = cov[a * d + b];
        }
    }
    let e = crate::solve::dense::sym_eig(&cov, d)?;
    Ok((0..n)
        .map(|i| {
            let o = g.point(i);
            let mut p = [0.0; K];
            for (c, pc) in p.iter_mut().enumerate() {
                *pc = e.vector(c).iter().zip(o).zip(&mean).map(|((v, x), m)| v * (x - m)).sum();
            }
            p
        })
        .collect())
}

/// Each point's k nearest by Mahalanobis d² among its Euclidean candidates: (index, d²) ascending.
fn neighbours<const K: usize>(g: &LocalGeometry, k: usize, cand: usize) -> Result<Vec<Vec<(u32, f64)>>> {
    let pts = search_points::<K>(g)?;
    let tree = ImmutableKdTree::new_from_slice(&pts)
        .map_err(|e| Error::Degenerate(format!("kd-tree over {} points: {e:?}", pts.len())))?;
    let cand = NonZero::new(cand.min(g.n)).ok_or_else(|| Error::param("candidates", "must be positive"))?;
    Ok(pts
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let found = tree.query(p).nearest_n::<SquaredEuclidean<f64>>(cand).execute();
            let mut scored: Vec<(u32, f64)> = found
                .iter()
                .map(|r| {
                    let j = r.item as usize;
                    (j as u32, if j == i { 0.0 } else { distance2(g, i, j) })
                })
                .collect();
            scored.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            scored.truncate(k);
            scored
        })
        .collect())
}

/// Kernel value at the median point's k-th neighbour under the k-NN ε rule (see [`knn_kernel`]).
pub const KNN_TAIL: f64 = 1e-3;

/// The symmetrised k-NN kernel exp(−d²/ε) as CSR (see the module doc). With `eps = None` ε comes from
/// the neighbour scale: ε = median_i d²(i, k-th neighbour) / ln(1/[`KNN_TAIL`]), so that the kernel has
/// decayed to 1e-3 at the median point's k-th neighbour. (The dense path's auto ε is measured on a
/// subsample of 1500 points and suits that density; at large N its support holds thousands of
/// neighbours, which no sparse kernel can keep.)
pub fn knn_kernel(g: &LocalGeometry, eps: Option<f64>, p: &SparseParams) -> Result<(Csr, SparseStats)> {
    let n = g.n;
    if p.k < 2 || p.candidates < p.k {
        return Err(Error::param("k", format!("need k ≥ 2 and candidates ≥ k, got k = {}, {}", p.k, p.candidates)));
    }
    if let Some(eps) = eps.filter(|e| !(*e > 0.0 && e.is_finite())) {
        return Err(Error::param("eps", format!("must be positive and finite, got {eps}")));
    }
    if n > u32::MAX as usize / 2 || n.saturating_mul(2 * p.k) > u32::MAX as usize {
        return Err(Error::TooLarge { n, needed: (n * 2 * p.k) as u64, limit: u32::MAX as u64, what: "CSR entries" });
    }
    let k = p.k.min(n);
    let nb = match g.dim {
        0..=2 => neighbours::<2>(g, k, p.candidates)?,
        3 => neighbours::<3>(g, k, p.candidates)?,
        4 => neighbours::<4>(g, k, p.candidates)?,
        _ => neighbours::<8>(g, k, p.candidates)?,
    };
    let eps = match eps {
        Some(e) => e,
        None => {
            let mut kth: Vec<f64> = nb.iter().filter_map(|l| l.last().map(|e| e.1)).collect();
            kth.sort_by(f64::total_cmp);
            let med = kth[kth.len() / 2];
            if !(med > 0.0 && med.is_finite()) {
                return Err(Error::Degenerate(format!("median k-th neighbour distance is {med} (duplicate points?)")));
            }
            med / (1.0 / KNN_TAIL).ln()
        }
    };
    let max_dropped = nb.iter().map(|l| l.last().map_or(0.0, |&(_, d)| (-d / eps).exp())).fold(0.0f64, f64::max);
    // Union symmetrisation: every (i, j) and (j, i); duplicates merged after sorting each row.
    let mut counts = vec![0u32; n + 1];
    for (i, l) in nb.iter().enumerate() {
        counts[i] += l.len() as u32;
        for &(j, _) in l {
            counts[j as usize] += 1;
        }
    }
    let mut start = vec![0usize; n + 1];
    for i in 0..n {
        start[i + 1] = start[i] + counts[i] as usize;
    }
    let mut fill = start.clone();
    let mut cols = vec![0u32; start[n]];
    let mut vals = vec![0.0f64; start[n]];
    for (i, l) in nb.iter().enumerate() {
        for &(j, d) in l {
            let w = (-d / eps).exp();
            cols[fill[i]] = j;
            vals[fill[i]] = w;
            fill[i] += 1;
            let jj = j as usize;
            cols[fill[jj]] = i as u32;
            vals[fill[jj]] = w;
            fill[jj] += 1;
        }
    }
    drop(nb);
    let rows: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut r: Vec<(u32, f64)> = (start[i]..start[i + 1]).map(|q| (cols[q], vals[q])).collect();
            r.sort_by_key(|e| e.0);
            r.dedup_by_key(|e| e.0);
            r.into_iter().map(|(j, v)| (j, v as f32)).collect()
        })
        .collect();
    let mut csr = Csr { n, indptr: Vec::with_capacity(n + 1), ..Default::default() };
    csr.indptr.push(0);
    for r in &rows {
        csr.indices.extend(r.iter().map(|e| e.0));
        csr.values.extend(r.iter().map(|e| e.1));
        csr.indptr.push(csr.indices.len() as u32);
    }
    let stats = SparseStats { nnz: csr.nnz(), max_dropped, k, eps };
    Ok((csr, stats))
}

/// α-normalises the CSR kernel in place into S = D^{-1/2} K^α D^{-1/2} (the dense
/// [`crate::pipeline::kernel::normalise`] on sparse storage) and returns the same scalings.
pub fn normalise_csr(csr: &mut Csr, alpha: f64) -> Result<Normalisation> {
    check_alpha(alpha)?;
    let q = csr.row_sums(None);
    if let Some(i) = q.iter().position(|&v| !(v > 0.0 && v.is_finite())) {
        return Err(Error::Degenerate(format!("kernel row {i} sums to {} — ε too small or bad geometry", q[i])));
    }
    let qa: Vec<f64> = q.iter().map(|&v| v.powf(-alpha)).collect();
    let t = csr.row_sums(Some(&qa));
    let mut w = Vec::with_capacity(csr.n);
    let mut inv_sqrt_degree = Vec::with_capacity(csr.n);
    for i in 0..csr.n {
        let deg = qa[i] * t[i];
        if !(deg > 0.0 && deg.is_finite()) {
            return Err(Error::Degenerate(format!("degree of point {i} is {deg} after α-normalisation")));
        }
        let isd = 1.0 / deg.sqrt();
        inv_sqrt_degree.push(isd);
        w.push(qa[i] * isd);
    }
    for i in 0..csr.n {
        let (lo, hi) = (csr.indptr[i] as usize, csr.indptr[i + 1] as usize);
        for p in lo..hi {
            let j = csr.indices[p] as usize;
            csr.values[p] = (w[i] * f64::from(csr.values[p]) * w[j]) as f32;
        }
    }
    Ok(Normalisation { inv_sqrt_degree, density: q })
}
