//! Test support shared by the unit, integration and GPU tests: the one tolerance helper every numeric
//! assertion goes through, sign/rotation-invariant subspace comparison, and GPU-availability policy.

use std::sync::Arc;

use crate::gpu::GpuContext;

/// Compares `actual` to `expected` elementwise with |a − e| ≤ abs + rel·|e|. On failure the message
/// names `what`, the worst index, both values and the tolerance.
pub fn check_close(what: &str, actual: &[f64], expected: &[f64], abs: f64, rel: f64) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!("{what}: length {} vs expected {}", actual.len(), expected.len()));
    }
    let mut worst: Option<(usize, f64)> = None;
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let excess = (a - e).abs() - (abs + rel * e.abs());
        if !(excess <= 0.0) && worst.is_none_or(|(_, w)| excess > w || excess.is_nan()) {
            worst = Some((i, excess));
        }
    }
    match worst {
        None => Ok(()),
        Some((i, _)) => Err(format!(
            "{what}: worst index {i}: got {}, expected {} (|diff| {:.3e} > abs {abs:.1e} + rel {rel:.1e}·|e|)",
            actual[i],
            expected[i],
            (actual[i] - expected[i]).abs()
        )),
    }
}

/// Panicking form of [`check_close`] for tests.
#[track_caller]
pub fn assert_close(what: &str, actual: &[f64], expected: &[f64], abs: f64, rel: f64) {
    if let Err(m) = check_close(what, actual, expected, abs, rel) {
        panic!("{m}");
    }
}

/// Tolerance derived from machine epsilon and problem size: `c · ε_f32 · sqrt(len)`, the typical
/// accumulated rounding of an f32 sum of `len` terms.
pub fn f32_tol(len: usize, c: f64) -> f64 {
    c * f64::from(f32::EPSILON) * (len as f64).sqrt()
}

/// Largest principal-angle sine between the column spaces of `a` and `b` (both n×k column-major,
/// orthonormal columns): invariant to signs and to rotations within a degenerate block.
pub fn subspace_distance(a: &[f64], b: &[f64], n: usize, k: usize) -> f64 {
    // ‖(I − A Aᵀ) B‖₂ bounded by the Frobenius norm of the residual per column; take the max over columns.
    let mut worst = 0.0f64;
    for c in 0..k {
        let bc = &b[c * n..(c + 1) * n];
        let mut r = bc.to_vec();
        for d in 0..k {
            let ad = &a[d * n..(d + 1) * n];
            let p: f64 = ad.iter().zip(bc).map(|(x, y)| x * y).sum();
            r.iter_mut().zip(ad).for_each(|(ri, x)| *ri -= p * x);
        }
        worst = worst.max(r.iter().map(|x| x * x).sum::<f64>().sqrt());
    }
    worst
}

/// The GPU context for a test, or `None` when no adapter exists and `NETMATCH_REQUIRE_GPU` is unset.
/// With `NETMATCH_REQUIRE_GPU=1` a missing adapter panics, so CI cannot pass without one.
pub fn gpu_for_test() -> Option<Arc<GpuContext>> {
    match GpuContext::shared() {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            if std::env::var("NETMATCH_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("NETMATCH_REQUIRE_GPU=1 but no GPU adapter: {e}");
            }
            eprintln!("SKIPPED: no adapter ({e})");
            None
        }
    }
}
