//! Step 5: the top eigenpairs of S by thick-restart Lanczos with full re-orthogonalisation done twice
//! (CGS2). The device (GPU or CPU twin) holds the f32 basis and runs a whole restart cycle without a
//! host read-back; this host driver owns the small problem in f64: it assembles the projected matrix T
//! from the coefficients the device returns once per cycle, solves it densely, tests convergence,
//! and sends back the rotation for the restart.
//!
//! Repeated eigenvalues: a single-vector Krylov space contains one vector per *distinct* eigenvalue, so
//! an exactly repeated eigenvalue (a circle's cos/sin pairs) shows up once and the solve would report
//! convergence with the partner missing. After convergence the driver therefore injects a fresh random
//! direction (orthogonal to the kept Ritz vectors) and runs on; it stops when the wanted Ritz values no
//! longer change (at most [`MAX_INJECTIONS`] times).
//!
//! Convergence: Ritz pair (θ, y) has residual ‖S x − θ x‖ = |β_m y_m| (the Lanczos estimate); a pair is
//! converged when that is ≤ `tol · |θ_max|` (relative to the operator's norm estimate; θ_max = 1 for
//! a diffusion matrix). The matvec budget bounds the work; running out returns `converged = false`.

use crate::backend::Device;
use crate::error::{Error, Result};
use crate::observe::Observe;
use crate::rng::Rng;
use crate::solve::dense::sym_eig;

/// Most fresh-direction injections after convergence (see the module doc).
pub const MAX_INJECTIONS: usize = 3;

/// Parameters of the Lanczos solve.
#[derive(Clone, Debug)]
pub struct LanczosParams {
    /// Number of eigenpairs wanted (the trivial one included).
    pub nev: usize,
    /// Relative residual tolerance.
    pub tol: f64,
    /// Basis size m per restart cycle; `None` picks max(2·nev + 10, 30) capped at N.
    pub basis: Option<usize>,
    /// Stop after this many matrix–vector products; `None` uses 50·m + 1000.
    pub max_matvecs: Option<usize>,
    /// Seed of the start vector.
    pub seed: u64,
    /// Where each restart cycle is reported (none by default).
    pub observe: Observe,
}

impl Default for LanczosParams {
    fn default() -> Self {
        LanczosParams { nev: 11, tol: 1e-5, basis: None, max_matvecs: None, seed: 0, observe: Observe::default() }
    }
}

/// How a solve went.
#[derive(Clone, Debug, Default)]
pub struct LanczosInfo {
    /// All wanted pairs met the tolerance.
    pub converged: bool,
    /// Thick restarts performed.
    pub restarts: usize,
    /// Matrix–vector products with S.
    pub matvecs: usize,
    /// Final residual estimates |β y_m| per wanted pair (absolute).
    pub residuals: Vec<f64>,
    /// Basis size used.
    pub basis: usize,
    /// Vectors per matrix pass: 1 for [`lanczos`], b for [`crate::solve::block::block_lanczos`].
    pub block: usize,
    /// Passes over the matrix (equal to `matvecs` for the single-vector solver).
    pub passes: usize,
    /// Which solver ran: `"lanczos"` or `"block-lanczos"`.
    pub solver: &'static str,
}

/// Eigenpairs from a solve.
#[derive(Clone, Debug)]
pub struct Eigenpairs {
    /// Eigenvalues, descending.
    pub values: Vec<f64>,
    /// Unit eigenvectors, column-major (N per column).
    pub vectors: Vec<f64>,
    /// Run statistics.
    pub info: LanczosInfo,
}

/// Solves for the top `params.nev` eigenpairs of the symmetric matrix stored on `dev`.
pub fn lanczos(dev: &mut dyn Device, params: &LanczosParams) -> Result<Eigenpairs> {
    let n = dev.n();
    let nev = params.nev;
    if nev == 0 || nev + 1 > n {
        return Err(Error::Shape(format!("need N ≥ k+2 for k+1 = {nev} eigenpairs, got N = {n}")));
    }
    if !(params.tol > 0.0 && params.tol < 1.0) {
        return Err(Error::param("tol", format!("must lie in (0, 1), got {}", params.tol)));
    }
    let m = params.basis.unwrap_or((2 * nev + 10).max(30)).min(n);
    if m < nev + 1 && m < n {
        return Err(Error::param("basis", format!("basis size {m} must exceed nev = {nev}")));
    }
    let budget = params.max_matvecs.unwrap_or(50 * m + 1000);
    // Kept Ritz vectors per restart: the wanted ones plus half the rest, which speeds convergence of the
    // wanted end without shrinking the new Krylov block too far.
    let keep = (nev + (m - nev) / 2).min(m.saturating_sub(1)).max(nev.min(m - 1));

    let mut rng = Rng::new(params.seed ^ 0x1a2c_205);
    let start: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    dev.krylov_begin(m, &start)?;

    let mut info = LanczosInfo { basis: m, block: 1, solver: "lanczos", ..Default::default() };
    let mut theta_kept: Vec<f64> = Vec::new();
    let mut from = 0usize;
    let mut injections = 0usize;
    let mut last_converged: Option<Vec<f64>> = None;
    loop {
        let h = dev.krylov_expand(from, m)?;
        info.matvecs += m - from;
        info.passes += m - from;
        // Assemble T (m×m, symmetric) from the kept Ritz values and the fresh columns.
        let mut t = vec![0.0f64; m * m];
        for (c, &th) in theta_kept.iter().enumerate() {
            t[c * m + c] = th;
        }
        let mut size = m;
        for j in from..m {
            for c in 0..=j {
                let v = f64::from(h[c + j * (m + 1)]);
                t[c * m + j] = v;
                t[j * m + c] = v;
            }
            let beta = f64::from(h[j + 1 + j * (m + 1)]);
            if j + 1 < m {
                if beta <= 1e-30 {
                    // Invariant subspace: the Ritz values of T[..j+1] are exact.
                    size = j + 1;
                    break;
                }
                t[(j + 1) * m + j] = beta;
                t[j * m + j + 1] = beta;
            }
        }
        let beta_m = if size == m { f64::from(h[m + (m - 1) * (m + 1)]) } else { 0.0 };
        if t.iter().any(|v| !v.is_finite()) {
            return Err(Error::Eigen("non-finite Lanczos coefficients (matrix holds NaN/Inf?)".into()));
        }
        let tt: Vec<f64> = (0..size).flat_map(|a| (0..size).map(move |b| (a, b))).map(|(a, b)| t[a * m + b]).collect();
        let e = sym_eig(&tt, size)?;
        let want = nev.min(size);
        let scale = e.values.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(f64::MIN_POSITIVE);
        info.residuals = (0..want).map(|i| (beta_m * e.vector(i)[size - 1]).abs()).collect();
        let all = want == nev && info.residuals.iter().all(|&r| r <= params.tol * scale);
        let out_of_budget = info.matvecs + (m - keep) > budget;
        // Between cycles: the caller may have asked to stop (Ctrl-C in Python).
        params.observe.check()?;
        params.observe.detail(|| {
            let worst = info.residuals.iter().copied().fold(0.0, f64::max) / scale;
            format!(
                "  lanczos cycle {}: {} matvecs, worst relative residual {worst:.2e} (tol {:.0e})",
                info.restarts + 1,
                info.matvecs,
                params.tol
            )
        });
        // After convergence, check for missed multiplicities: unless the values already survived an
        // injection unchanged, inject a fresh direction and keep going.
        let mut finished = all;
        if all && size == m && !out_of_budget && injections < MAX_INJECTIONS {
            let stable = last_converged.as_ref().is_some_and(|prev| {
                prev.iter().zip(&e.values).all(|(a, b)| (a - b).abs() <= 10.0 * params.tol * scale)
            });
            if !stable {
                finished = false;
                last_converged = Some(e.values[..nev].to_vec());
            }
        }
        if finished || out_of_budget || size < m {
            info.converged = all;
            let y = ritz_block(&e, size, m, want);
            let v = dev.krylov_vectors(&y, want)?;
            let vectors = v.into_iter().map(f64::from).collect();
            return Ok(Eigenpairs { values: e.values[..want].to_vec(), vectors, info });
        }
        let y = ritz_block(&e, size, m, keep);
        dev.krylov_restart(&y, keep)?;
        if all {
            let fresh: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
            dev.krylov_inject(keep, &fresh)?;
            injections += 1;
        }
        theta_kept = e.values[..keep].to_vec();
        from = keep;
        info.restarts += 1;
    }
}

/// The first `k` eigenvectors of the size×size problem as an m×k column-major f32 block (rows past
/// `size` zero).
fn ritz_block(e: &crate::solve::dense::SymEig, size: usize, m: usize, k: usize) -> Vec<f32> {
    let mut y = vec![0.0f32; m * k];
    for c in 0..k {
        for l in 0..size {
            y[c * m + l] = e.vector(c)[l] as f32;
        }
    }
    y
}
