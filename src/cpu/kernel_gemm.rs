//! CPU twin of `shaders/kernel_gemm.wgsl`: the Mahalanobis kernel as matrix products. For a row block I
//! and a column block J, every U_iᵀo_j (i ∈ I, j ∈ J) is one product of the I-rows of the factor column
//! matrices with the J-rows of the observations, so the O(N²·D·r) work runs at matrix-multiply speed
//! (faer's f32 GEMM) and only an O(N²·r) epilogue — differences, squares, exp, storage — is done entry by
//! entry. Same formula as [`super::kernel`]:
//!
//! d²_ij = ½(m_ij + m_ji), m_ij = Σ_s (U_iᵀo_i − U_iᵀo_j)²_s + w_i·max(0, ‖δ‖² − Σ_s (V_iᵀo_i − V_iᵀo_j)²_s),
//!
//! with ‖δ‖² = ‖o_i‖² + ‖o_j‖² − 2⟨o_i, o_j⟩ from the Gram block (only when some w_i > 0).
//!
//! Precision: the products form U_iᵀo_j whole and subtract U_iᵀo_i afterwards, so rounding is relative
//! to the observations' spread rather than to δ; neighbours (the entries that matter, d² ≲ 30ε) lose a
//! few more bits than in the pair-by-pair twin. The tests and `bench embed` bound the effect on the
//! eigenvalues against the float64 reference.
//!
//! The dense builds exploit symmetry: each tile pair (I ≤ J) is computed once and written to both
//! triangles, so the arithmetic equals one product of all factor rows with all observations, as numpy's
//! build does. The matrix-free product recomputes full row blocks per pass (no shared writes).

use half::f16;
use rayon::prelude::*;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::kernel::exp_kernel;
use crate::backend::GeometryF32;

/// Rows and columns of one tile: 3 products of 128×D×128 keep a tile's scratch (≤ 17 tiles of 64 KiB
/// for r = 8 with the normal term) within a core's L2 for small r.
pub const TILE: usize = 128;

/// The operands of the products, prepared once per geometry.
#[derive(Clone, Debug)]
pub struct GemmGeometry {
    n: usize,
    dim: usize,
    rank: usize,
    /// Whether any normal weight is non-zero (then the tangent bases and the Gram block take part).
    normal: bool,
    /// N×D observations (row-major).
    obs: Vec<f32>,
    /// One N×D matrix per factor column s < r (row i = U_i[:, s]), then, with the normal term, one per
    /// tangent column (row i = V_i[:, s]).
    cols: Vec<Vec<f32>>,
    /// ⟨cols[s][i], o_i⟩ per matrix s: the "self" projections U_iᵀo_i, V_iᵀo_i.
    selfs: Vec<Vec<f32>>,
    /// ‖o_i‖² (normal term only).
    norms: Vec<f64>,
    /// The observations in f64 for the Gram block (normal term only; see [`GemmGeometry::tile`]).
    obs64: Vec<f64>,
    weights: Vec<f32>,
}

impl GemmGeometry {
    /// Rearranges `g` into per-column factor matrices.
    pub fn new(g: &GeometryF32) -> Self {
        let (n, dim, r) = (g.n, g.dim, g.rank);
        let normal = g.normal_weights.iter().any(|&w| w != 0.0);
        let split = |src: &[f32], s: usize| -> Vec<f32> {
            let mut m = vec![0.0f32; n * dim];
            m.par_chunks_mut(dim).enumerate().for_each(|(i, row)| {
                let base = i * dim * r;
                for (c, x) in row.iter_mut().enumerate() {
                    *x = src[base + c * r + s];
                }
            });
            m
        };
        let mut cols: Vec<Vec<f32>> = (0..r).map(|s| split(&g.factors, s)).collect();
        if normal {
            cols.extend((0..r).map(|s| split(&g.tangents, s)));
        }
        // The self projections in f64: they are subtracted from f32 products, so their own rounding
        // should not add to the products'.
        let selfs = cols
            .iter()
            .map(|m| {
                (0..n)
                    .into_par_iter()
                    .map(|i| {
                        let (a, o) = (&m[i * dim..(i + 1) * dim], &g.obs[i * dim..(i + 1) * dim]);
                        a.iter().zip(o).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>() as f32
                    })
                    .collect()
            })
            .collect();
        let (norms, obs64) = if normal {
            let norms =
                g.obs.par_chunks(dim).map(|o| o.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>()).collect();
            (norms, g.obs.iter().map(|&x| f64::from(x)).collect())
        } else {
            (Vec::new(), Vec::new())
        };
        GemmGeometry {
            n,
            dim,
            rank: r,
            normal,
            obs: g.obs.clone(),
            cols,
            selfs,
            norms,
            obs64,
            weights: g.normal_weights.clone(),
        }
    }

    /// Whether the normal term takes part (then there are 2r column matrices).
    pub fn normal(&self) -> bool {
        self.normal
    }

    /// The column matrices one after the other ((r or 2r)·N·D values, the layout of
    /// `kernel_gemm.wgsl`'s `cols`) and their self projections ((r or 2r)·N, `selfs`).
    pub fn flat(&self) -> (Vec<f32>, Vec<f32>) {
        (self.cols.concat(), self.selfs.concat())
    }

    fn rows<'a>(&self, m: &'a [f32], r: &std::ops::Range<usize>) -> MatRef<'a, f32> {
        MatRef::from_row_major_slice(&m[r.start * self.dim..r.end * self.dim], r.len(), self.dim)
    }

    /// The tile of d² (or exp(−d²·`inv_eps`)) for rows `ri` and columns `rj` into `out` (row-major,
    /// `ri.len()` rows of stride `ld`).
    ///
    /// The Gram block of the normal term runs in f64: ‖δ‖² = ‖o_i‖² + ‖o_j‖² − 2⟨o_i, o_j⟩ cancels to
    /// the (second-order small) size of a neighbour's distance, and in f32 its rounding, relative to
    /// ‖o‖², moved K by 2·10⁻⁴ next to the diagonal (measured; the projections lose only first order in δ).
    pub fn tile(
        &self,
        ri: std::ops::Range<usize>,
        rj: std::ops::Range<usize>,
        inv_eps: Option<f32>,
        scratch: &mut Scratch,
        out: &mut [f32],
        ld: usize,
    ) {
        let (bi, bj) = (ri.len(), rj.len());
        let size = bi * bj;
        scratch.ensure(size);
        let (acc, z) = (&mut scratch.acc[..size], &mut scratch.z[..size]);
        let oi = self.rows(&self.obs, &ri);
        let oj = self.rows(&self.obs, &rj);
        acc.iter_mut().for_each(|v| *v = 0.0);
        let product = |z: &mut [f32], lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>| {
            let dst = MatMut::from_row_major_slice_mut(z, bi, bj);
            matmul(dst, Accum::Replace, lhs, rhs.transpose(), 1.0f32, Par::Seq);
        };
        // Σ_s (a_is − z_ijs)² + (a_js − z'_ijs)² over the factor columns into `acc`, or into `tan` (the
        // tangent parts, kept per side for the clamp).
        let sweep = |z: &mut [f32], acc: &mut [f32], s: usize, from_i: bool| {
            let sf = &self.selfs[s];
            for (li, (zrow, arow)) in z.chunks(bj).zip(acc.chunks_mut(bj)).enumerate() {
                if from_i {
                    let a = sf[ri.start + li];
                    arow.iter_mut().zip(zrow).for_each(|(acc, &v)| *acc += (a - v) * (a - v));
                } else {
                    let a = &sf[rj.clone()];
                    arow.iter_mut().zip(zrow).zip(a).for_each(|((acc, &v), &a)| *acc += (a - v) * (a - v));
                }
            }
        };
        for s in 0..self.rank {
            let m = &self.cols[s];
            product(z, self.rows(m, &ri), oj);
            sweep(z, acc, s, true);
            product(z, oi, self.rows(m, &rj));
            sweep(z, acc, s, false);
        }
        if self.normal {
            let (ti, tj, gram) = (&mut scratch.ti[..size], &mut scratch.tj[..size], &mut scratch.gram[..size]);
            ti.iter_mut().for_each(|v| *v = 0.0);
            tj.iter_mut().for_each(|v| *v = 0.0);
            for s in self.rank..2 * self.rank {
                let m = &self.cols[s];
                product(z, self.rows(m, &ri), oj);
                sweep(z, ti, s, true);
                product(z, oi, self.rows(m, &rj));
                sweep(z, tj, s, false);
            }
            let rows64 = |r: &std::ops::Range<usize>| {
                MatRef::from_row_major_slice(&self.obs64[r.start * self.dim..r.end * self.dim], r.len(), self.dim)
            };
            let dst = MatMut::from_row_major_slice_mut(&mut gram[..], bi, bj);
            matmul(dst, Accum::Replace, rows64(&ri), rows64(&rj).transpose(), 1.0f64, Par::Seq);
            let (ni, nj) = (&self.norms[ri.clone()], &self.norms[rj.clone()]);
            let (wi, wj) = (&self.weights[ri.clone()], &self.weights[rj.clone()]);
            for li in 0..bi {
                let row = li * bj..(li + 1) * bj;
                for (lj, ((a, &g), (&pi, &pj))) in acc[row.clone()]
                    .iter_mut()
                    .zip(&gram[row.clone()])
                    .zip(ti[row.clone()].iter().zip(&tj[row]))
                    .enumerate()
                {
                    let dd = (ni[li] + nj[lj] - 2.0 * g).max(0.0) as f32;
                    *a += (dd - pi).max(0.0) * wi[li] + (dd - pj).max(0.0) * wj[lj];
                }
            }
        }
        for (li, orow) in out.chunks_mut(ld).take(bi).enumerate() {
            let arow = &acc[li * bj..(li + 1) * bj];
            let orow = &mut orow[..bj];
            match inv_eps {
                Some(ie) => orow.iter_mut().zip(arow).for_each(|(o, &a)| *o = exp_kernel(-0.5 * a * ie)),
                None => orow.iter_mut().zip(arow).for_each(|(o, &a)| *o = 0.5 * a),
            }
        }
        // The diagonal is exactly d² = 0 (K = 1), as in the pair-by-pair twin; the products only
        // reproduce it to rounding.
        for li in 0..bi {
            let gi = ri.start + li;
            if rj.contains(&gi) {
                out[li * ld + (gi - rj.start)] = if inv_eps.is_some() { 1.0 } else { 0.0 };
            }
        }
    }
}

/// Per-thread buffers of one tile.
#[derive(Default)]
pub struct Scratch {
    acc: Vec<f32>,
    z: Vec<f32>,
    ti: Vec<f32>,
    tj: Vec<f32>,
    gram: Vec<f64>,
    tile: Vec<f32>,
}

impl Scratch {
    fn ensure(&mut self, size: usize) {
        for v in [&mut self.acc, &mut self.z, &mut self.ti, &mut self.tj, &mut self.tile] {
            if v.len() < size {
                v.resize(size, 0.0);
            }
        }
        if self.gram.len() < size {
            self.gram.resize(size, 0.0);
        }
    }
}

/// The tile pairs (I ≤ J) of an N×N symmetric matrix, as (row start, column start).
fn upper_tiles(n: usize) -> Vec<(usize, usize)> {
    let starts: Vec<usize> = (0..n).step_by(TILE).collect();
    let mut v = Vec::with_capacity(starts.len() * (starts.len() + 1) / 2);
    for (a, &i) in starts.iter().enumerate() {
        for &j in &starts[a..] {
            v.push((i, j));
        }
    }
    v
}

/// A raw pointer to the output matrix shared by the tile tasks.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);
// SAFETY: the tasks write disjoint entries (see `fill_symmetric`), and the pointer outlives them.
unsafe impl<T: Send> Send for Shared<T> {}
unsafe impl<T: Send> Sync for Shared<T> {}

/// Fills the symmetric N×N row-major `out` tile pair by tile pair, converting each f32 value with `conv`.
fn fill_symmetric<T: Copy + Send>(
    g: &GemmGeometry,
    inv_eps: Option<f32>,
    out: &mut [T],
    conv: impl Fn(f32) -> T + Sync,
) {
    let n = g.n;
    assert_eq!(out.len(), n * n, "kernel_gemm: output is not N×N");
    let ptr = Shared(out.as_mut_ptr());
    upper_tiles(n).into_par_iter().for_each_init(Scratch::default, |scratch, (i0, j0)| {
        // Moves the whole `Shared` (Send) into the closure, not just its raw-pointer field.
        #[expect(
            clippy::redundant_locals,
            reason = "moves the whole Send wrapper into the closure, not its raw-pointer field"
        )]
        let ptr = ptr;
        let (ri, rj) = (i0..(i0 + TILE).min(n), j0..(j0 + TILE).min(n));
        let (bi, bj) = (ri.len(), rj.len());
        scratch.ensure(bi * bj);
        let mut tile = std::mem::take(&mut scratch.tile);
        g.tile(ri, rj, inv_eps, scratch, &mut tile, bj);
        // SAFETY: tile pair (I, J) with I ≤ J is the only task writing the entries (I, J) and (J, I)
        // (a diagonal tile writes each of its entries once: (i, j) and (j, i) for i ≤ j);
        // the pairs partition the upper triangle (diagonal tiles included), so no two tasks write the
        // same entry, and nothing reads `out` until the parallel loop has joined.
        unsafe {
            // A diagonal tile holds both (i, j) and (j, i); its upper half is mirrored so that the
            // matrix is symmetric to the bit, like the off-diagonal tiles. Both loops write along
            // rows of `out` (the mirror reads the small tile across instead): a column-wise write
            // costs a cache line per entry.
            for li in 0..bi {
                let from = if i0 == j0 { li } else { 0 };
                let row = ptr.0.add((i0 + li) * n + j0);
                for lj in from..bj {
                    *row.add(lj) = conv(tile[li * bj + lj]);
                }
            }
            for lj in 0..bj {
                let upto = if i0 == j0 { lj } else { bi };
                let row = ptr.0.add((j0 + lj) * n + i0);
                for li in 0..upto {
                    *row.add(li) = conv(tile[li * bj + lj]);
                }
            }
        }
        scratch.tile = tile;
    });
}

/// Fills `out` (N×N, row-major) with exp(−d²/ε) (or d² when `eps` is `None`).
pub fn kernel_gemm(g: &GemmGeometry, eps: Option<f64>, out: &mut [f32]) {
    fill_symmetric(g, eps.map(|e| (1.0 / e) as f32), out, |v| v);
}

/// [`kernel_gemm`] stored as f16 (each value computed in f32 and rounded to nearest).
pub fn kernel_gemm_f16(g: &GemmGeometry, eps: f64, out: &mut [f16]) {
    fill_symmetric(g, Some((1.0 / eps) as f32), out, f16::from_f32);
}

/// Matrix-free Y = K X with K = exp(−d²/ε) recomputed tile by tile; `x` and `y` column-major N×b.
pub fn kernel_gemm_matmat(g: &GemmGeometry, eps: f64, x: &[f32], b: usize, y: &mut [f32]) {
    let n = g.n;
    assert!(b > 0 && x.len() == n * b && y.len() == n * b, "kernel_gemm_matmat: shapes do not match");
    let inv_eps = Some((1.0 / eps) as f32);
    let starts: Vec<usize> = (0..n).step_by(TILE).collect();
    let blocks: Vec<Vec<f32>> = starts
        .par_iter()
        .map_init(Scratch::default, |scratch, &i0| {
            let ri = i0..(i0 + TILE).min(n);
            let bi = ri.len();
            // This row block of Y, column-major bi×b, accumulated over the column tiles.
            let mut yb = vec![0.0f32; bi * b];
            for &j0 in &starts {
                let rj = j0..(j0 + TILE).min(n);
                let bj = rj.len();
                scratch.ensure(bi * bj);
                let mut tile = std::mem::take(&mut scratch.tile);
                g.tile(ri.clone(), rj.clone(), inv_eps, scratch, &mut tile, bj);
                let k = MatRef::from_row_major_slice(&tile[..bi * bj], bi, bj);
                let xj = MatRef::from_column_major_slice_with_stride(&x[j0..], bj, b, n);
                let dst = MatMut::from_column_major_slice_mut(&mut yb, bi, b);
                matmul(dst, Accum::Add, k, xj, 1.0f32, Par::Seq);
                scratch.tile = tile;
            }
            yb
        })
        .collect();
    for (&i0, yb) in starts.iter().zip(&blocks) {
        let bi = yb.len() / b;
        for c in 0..b {
            y[c * n + i0..c * n + i0 + bi].copy_from_slice(&yb[c * bi..(c + 1) * bi]);
        }
    }
}
