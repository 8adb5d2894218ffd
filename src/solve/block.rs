//! Step 5, block form: the top eigenpairs of S by thick-restart block Lanczos with full
//! re-orthogonalisation (block CGS2). Each step multiplies a block of b vectors at once, so S is read
//! once per b vectors instead of once per vector — on a bandwidth-bound dense solve that is the lever
//! (see [`crate::cpu::matmat`]). The plain single-vector [`crate::solve::lanczos`] stays as the reference.
//!
//! The operator is a closure `Y = S X` on column-major f32 blocks (the device's one pass over its
//! matrix); the basis lives on the host in f64: at b ≥ 8 its O(N·m·b) upkeep per step is small beside
//! the O(N²·b) product, and f64 keeps the basis orthonormal without the second-pass subtleties of f32.
//!
//! One cycle, with V the orthonormal basis (m + b columns) and T = VᵀSV assembled from the
//! coefficients: for each block V_j, W = S V_j; H = V_{≤j}ᵀW twice (CGS2) gives T's block column; the
//! remainder W = Q R (Gram–Schmidt within the block, twice) gives the next block Q and the sub-diagonal
//! block R. The Ritz pairs (θ, Vy) of T have residual ‖R_last y_last‖ (y's last block); a pair is
//! converged when that is ≤ tol·|θ_max|. Thick restart keeps the `keep` best Ritz vectors and the last
//! Q, and T restarts as diag(θ) (the couplings to Q are recomputed by the next projection).
//!
//! Repeated eigenvalues: a block Krylov space holds up to b vectors per eigenvalue, so multiplicities up
//! to b (a circle's cos/sin pairs) come out without the injection the single-vector solver needs.
//! Rank loss in a block (an invariant subspace, or multiplicity above b) is repaired by replacing the
//! lost direction with a fresh random one orthogonal to the basis.

use faer::reborrow::IntoConst;
use faer::{Accum, Mat, Par};

use crate::backend::Device;
use crate::error::{Error, Result};
use crate::observe::Observe;
use crate::rng::Rng;
use crate::solve::dense::sym_eig;
use crate::solve::lanczos::{Eigenpairs, LanczosInfo, LanczosParams};

/// Parameters of the block solve.
#[derive(Clone, Debug)]
pub struct BlockParams {
    /// Number of eigenpairs wanted (the trivial one included).
    pub nev: usize,
    /// Relative residual tolerance.
    pub tol: f64,
    /// Block size b; `None` picks [`default_block`].
    pub block: Option<usize>,
    /// Basis size m (rounded so that restarts add whole blocks); `None` picks 6b.
    pub basis: Option<usize>,
    /// Stop after this many matrix passes (each multiplies b vectors); `None` uses 60.
    pub max_passes: Option<usize>,
    /// Seed of the start block.
    pub seed: u64,
    /// Where each restart cycle is reported (none by default).
    pub observe: Observe,
}

impl Default for BlockParams {
    fn default() -> Self {
        BlockParams {
            nev: 11,
            tol: 1e-5,
            block: None,
            basis: None,
            max_passes: None,
            seed: 0,
            observe: Observe::default(),
        }
    }
}

impl BlockParams {
    /// The block solver for a single-vector parameter set: same nev, tol, seed and verbosity; the
    /// matvec budget becomes passes of [`default_block`] vectors (the basis size stays the block
    /// solver's own).
    pub fn from_lanczos(p: &LanczosParams) -> Self {
        let b = default_block(p.nev);
        BlockParams {
            nev: p.nev,
            tol: p.tol,
            block: Some(b),
            basis: None,
            max_passes: p.max_matvecs.map(|v| v.div_ceil(b)),
            seed: p.seed,
            observe: p.observe.clone(),
        }
    }
}

/// The default block size for `nev` pairs: the next multiple of 8 at or above nev + 4, at most 16.
/// Multiples of 8 fill the CPU twin's SIMD lanes and 16 is the GPU kernel's width; on the 2-core test
/// box one pass with b = 16 costs about 1.5 matvecs, and wider blocks stop paying for themselves
/// (BENCHMARKS.md). At N = 20 000, nev = 11, b = 16 with m = 6b took 12 passes against 18 for b = 8.
pub fn default_block(nev: usize) -> usize {
    (nev + 4).div_ceil(8).clamp(1, 2) * 8
}

/// The basis layout: block b, basis m, kept Ritz vectors after a restart (m − keep is a multiple of b).
/// For small N the block shrinks until the basis fits (m ≤ N − b and m ≥ nev + b), so every
/// N ≥ nev + 2 = k + 3 can be solved: the block width is a speed setting, not a condition on the data.
fn layout(n: usize, p: &BlockParams) -> Result<(usize, usize, usize)> {
    let nev = p.nev;
    let wanted = p.block.unwrap_or_else(|| default_block(nev)).max(1);
    for b in (1..=wanted.min(n / 2)).rev() {
        // At least two blocks beyond the kept ones, and room for nev plus a block.
        let m_min = (nev.div_ceil(b) + 2) * b;
        let m = p.basis.unwrap_or(6 * b).max(m_min).div_ceil(b) * b;
        let m = m.min((n - b) / b * b);
        if m < nev + b {
            continue;
        }
        // Keep the wanted pairs plus about half of the rest, rounded down to leave whole blocks.
        let keep_target = nev + (m - nev) / 2;
        let keep = m - (m - keep_target).div_ceil(b).max(1) * b;
        return Ok((b, m, keep.max(nev.min(m - b))));
    }
    Err(Error::Shape(format!("need N ≥ k+3 = {} points for k+1 = {nev} eigenpairs, got N = {n}", nev + 2)))
}

/// Block CGS2 of W against V[:, ..cols], then Gram–Schmidt (twice) within W. Returns (H, R): the
/// projection coefficients (cols × b) and the triangular factor (b × b) with W = V H + Q R; W becomes Q.
///
/// Cancellation: where a column lost most of its norm to the projections, its remainder is of the size
/// of the projections' rounding and, normalised, is no longer orthogonal to V; it is therefore
/// projected out once more after normalising. A direction that vanishes (at or below rounding, or
/// gone after that second projection) is replaced by a random one orthogonal to everything, with a
/// zero on R's diagonal.
fn orthonormalise(v: &Mat<f64>, cols: usize, w: &mut Mat<f64>, rng: &mut Rng) -> (Mat<f64>, Mat<f64>) {
    let b = w.ncols();
    let vv = v.as_ref().subcols(0, cols);
    let norm_in: Vec<f64> = (0..b).map(|c| w.col(c).norm_l2()).collect();
    let mut h = Mat::<f64>::zeros(cols, b);
    for _ in 0..2 {
        let hp = vv.transpose() * w.as_ref();
        faer::linalg::matmul::matmul(w.as_mut(), Accum::Add, vv, hp.as_ref(), -1.0, Par::rayon(0));
        h += &hp;
    }
    // Projects column c of `w` off the block's columns before c (and off V with `with_v`), twice
    // (CGS2); returns the coefficients on the block's columns.
    let project = |w: &mut Mat<f64>, c: usize, with_v: bool| -> Mat<f64> {
        let (done, rest) = w.as_mut().split_at_col_mut(c);
        let done = done.into_const();
        let mut wc = rest.col_mut(0).as_mat_mut();
        let mut coef = Mat::<f64>::zeros(c, 1);
        for _ in 0..2 {
            if with_v {
                let cv = vv.transpose() * wc.as_ref();
                wc -= vv * &cv;
            }
            let cd = done.transpose() * wc.as_ref();
            wc -= done * &cd;
            coef += &cd;
        }
        coef
    };
    let mut r = Mat::<f64>::zeros(b, b);
    for c in 0..b {
        let coef = project(w, c, false);
        for d in 0..c {
            r[(d, c)] = coef[(d, 0)];
        }
        let norm = w.col(c).norm_l2();
        let mut alive = norm > 1e-10 * norm_in[c] && norm > 1e-300;
        if alive {
            r[(c, c)] = norm;
            w.col_mut(c).iter_mut().for_each(|x| *x /= norm);
            if norm < 1e-2 * norm_in[c] {
                project(w, c, true);
                let again = w.col(c).norm_l2();
                alive = again > 0.5;
                if alive {
                    w.col_mut(c).iter_mut().for_each(|x| *x /= again);
                }
            }
        }
        if !alive {
            // A fresh direction; R's column keeps the couplings, its diagonal is zero (what was lost
            // is below rounding).
            r[(c, c)] = 0.0;
            w.col_mut(c).iter_mut().for_each(|x| *x = rng.normal());
            project(w, c, true);
            let fnorm = w.col(c).norm_l2();
            w.col_mut(c).iter_mut().for_each(|x| *x /= fnorm);
        }
    }
    (h, r)
}

/// Which eigensolver step 5 uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Solver {
    /// [`block_lanczos`] on the device's block product (the default: fewest passes over S).
    #[default]
    Block,
    /// The single-vector [`crate::solve::lanczos::lanczos`] (the reference; basis kept on the device).
    Lanczos,
}

impl std::str::FromStr for Solver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "block" => Ok(Solver::Block),
            "lanczos" => Ok(Solver::Lanczos),
            _ => Err(Error::param("solver", format!("expected block or lanczos, got `{s}`"))),
        }
    }
}

/// Step 5 on `dev` with either solver; `p.max_matvecs` bounds the vectors multiplied for both (the block
/// solver converts it to passes), `p.basis` applies to the single-vector solver only.
pub fn eigensolve(dev: &mut dyn Device, solver: Solver, p: &LanczosParams) -> Result<Eigenpairs> {
    match solver {
        Solver::Lanczos => crate::solve::lanczos::lanczos(dev, p),
        Solver::Block => {
            let n = dev.n();
            block_lanczos(n, &mut |x, b| dev.matmat(x, b), &BlockParams::from_lanczos(p))
        }
    }
}

/// Solves for the top `p.nev` eigenpairs of the symmetric N×N operator `apply` (Y = S X on a
/// column-major N×b f32 block, one pass over S).
pub fn block_lanczos(
    n: usize,
    apply: &mut dyn FnMut(&[f32], usize) -> Result<Vec<f32>>,
    p: &BlockParams,
) -> Result<Eigenpairs> {
    let nev = p.nev;
    if nev == 0 || nev + 1 > n {
        return Err(Error::Shape(format!("need N ≥ k+2 for k+1 = {nev} eigenpairs, got N = {n}")));
    }
    if !(p.tol > 0.0 && p.tol < 1.0) {
        return Err(Error::param("tol", format!("must lie in (0, 1), got {}", p.tol)));
    }
    let (b, m, keep) = layout(n, p)?;
    let max_passes = p.max_passes.unwrap_or(60).max(1);
    let mut rng = Rng::new(p.seed ^ 0xb10c_4a2c);
    let mut v = Mat::<f64>::zeros(n, m + b);
    // Start block: random, orthonormalised.
    let mut w = Mat::<f64>::from_fn(n, b, |_, _| rng.normal());
    orthonormalise(&v, 0, &mut w, &mut rng);
    v.as_mut().subcols_mut(0, b).copy_from(&w);

    let mut info = LanczosInfo { basis: m, block: b, solver: "block-lanczos", ..Default::default() };
    let mut t = Mat::<f64>::zeros(m, m);
    let mut from = 0usize;
    let mut xbuf = vec![0.0f32; n * b];
    loop {
        // Expand from `from` to m, one block (one pass over S) at a time.
        let mut r_last = Mat::<f64>::zeros(b, b);
        let mut j = from;
        while j < m {
            for c in 0..b {
                for i in 0..n {
                    xbuf[c * n + i] = v[(i, j + c)] as f32;
                }
            }
            let y = apply(&xbuf, b)?;
            if y.len() != n * b {
                return Err(Error::Shape(format!("block product returned {} values for {n}×{b}", y.len())));
            }
            if y.iter().any(|x| !x.is_finite()) {
                return Err(Error::Eigen("non-finite block product (matrix holds NaN/Inf?)".into()));
            }
            info.passes += 1;
            info.matvecs += b;
            let mut w = Mat::<f64>::from_fn(n, b, |i, c| f64::from(y[c * n + i]));
            let (h, r) = orthonormalise(&v, j + b, &mut w, &mut rng);
            // T's block column: the projections on the earlier columns, mirrored.
            for c in 0..b {
                for row in 0..j {
                    t[(row, j + c)] = h[(row, c)];
                    t[(j + c, row)] = h[(row, c)];
                }
                t[(j + c, j + c)] = h[(j + c, c)];
            }
            // The diagonal block: average with its transpose (f32 products make it slightly asymmetric).
            for c in 0..b {
                for d in 0..c {
                    let s = 0.5 * (h[(j + d, c)] + h[(j + c, d)]);
                    t[(j + d, j + c)] = s;
                    t[(j + c, j + d)] = s;
                }
            }
            v.as_mut().subcols_mut(j + b, b).copy_from(&w);
            if j + b < m {
                for c in 0..b {
                    for d in 0..=c {
                        t[(j + b + d, j + c)] = r[(d, c)];
                        t[(j + c, j + b + d)] = r[(d, c)];
                    }
                }
            } else {
                r_last = r;
            }
            j += b;
        }
        if t.as_ref().col_iter().any(|c| c.iter().any(|x| !x.is_finite())) {
            return Err(Error::Eigen("non-finite block Lanczos coefficients".into()));
        }
        let dense: Vec<f64> = (0..m * m).map(|k| t[(k / m, k % m)]).collect();
        let e = sym_eig(&dense, m)?;
        let scale = e.values.iter().fold(0.0f64, |a, x| a.max(x.abs())).max(f64::MIN_POSITIVE);
        info.residuals = (0..nev)
            .map(|i| {
                let y = e.vector(i);
                (0..b).map(|d| (0..b).map(|c| r_last[(d, c)] * y[m - b + c]).sum::<f64>().powi(2)).sum::<f64>().sqrt()
            })
            .collect();
        let all = info.residuals.iter().all(|&r| r <= p.tol * scale);
        let out = info.passes + (m - keep) / b > max_passes;
        // Between cycles: the caller may have asked to stop (Ctrl-C in Python).
        p.observe.check()?;
        p.observe.detail(|| {
            let worst = info.residuals.iter().copied().fold(0.0, f64::max) / scale;
            format!(
                "  block lanczos cycle {}: {} passes (b = {b}), worst relative residual {worst:.2e} (tol {:.0e})",
                info.restarts + 1,
                info.passes,
                p.tol
            )
        });
        let ymat = Mat::<f64>::from_fn(m, m, |i, c| e.vector(c)[i]);
        if all || out {
            info.converged = all;
            let x = v.as_ref().subcols(0, m) * ymat.as_ref().subcols(0, nev);
            let vectors = (0..nev).flat_map(|c| (0..n).map(move |i| (c, i))).map(|(c, i)| x[(i, c)]).collect();
            return Ok(Eigenpairs { values: e.values[..nev].to_vec(), vectors, info });
        }
        // Thick restart: V[:, ..keep] = V Y_keep, V[:, keep..keep+b] = the last Q; T = diag(θ).
        let kept = v.as_ref().subcols(0, m) * ymat.as_ref().subcols(0, keep);
        let q = v.as_ref().subcols(m, b).to_owned();
        v.as_mut().subcols_mut(0, keep).copy_from(&kept);
        v.as_mut().subcols_mut(keep, b).copy_from(&q);
        t.fill(0.0);
        for c in 0..keep {
            t[(c, c)] = e.values[c];
        }
        from = keep;
        info.restarts += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rank-3 operator diag(3, 2, 1, 0, …) makes every block of 8 lose rank after the first
    /// product, so the cancellation and fresh-direction paths run on every step; the eigenvalues
    /// (3, 2, 1, 0) must still come out, with unit vectors and true residuals below 1e-6. (Before the
    /// re-projection of cancelled columns this solve returned θ = 15.7 for an operator of norm 3.)
    #[test]
    fn rank_loss_in_a_block_is_repaired() {
        let n = 64;
        let diag: Vec<f32> = (0..n).map(|i| if i < 3 { 3.0 - i as f32 } else { 0.0 }).collect();
        let mut apply = |x: &[f32], b: usize| -> Result<Vec<f32>> {
            Ok((0..b).flat_map(|c| (0..n).map(move |i| (c, i))).map(|(c, i)| diag[i] * x[c * n + i]).collect())
        };
        let p = BlockParams { nev: 4, block: Some(8), ..Default::default() };
        let e = block_lanczos(n, &mut apply, &p).unwrap();
        assert!(e.info.converged, "{:?}", e.info);
        crate::testing::assert_close("rank-3 operator", &e.values, &[3.0, 2.0, 1.0, 0.0], 1e-6, 1e-6);
        for c in 0..4 {
            let v = &e.vectors[c * n..(c + 1) * n];
            let norm: f64 = v.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-6, "vector {c} has norm² {norm}");
            let res = (0..n).map(|i| ((f64::from(diag[i]) - e.values[c]) * v[i]).powi(2)).sum::<f64>().sqrt();
            assert!(res < 1e-6, "pair {c}: true residual {res:.2e}");
        }
    }
}
