//! Test support shared by the unit, integration and GPU tests: the one tolerance helper every numeric
//! assertion goes through, sign/rotation-invariant subspace comparison, GPU-availability policy, and
//! a raw `.npy` encoder for tests that craft broken files.

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
#[expect(clippy::print_stderr, reason = "test support: a skipped GPU test says so in the test log")]
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

pub use crate::stats::corr;
use crate::stats::standardise;

/// Aligns the pair (p1, p2) to the targets (t1, t2) by the best 2×2 orthogonal map (rotation or
/// reflection, orthogonal Procrustes on standardised series) and returns |corr| of each aligned column
/// with its target. Used where two eigenvalues (nearly) coincide and only their span is defined.
pub fn procrustes_corr_2x2(p1: &[f64], p2: &[f64], t1: &[f64], t2: &[f64]) -> [f64; 2] {
    let (p1, p2, t1, t2) = (standardise(p1), standardise(p2), standardise(t1), standardise(t2));
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    // M = Pᵀ T; maximise tr(Qᵀ M) over rotations and reflections in closed form.
    let m = [[dot(&p1, &t1), dot(&p1, &t2)], [dot(&p2, &t1), dot(&p2, &t2)]];
    let mut best = (f64::MIN, [[1.0, 0.0], [0.0, 1.0]]);
    for reflect in [1.0, -1.0] {
        // Q = [[c, −r s], [s, r c]] (r = ±1); tr(QᵀM) = c(M00 + r M11) + s(M10 − r M01).
        let th = (m[1][0] - reflect * m[0][1]).atan2(m[0][0] + reflect * m[1][1]);
        let (s, c) = th.sin_cos();
        let q = [[c, -reflect * s], [s, reflect * c]];
        let tr = q[0][0] * m[0][0] + q[1][0] * m[1][0] + q[0][1] * m[0][1] + q[1][1] * m[1][1];
        if tr > best.0 {
            best = (tr, q);
        }
    }
    let q = best.1;
    let a1: Vec<f64> = p1.iter().zip(&p2).map(|(x, y)| x * q[0][0] + y * q[1][0]).collect();
    let a2: Vec<f64> = p1.iter().zip(&p2).map(|(x, y)| x * q[0][1] + y * q[1][1]).collect();
    [corr(&a1, &t1).abs(), corr(&a2, &t2).abs()]
}

/// The datafold tutorial case (x uniform on [0,1]², o = (x₁ + x₂³, x₂ − x₁³), N = 2500, M = 100,
/// σ = 0.01, ε auto) embedded on `dev`; returns |corr| of (ψ₁, ψ₂) with (cos πx₁, cos πx₂) after the
/// 2×2 orthogonal alignment (the two share an eigenvalue on the square).
#[expect(clippy::print_stdout, reason = "test support: the case's numbers go to the test log")]
pub fn datafold_case(dev: &mut dyn crate::backend::Device) -> Result<[f64; 2], String> {
    let data = crate::data::synthetic::mushroom_square(2500, 100, 0.01, 42).map_err(|e| e.to_string())?;
    let params = crate::pipeline::embed::EmbedParams { k: 4, ..Default::default() };
    let e = crate::pipeline::embed::embed(&data, &params, dev).map_err(|e| e.to_string())?;
    if !e.info.converged || e.rank != 2 {
        return Err(format!("converged {}, rank {}", e.info.converged, e.rank));
    }
    let x = data.inputs.as_ref().ok_or("no inputs")?;
    let t1: Vec<f64> = x.column(0).iter().map(|v| (std::f64::consts::PI * v).cos()).collect();
    let t2: Vec<f64> = x.column(1).iter().map(|v| (std::f64::consts::PI * v).cos()).collect();
    let c = procrustes_corr_2x2(&e.coords.column(1).to_vec(), &e.coords.column(2).to_vec(), &t1, &t2);
    println!(
        "    datafold case on {}: eps {:.3e} (implied dimension {:.2}), eigenvalues {:.5?}, |corr| {c:.4?}",
        e.backend,
        e.eps.eps,
        e.eps.dimension.unwrap_or(f64::NAN),
        e.eigenvalues
    );
    Ok(c)
}

/// An `.npy` file (version 1.0) with a raw header text — any dtype, shape or broken dictionary — padded
/// as numpy pads it, followed by `data`: the hostile-input tests craft files with it.
pub fn npy_raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out
}

/// [`npy_raw`] with numpy's dictionary for `descr`, `fortran_order` and a shape text such as `(3, 4)`.
pub fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    npy_raw(&format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}"), data)
}
