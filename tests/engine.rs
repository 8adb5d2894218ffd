//! CPU-side tests of the engine core: shaders validate, uniform layouts match, local geometry, ε
//! selection, the CPU Lanczos twin against float64, the datafold reference case, and the CLI's handling
//! of bad input. GPU tests live in tests/gpu.rs.

use std::path::{Path, PathBuf};
use std::process::Command;

use netmatch::backend::{Device, Precision};
use netmatch::cpu::CpuDevice;
use netmatch::data::{LocalSource, Observations, npz, synthetic};
use netmatch::pipeline::covariance::{local_geometry, spectral_rank};
use netmatch::pipeline::kernel::{EpsilonRule, GeometryF32, choose_epsilon, normalise};
use netmatch::solve::block::{BlockParams, block_lanczos};
use netmatch::solve::lanczos::{LanczosParams, lanczos};
use netmatch::solve::reference;
use netmatch::testing::assert_close;

#[test]
fn every_shader_validates_with_naga() {
    for (name, src) in netmatch::gpu::shaders::SHADERS {
        let module =
            naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{name}.wgsl: {}", e.emit_to_string(src)));
        // pack2x16float / unpack2x16float (f16 storage) are the one capability used; the GPU context
        // refuses an adapter without it (DownlevelFlags::SHADER_F16_IN_F32).
        let caps = naga::valid::Capabilities::SHADER_FLOAT16_IN_FLOAT32;
        let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps);
        v.validate(&module).unwrap_or_else(|e| panic!("{name}.wgsl does not validate: {e:?}"));
        let entries: Vec<_> = module.entry_points.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(entries, ["main"], "{name}.wgsl must have one entry point `main`");
        // Same name as its Rust stage: a pipeline declaration exists for it.
        assert!(netmatch::gpu::pipelines::DECLS.iter().any(|d| d.name == *name), "{name} has no pipeline declaration");
    }
    // And every .wgsl file on disk is registered (shaders/common/ holds shared functions, prepended to
    // the kernels that use them, not kernels of their own).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    for f in std::fs::read_dir(dir).unwrap() {
        let p = f.unwrap().path();
        if p.is_dir() {
            continue;
        }
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        assert!(netmatch::gpu::shaders::source(&stem).is_some(), "{} is not in the shader registry", p.display());
    }
}

/// The Rust uniform structs match the WGSL `Params` structs: same size, same member offsets.
#[test]
fn uniform_layouts_match_wgsl() {
    use netmatch::gpu::{
        csr_matmat::CsrParams, kernel::KernelParams, kernel_gemm::KernelGemmParams,
        kernel_gemm_matmat::KernelGemmMatmatParams, lanczos::StepParams, matmat::MatmatParams, matvec::MatvecParams,
        normalise::NormaliseParams, render::RenderParams,
    };
    let rust: &[(&str, usize, &[usize])] = &[
        ("kernel", std::mem::size_of::<KernelParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("kernel_gemm", std::mem::size_of::<KernelGemmParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("kernel_gemm_matmat", std::mem::size_of::<KernelGemmMatmatParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("matvec", std::mem::size_of::<MatvecParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("matmat", std::mem::size_of::<MatmatParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("csr_matmat", std::mem::size_of::<CsrParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("normalise", std::mem::size_of::<NormaliseParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("lanczos_project", std::mem::size_of::<StepParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("lanczos_orthogonalise", std::mem::size_of::<StepParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("lanczos_normalise", std::mem::size_of::<StepParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("lanczos_restart", std::mem::size_of::<StepParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
        ("render", std::mem::size_of::<RenderParams>(), &[0, 4, 8, 12, 16, 20, 24, 28]),
    ];
    assert_eq!(std::mem::offset_of!(RenderParams, half_width), 16);
    assert_eq!(std::mem::offset_of!(RenderParams, hit_eps), 28);
    // Rust-side field offsets of the named structs.
    assert_eq!(std::mem::offset_of!(KernelParams, inv_eps), 24);
    assert_eq!(std::mem::offset_of!(KernelParams, write_distance), 20);
    assert_eq!(std::mem::offset_of!(MatvecParams, y_off), 16);
    assert_eq!(std::mem::offset_of!(KernelGemmParams, inv_eps), 24);
    assert_eq!(std::mem::offset_of!(StepParams, k), 28);
    assert_eq!(std::mem::offset_of!(StepParams, dst), 20);
    for (name, size, offsets) in rust {
        let src = netmatch::gpu::shaders::source(name).unwrap();
        let module = naga::front::wgsl::parse_str(src).unwrap();
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        let (handle, ty) =
            module.types.iter().find(|(_, t)| t.name.as_deref() == Some("Params")).expect("struct Params");
        let members = match &ty.inner {
            naga::TypeInner::Struct { members, span } => {
                assert_eq!(*span as usize, *size, "{name}: WGSL Params is {span} bytes, Rust {size}");
                members
            }
            _ => panic!("{name}: Params is not a struct"),
        };
        let wgsl_offsets: Vec<usize> = members.iter().map(|m| m.offset as usize).collect();
        assert_eq!(&wgsl_offsets, offsets, "{name}: member offsets");
        assert_eq!(layouter[handle].size as usize, netmatch::gpu::pipelines::PARAMS_SIZE as usize);
    }
}

#[test]
fn rank_rule_keeps_genuine_directions_and_drops_curvature() {
    // Two genuine directions (anisotropic), then curvature, then rounding noise.
    assert_eq!(spectral_rank(&[1.0, 0.1, 1e-5, 1e-6, 1e-14], 1e-8, 1e3), 2);
    // Full rank, anisotropic: the gap to the noise floor decides.
    assert_eq!(spectral_rank(&[1.0, 0.05], 1e-8, 1e3), 2);
    assert_eq!(spectral_rank(&[1.0, 1e-5, 1e-9], 1e-8, 1e3), 1);
    assert_eq!(spectral_rank(&[0.0, 0.0], 1e-8, 1e3), 0);
}

#[test]
fn bursts_and_jacobians_give_the_same_geometry() {
    // Circle observed in R^3: bursts of the angle vs the exact Jacobian.
    let jac = synthetic::circle(64, 3, 4).unwrap();
    let LocalSource::Jacobians(j) = &jac.local else { unreachable!() };
    let sigma = 1e-3;
    let mut rng = netmatch::rng::Rng::new(5);
    let inputs = jac.inputs.clone().unwrap();
    let m = 400;
    let mut bursts = ndarray::Array3::zeros((64, m, 3));
    for i in 0..64 {
        for a in 0..m {
            let t = inputs[[i, 0]] + sigma * rng.normal();
            // o(t) = cos t · a + sin t · b, recovered from o(θ) and J(θ) by rotation.
            let (c0, s0) = (inputs[[i, 0]].cos(), inputs[[i, 0]].sin());
            for c in 0..3 {
                let av = c0 * jac.obs[[i, c]] - s0 * j[[i, c, 0]];
                let bv = s0 * jac.obs[[i, c]] + c0 * j[[i, c, 0]];
                bursts[[i, a, c]] = t.cos() * av + t.sin() * bv;
            }
        }
    }
    let b = Observations::new(jac.obs.clone(), LocalSource::Bursts(bursts), sigma, None).unwrap();
    let gj = local_geometry(&jac, &Default::default()).unwrap();
    let gb = local_geometry(&b, &Default::default()).unwrap();
    assert_eq!((gj.rank, gb.rank), (1, 1));
    // Compare C⁺ = U Uᵀ (sign-invariant) — finite bursts of M = 400 leave ~1/sqrt(M) sampling error.
    for i in 0..64 {
        let pj: Vec<f64> = (0..9).map(|e| gj.factor(i)[e / 3] * gj.factor(i)[e % 3]).collect();
        let pb: Vec<f64> = (0..9).map(|e| gb.factor(i)[e / 3] * gb.factor(i)[e % 3]).collect();
        assert_close(&format!("C+ point {i}"), &pb, &pj, 0.2, 0.2);
    }
}

#[test]
fn auto_epsilon_reports_dimension_two_on_the_square() {
    let data = synthetic::mushroom_square(2500, 16, 0.01, 3).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let e = choose_epsilon(&g, EpsilonRule::Auto, 0).unwrap();
    let d = e.dimension.unwrap();
    assert!((1.5..=2.6).contains(&d), "implied dimension {d} (eps {})", e.eps);
    let m = choose_epsilon(&g, EpsilonRule::Median, 0).unwrap();
    assert!(m.eps > 0.0);
}

/// CPU Lanczos twin against the float64 dense reference at N = 2000.
#[test]
fn cpu_lanczos_matches_f64_reference() {
    let data = synthetic::bursts_2d(2000, 32, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let reference = reference::embed(&g, 0.01, 1.0, 10).unwrap();
    let mut cpu = CpuDevice::new();
    cpu.build_kernel(&GeometryF32::from(&g), Some(0.01)).unwrap();
    normalise(&mut cpu, 1.0).unwrap();
    let e = lanczos(&mut cpu, &LanczosParams { nev: 10, ..Default::default() }).unwrap();
    assert!(e.info.converged);
    assert_close("cpu eigenvalues", &e.values, &reference.values, 0.0, 1e-5);
    for c in 0..10 {
        let dot: f64 = e.vectors[c * 2000..(c + 1) * 2000]
            .iter()
            .zip(&reference.vectors[c * 2000..(c + 1) * 2000])
            .map(|(a, b)| a * b)
            .sum();
        assert!(dot.abs() > 1.0 - 1e-4, "vector {c}: {dot}");
    }
}

/// The CPU block solver against float64: N = 2000 mushroom top 10 (values within 1e-5 relative, vectors
/// to 1e-4, residuals with the float64 S) and the degenerate circle (pairs as whole subspaces).
#[test]
fn cpu_block_lanczos_matches_f64_reference() {
    let data = synthetic::bursts_2d(2000, 32, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let n = g.n;
    let reference = reference::embed(&g, 0.01, 1.0, 10).unwrap();
    let mut cpu = CpuDevice::new();
    cpu.build_kernel(&GeometryF32::from(&g), Some(0.01)).unwrap();
    normalise(&mut cpu, 1.0).unwrap();
    let e = block_lanczos(n, &mut |x, b| cpu.matmat(x, b), &BlockParams { nev: 10, ..Default::default() }).unwrap();
    println!("block: {:?}", e.info);
    assert!(e.info.converged && e.info.solver == "block-lanczos");
    assert_eq!(e.info.matvecs, e.info.passes * e.info.block);
    assert_close("cpu block eigenvalues", &e.values, &reference.values, 0.0, 1e-5);
    for c in 0..10 {
        let v = &e.vectors[c * n..(c + 1) * n];
        let dot: f64 = v.iter().zip(&reference.vectors[c * n..(c + 1) * n]).map(|(a, b)| a * b).sum();
        assert!(dot.abs() > 1.0 - 1e-4, "vector {c}: {dot}");
        let res: f64 = (0..n)
            .map(|i| ((0..n).map(|j| reference.s[i * n + j] * v[j]).sum::<f64>() - e.values[c] * v[i]).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(res <= 1e-4, "residual of pair {c}: {res:.3e}");
    }
    // The circle: every non-trivial eigenvalue is a pair; nev = 5 holds λ₀ and two whole pairs.
    let data = synthetic::circle(600, 3, 9).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let reference = reference::embed(&g, 0.02, 1.0, 5).unwrap();
    let mut cpu = CpuDevice::new();
    cpu.build_kernel(&GeometryF32::from(&g), Some(0.02)).unwrap();
    normalise(&mut cpu, 1.0).unwrap();
    let e = block_lanczos(g.n, &mut |x, b| cpu.matmat(x, b), &BlockParams { nev: 5, ..Default::default() }).unwrap();
    assert!(e.info.converged);
    assert_close("circle block eigenvalues", &e.values, &reference.values, 0.0, 1e-5);
    let d = netmatch::testing::subspace_distance(&reference.vectors, &e.vectors, g.n, 5);
    assert!(d <= 1e-3, "circle subspace distance {d:.3e}");
}

/// f16 kernel storage (the CPU twin of the shaders' `half` mode) against float64: eigenvalues within
/// the 1e-4 that decides whether f16 may be a default, and vectors close to the f64 ones.
#[test]
fn cpu_f16_storage_matches_f64_reference() {
    let data = synthetic::bursts_2d(2000, 32, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let n = g.n;
    let reference = reference::embed(&g, 0.01, 1.0, 10).unwrap();
    let mut cpu = CpuDevice::new();
    cpu.build_kernel_as(&GeometryF32::from(&g), Some(0.01), Precision::F16).unwrap();
    assert_eq!(cpu.precision(), Precision::F16);
    // The stored entries are f16 values times the (still unit) scale: the rounding really happened.
    let row = cpu.read_rows(7, 1).unwrap();
    assert!(row.iter().all(|&v| f32::from(half::f16::from_f32(v)) == v));
    normalise(&mut cpu, 1.0).unwrap();
    let e = block_lanczos(n, &mut |x, b| cpu.matmat(x, b), &BlockParams { nev: 10, ..Default::default() }).unwrap();
    assert!(e.info.converged, "{:?}", e.info);
    let err = e.values.iter().zip(&reference.values).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!("f16 storage: eigenvalue error vs f64 {err:.2e}, {:?}", e.info);
    assert!((e.values[0] - 1.0).abs() <= 1e-5, "λ₀ = {}", e.values[0]);
    assert_close("cpu f16 eigenvalues", &e.values, &reference.values, 0.0, 1e-4);
    let d = netmatch::testing::subspace_distance(&reference.vectors, &e.vectors, n, 10);
    println!("f16 storage: subspace distance {d:.2e}");
    assert!(d <= 1e-2, "f16 subspace distance {d:.3e}");
    // f16 storage refuses what it cannot hold.
    assert!(cpu.build_kernel_as(&GeometryF32::from(&g), None, Precision::F16).is_err());
}

/// The matrix-free path through `embed` on the CPU twin (kernel recomputed per pass) against float64,
/// and the f16 dense path through `embed`: both name their storage in the summary.
#[test]
fn cpu_matrix_free_and_f16_embed_match_f64_reference() {
    use netmatch::pipeline::embed::{EmbedParams, Storage, embed};
    let data = synthetic::bursts_2d(900, 16, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let reference = reference::embed(&g, 0.01, 1.0, 7).unwrap();
    for (storage, precision, name) in
        [(Storage::MatrixFree, None, "matrix-free"), (Storage::Dense, Some(Precision::F16), "dense N×N f16")]
    {
        let p = EmbedParams { k: 6, eps: EpsilonRule::Fixed(0.01), storage, precision, ..Default::default() };
        let e = embed(&data, &p, &mut CpuDevice::new()).unwrap();
        assert!(e.info.converged && e.storage.starts_with(name), "{}: {:?}", e.storage, e.info);
        let tol = if precision.is_some() { 1e-4 } else { 1e-5 };
        assert_close(&format!("{name} eigenvalues"), &e.eigenvalues, &reference.values, 0.0, tol);
    }
    // The single-vector solver refuses storage it cannot run on, with a message.
    let p = EmbedParams {
        k: 6,
        eps: EpsilonRule::Fixed(0.01),
        storage: Storage::MatrixFree,
        solver: netmatch::solve::block::Solver::Lanczos,
        ..Default::default()
    };
    let err = embed(&data, &p, &mut CpuDevice::new()).unwrap_err().to_string();
    assert!(err.contains("block solver"), "{err}");
}

/// The block solver's pass budget: exhausted, it says so.
#[test]
fn block_unconverged_reports_itself() {
    let data = synthetic::bursts_2d(500, 16, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let mut cpu = CpuDevice::new();
    cpu.build_kernel(&GeometryF32::from(&g), Some(0.002)).unwrap();
    normalise(&mut cpu, 1.0).unwrap();
    let p = BlockParams { nev: 11, max_passes: Some(5), tol: 1e-9, ..Default::default() };
    let e = block_lanczos(g.n, &mut |x, b| cpu.matmat(x, b), &p).unwrap();
    assert!(!e.info.converged);
    assert!(e.info.passes <= 5 + 6, "{:?}", e.info);
}

/// An exhausted matvec budget is reported, not hidden.
#[test]
fn unconverged_solve_reports_itself() {
    let data = synthetic::bursts_2d(500, 16, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let mut cpu = CpuDevice::new();
    cpu.build_kernel(&GeometryF32::from(&g), Some(0.002)).unwrap();
    normalise(&mut cpu, 1.0).unwrap();
    let e = lanczos(
        &mut cpu,
        &LanczosParams { nev: 11, basis: Some(24), max_matvecs: Some(30), tol: 1e-9, ..Default::default() },
    )
    .unwrap();
    assert!(!e.info.converged);
    assert!(e.info.matvecs <= 30 + 24, "{:?}", e.info);
}

/// The datafold tutorial case on the CPU path: ψ₁, ψ₂ span cos(πx₁), cos(πx₂).
#[test]
fn datafold_mushroom_case_cpu() {
    let c = netmatch::testing::datafold_case(&mut CpuDevice::new()).unwrap();
    assert!(c[0] >= 0.98 && c[1] >= 0.98, "|corr| after 2×2 alignment: {c:?}");
}

// ---- CLI: bad input gives a clear error, a non-zero exit, and no output file -----------------------

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netmatch"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("netmatch-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_embed(input: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let o = bin()
        .args(["embed", "--backend", "cpu", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn write_npz(path: &Path, arrays: &[(&str, ndarray::ArrayD<f64>)]) {
    npz::write_atomic(path, |w| {
        for (k, a) in arrays {
            w.add_array(*k, a)?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn cli_embed_writes_outputs_and_summary() {
    let d = tmpdir("ok");
    let input = d.join("in.npz");
    npz::write_observations(&input, &synthetic::mushroom_square(300, 16, 0.01, 1).unwrap()).unwrap();
    let out = d.join("out.npz");
    let (code, stdout, stderr) = run_embed(&input, &out, &["--k", "4"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["converged"], true);
    assert_eq!(v["backend"], "cpu");
    assert!(v["eps"].as_f64().unwrap() > 0.0);
    let mut r = ndarray_npy::NpzReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let ev: ndarray::Array1<f64> = r.by_name("eigenvalues").unwrap();
    let coords: ndarray::Array2<f64> = r.by_name("coords").unwrap();
    assert_eq!(ev.len(), 5);
    assert_eq!(coords.dim(), (300, 5));
    assert!((ev[0] - 1.0).abs() < 1e-5, "λ₀ = {}", ev[0]);
    assert!(ev.windows(2).into_iter().all(|w| w[0] >= w[1]));
}

#[test]
fn cli_rejects_bad_input_cleanly() {
    let d = tmpdir("bad");
    let out = d.join("out.npz");
    let good = synthetic::mushroom_square(40, 4, 0.01, 1).unwrap();
    let LocalSource::Bursts(b) = &good.local else { unreachable!() };
    let obs = good.obs.clone().into_dyn();
    let bursts = b.clone().into_dyn();

    let mut nan_obs = good.obs.clone();
    nan_obs[[3, 1]] = f64::NAN;
    let cases: Vec<(&str, Vec<(&str, ndarray::ArrayD<f64>)>, Vec<&str>, &str)> = vec![
        ("nan", vec![("obs", nan_obs.into_dyn()), ("bursts", bursts.clone())], vec![], "non-finite value in `obs`"),
        ("missing", vec![("obs", obs.clone())], vec![], "missing key `bursts` or `jacobians`"),
        (
            "shape",
            vec![("obs", obs.clone()), ("bursts", b.slice(ndarray::s![..30, .., ..]).to_owned().into_dyn())],
            vec![],
            "to match `obs`",
        ),
        (
            "m1",
            vec![("obs", obs.clone()), ("bursts", b.slice(ndarray::s![.., ..1, ..]).to_owned().into_dyn())],
            vec![],
            "M ≥ 2",
        ),
        ("small", vec![("obs", obs.clone()), ("bursts", bursts.clone())], vec!["--k", "38"], "N ≥ k+3"),
        ("eps", vec![("obs", obs.clone()), ("bursts", bursts.clone())], vec!["--eps", "-1"], "invalid parameter `eps`"),
        ("eps0", vec![("obs", obs.clone()), ("bursts", bursts.clone())], vec!["--eps", "0"], "invalid parameter `eps`"),
        ("alpha", vec![("obs", obs.clone()), ("bursts", bursts.clone())], vec!["--alpha", "1.5"], "--alpha"),
        (
            "rank",
            vec![("obs", obs.clone()), ("bursts", bursts.clone())],
            vec!["--rank", "3"],
            "invalid parameter `rank`",
        ),
    ];
    for (tag, arrays, extra, expect) in cases {
        let input = d.join(format!("{tag}.npz"));
        write_npz(&input, &arrays);
        let (code, _, stderr) = run_embed(&input, &out, &extra);
        assert_ne!(code, 0, "{tag}: should fail");
        assert!(stderr.contains(expect), "{tag}: stderr `{stderr}` lacks `{expect}`");
        assert!(!stderr.contains("panicked"), "{tag}: panicked: {stderr}");
        assert!(!out.exists(), "{tag}: output left behind");
    }
    // Unreadable and non-npz files.
    let (code, _, stderr) = run_embed(&d.join("nope.npz"), &out, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nope.npz"), "{stderr}");
    let junk = d.join("junk.npz");
    std::fs::write(&junk, b"not a zip").unwrap();
    let (code, _, stderr) = run_embed(&junk, &out, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("not a readable .npz"), "{stderr}");
    // A constant network: every burst has zero covariance.
    let flat = ndarray::Array3::<f64>::from_elem((40, 4, 2), 0.5).into_dyn();
    let input = d.join("flat.npz");
    write_npz(&input, &[("obs", ndarray::Array2::<f64>::from_elem((40, 2), 0.5).into_dyn()), ("bursts", flat)]);
    let (code, _, stderr) = run_embed(&input, &out, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("zero covariance"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn cli_unconverged_exits_nonzero_unless_allowed() {
    let d = tmpdir("unconv");
    let input = d.join("in.npz");
    npz::write_observations(&input, &synthetic::mushroom_square(400, 8, 0.01, 2).unwrap()).unwrap();
    let out = d.join("out.npz");
    let (code, stdout, stderr) = run_embed(&input, &out, &["--max-matvecs", "10", "--tol", "1e-9", "--eps", "0.002"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("did not converge"), "{stderr}");
    assert!(stdout.contains("\"converged\":false"));
    assert!(!out.exists());
    let (code, _, stderr) =
        run_embed(&input, &out, &["--max-matvecs", "10", "--tol", "1e-9", "--eps", "0.002", "--allow-unconverged"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.exists());
}

#[test]
fn block_split_respects_limits_and_names_sizes() {
    use netmatch::gpu::block_rows;
    // lavapipe's 128 MiB binding: N = 10 000 rows of 40 000 bytes → 3355 rows per block.
    assert_eq!(block_rows(10_000, Precision::F32, 128 << 20, None).unwrap(), 3355);
    assert_eq!(block_rows(100, Precision::F32, 128 << 20, None).unwrap(), 100);
    assert_eq!(block_rows(1000, Precision::F32, 1 << 40, None).unwrap(), 1000);
    assert_eq!(block_rows(200_000, Precision::F32, 1 << 40, None).unwrap(), 65_535);
    assert_eq!(block_rows(301, Precision::F32, 128 << 20, Some(120)).unwrap(), 120);
    // f16 pairs: ⌈10 001 / 2⌉ = 5001 words (20 004 bytes) per row → 6709 rows.
    assert_eq!(block_rows(10_001, Precision::F16, 128 << 20, None).unwrap(), 6709);
    let e = block_rows(40_000_000, Precision::F32, 128 << 20, None).unwrap_err().to_string();
    assert!(e.contains("N = 40000000") && e.contains("160000000 bytes") && e.contains("134217728"), "{e}");
}

/// The storage plan: dense f32 while 4N² fits the budget, f16 while 2N² fits, then sparse; explicit
/// choices are kept; a row larger than the device's largest buffer rules out the dense path.
#[test]
fn storage_plan_follows_budget_and_limits() {
    use netmatch::pipeline::embed::{Storage, plan_storage};
    let gib = 1u64 << 30;
    let plan = |s, p, n, budget, block| {
        let r = plan_storage(s, p, n, (budget, block, false));
        (r.storage, r.precision)
    };
    let (a, big) = (Storage::Auto, u64::MAX);
    assert_eq!(plan(a, None, 20_000, 4 * gib, big), (Storage::Dense, Precision::F32));
    assert_eq!(plan(a, None, 40_000, 4 * gib, big), (Storage::Dense, Precision::F16));
    assert_eq!(plan(a, None, 50_000, 4 * gib, big), (Storage::Sparse, Precision::F32));
    // A 1 GiB budget (a small host): f16 from N = 16 385, sparse from 23 171.
    assert_eq!(plan(a, None, 16_384, gib, big), (Storage::Dense, Precision::F32));
    assert_eq!(plan(a, None, 16_385, gib, big), (Storage::Dense, Precision::F16));
    assert_eq!(plan(a, None, 23_171, gib, big), (Storage::Sparse, Precision::F32));
    // Explicit precision and storage are kept.
    assert_eq!(plan(a, Some(Precision::F32), 40_000, 4 * gib, big), (Storage::Sparse, Precision::F32));
    assert_eq!(plan(a, Some(Precision::F16), 2_000, 4 * gib, big), (Storage::Dense, Precision::F16));
    assert_eq!(plan(Storage::Dense, None, 40_000, 4 * gib, big), (Storage::Dense, Precision::F16));
    assert_eq!(plan(Storage::Sparse, None, 2_000, 4 * gib, big), (Storage::Sparse, Precision::F32));
    // One f32 row of 40 kB does not fit a 32 kB buffer, one f16 row does.
    assert_eq!(plan(a, None, 10_000, 4 * gib, 32_000), (Storage::Dense, Precision::F16));
    assert_eq!(plan(a, None, 10_000, 4 * gib, 16_000), (Storage::Sparse, Precision::F32));
    // On a hardware GPU the matrix-free path comes between dense f16 and sparse.
    let gpu = |n| plan_storage(a, None, n, (4 * gib, big, true)).storage;
    assert_eq!((gpu(40_000), gpu(50_000), gpu(100_001)), (Storage::Dense, Storage::MatrixFree, Storage::Sparse));
}

#[test]
fn float32_inputs_are_read() {
    let d = tmpdir("f32");
    let data = synthetic::mushroom_square(200, 8, 0.01, 3).unwrap();
    let LocalSource::Bursts(b) = &data.local else { unreachable!() };
    let input = d.join("in32.npz");
    npz::write_atomic(&input, |w| {
        w.add_array("obs", &data.obs.mapv(|v| v as f32))?;
        w.add_array("bursts", &b.mapv(|v| v as f32))?;
        w.add_array("sigma", &ndarray::arr0(0.01f32))?;
        Ok(())
    })
    .unwrap();
    let back = npz::read_observations(&input).unwrap();
    assert_eq!((back.n(), back.dim()), (200, 2));
    assert!((back.sigma - 0.01).abs() < 1e-9);
    let out = d.join("out.npz");
    let (code, _, stderr) = run_embed(&input, &out, &["--k", "3"]);
    assert_eq!(code, 0, "{stderr}");
}

/// The horse asset parses, fills a sensible part of the frame, and is asymmetric on the CPU path too:
/// every frame differs from the one half a turn later.
#[test]
fn horse_renders_and_is_asymmetric_on_cpu() {
    use netmatch::render::{Scene, frame_angles};
    let scene = Scene::horse();
    assert!(scene.parts() >= 10, "body, neck, head, ears, four legs, tail: {:?}", scene.names);
    let size = 40;
    let angles = frame_angles(8, 1);
    let img = netmatch::cpu::render::render(&scene, &angles, size);
    let px = size * size;
    for k in 0..8 {
        let f = &img[k * px..(k + 1) * px];
        let covered = f.iter().filter(|&&v| v > 0.0).count() as f64 / px as f64;
        assert!((0.05..0.7).contains(&covered), "frame {k}: {covered}");
        let g = &img[((k + 4) % 8) * px..((k + 4) % 8 + 1) * px];
        // Share of pixels that clearly differ (silhouette or shading) from the half-turn partner.
        let differ = f.iter().zip(g).filter(|(a, b)| (*a - *b).abs() > 0.1).count() as f64 / px as f64;
        println!("frame {k}: covered {covered:.3}, differs from θ + π on {differ:.3} of the pixels");
        assert!(differ > 0.02, "frame {k} and its half-turn partner look alike: {differ}");
    }
    assert!(Scene::parse("{\"parts\": []}").is_err());
}

/// The frames must be a smooth function of the angle, not a staircase: bursts in θ measure the image
/// map's local derivative, and sub-pixel flips at silhouette edges add a jump part whose size per step
/// shrinks only like √δ. For a smooth map the mean image change per radian, ‖Δx‖/δ, is the same at
/// every small δ; a staircase makes it grow as δ shrinks. Measured on these 60 steps from θ = 1: plain
/// 2 × 2 supersampling (the renderer before the coverage ramp) grows 4.95× from δ = 2π/360 to
/// 2π/23040 and fails; with the near-miss coverage ramp 1.49×.
#[test]
fn horse_frames_vary_smoothly_with_the_angle() {
    use netmatch::render::Scene;
    let scene = Scene::horse();
    let size = 32;
    let px = size * size;
    let speed = |n: usize| {
        let k = 60;
        let angles: Vec<(f32, f32)> =
            (0..=k).map(|i| ((1.0 + 2.0 * std::f64::consts::PI * i as f64 / n as f64) as f32, 0.0)).collect();
        let img = netmatch::cpu::render::render(&scene, &angles, size);
        let mut s = 0.0;
        for i in 0..k {
            for p in 0..px {
                s += ((img[(i + 1) * px + p] - img[i * px + p]) as f64).powi(2);
            }
        }
        (s / k as f64).sqrt() / (2.0 * std::f64::consts::PI / n as f64)
    };
    let (coarse, fine) = (speed(360), speed(23040));
    println!("‖Δx‖/δ: {coarse:.1} at δ = 2π/360, {fine:.1} at δ = 2π/23040 (ratio {:.2})", fine / coarse);
    assert!(fine / coarse < 3.5, "the frames are a staircase in θ: ratio {}", fine / coarse);
}

/// The sparse path with every point its own neighbourhood (k = N) stores the dense kernel, so its
/// eigenpairs must match the float64 dense reference as tightly as the dense path does.
#[test]
fn sparse_kernel_with_all_neighbours_matches_f64_reference() {
    use netmatch::pipeline::sparse::{SparseParams, knn_kernel, normalise_csr};
    let data = synthetic::bursts_2d(700, 32, 0.01, 1.0, 0.6, 5, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let n = g.n;
    let reference = reference::embed(&g, 0.01, 1.0, 8).unwrap();
    let (mut csr, st) = knn_kernel(&g, Some(0.01), &SparseParams { k: n, candidates: n }).unwrap();
    assert_eq!(st.nnz, n * n);
    normalise_csr(&mut csr, 1.0).unwrap();
    let e = block_lanczos(n, &mut |x, b| csr.matmat(x, b), &BlockParams { nev: 8, ..Default::default() }).unwrap();
    assert!(e.info.converged);
    assert_close("sparse (k = N) eigenvalues", &e.values, &reference.values, 0.0, 1e-5);
    let d = netmatch::testing::subspace_distance(&reference.vectors, &e.vectors, n, 8);
    assert!(d <= 1e-3, "subspace distance {d:.3e}");
    // Shift-invert on the same (here dense) CSR.
    let norm =
        normalise_csr(&mut knn_kernel(&g, Some(0.01), &SparseParams { k: n, candidates: n }).unwrap().0, 1.0).unwrap();
    let trivial: Vec<f64> = norm.inv_sqrt_degree.iter().map(|d| 1.0 / d).collect();
    let e = netmatch::solve::shift_invert::shift_invert(
        &csr,
        Some(&trivial),
        &BlockParams { nev: 8, ..Default::default() },
    )
    .unwrap();
    assert!(e.info.converged, "{:?}", e.info);
    assert_close("shift-invert (k = N) eigenvalues", &e.values, &reference.values, 0.0, 1e-5);
    let d = netmatch::testing::subspace_distance(&reference.vectors, &e.vectors, n, 8);
    assert!(d <= 1e-3, "shift-invert subspace distance {d:.3e}");
}

/// Shift-invert on a k-NN kernel at its own ε (k = 16, N = 3000), where the top eigenvalues crowd
/// against 1: eigenvalues against the float64 dense eigen-decomposition of the same CSR matrix, true
/// residuals under the tolerance, and the span of the top pairs. Plain Krylov on S with the same
/// number of passes does not get there, which is what the transformation is for.
#[test]
fn shift_invert_solves_the_crowded_sparse_spectrum() {
    use netmatch::pipeline::sparse::{SparseParams, knn_kernel, normalise_csr};
    let data = synthetic::bursts_2d(3000, 16, 0.01, 1.0, 0.6, 11, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let n = g.n;
    let (mut csr, st) = knn_kernel(&g, None, &SparseParams::with_k(16)).unwrap();
    let norm = normalise_csr(&mut csr, 1.0).unwrap();
    let trivial: Vec<f64> = norm.inv_sqrt_degree.iter().map(|d| 1.0 / d).collect();
    let mut dense = vec![0.0f64; n * n];
    for i in 0..n {
        for q in csr.indptr[i] as usize..csr.indptr[i + 1] as usize {
            dense[i * n + csr.indices[q] as usize] = f64::from(csr.values[q]);
        }
    }
    let reference = netmatch::solve::dense::sym_eig(&dense, n).unwrap();
    let nev = 11;
    let gap = reference.values[1] - reference.values[nev];
    println!(
        "ε {:.2e}: λ₁ … λ₁₀ span {gap:.2e}, λ₁₀ − λ₁₁ = {:.2e}",
        st.eps,
        reference.values[nev - 1] - reference.values[nev]
    );
    let p = BlockParams { nev, ..Default::default() };
    let e = netmatch::solve::shift_invert::shift_invert(&csr, Some(&trivial), &p).unwrap();
    println!("shift-invert: {:?}", e.info);
    // Without the deflation the solve is still right on this crowded spectrum.
    let plain_si = netmatch::solve::shift_invert::shift_invert(&csr, None, &p).unwrap();
    assert!(plain_si.info.converged, "{:?}", plain_si.info);
    assert_close("shift-invert without deflation", &plain_si.values, &reference.values[..nev], 1e-7, 0.0);
    assert!(e.info.converged && e.info.solver == "shift-invert block-lanczos");
    assert_close("shift-invert eigenvalues", &e.values, &reference.values[..nev], 1e-7, 0.0);
    assert!(e.info.residuals.iter().all(|&r| r <= 1e-5), "{:?}", e.info.residuals);
    let d = netmatch::testing::subspace_distance(&reference.vectors[..n * nev], &e.vectors, n, nev);
    assert!(d <= 1e-2, "subspace distance {d:.3e}");
    let budget = BlockParams { nev, max_passes: Some(e.info.passes), ..Default::default() };
    let plain = block_lanczos(n, &mut |x, b| csr.matmat(x, b), &budget).unwrap();
    println!("plain Krylov with {} passes: {:?}", e.info.passes, plain.info);
    assert!(!plain.info.converged, "the spectrum is not crowded enough to need the transformation");
}

/// The k-NN kernel against the dense float64 reference (N = 3000, ε a tenth of the auto choice so that
/// 64 neighbours cover the kernel's support): it drops only the kernel's tail, so the leading diffusion
/// eigenvalues agree to 1e-4 and the largest dropped kernel value it reports is small. With 16
/// neighbours the reported dropped value and the error are both visibly larger, so the check can fail.
/// (At the auto ε itself 256 neighbours are needed: dropped 6.6e-2, |Δλ| 1.4e-3.)
#[test]
fn sparse_knn_kernel_tracks_the_dense_spectrum() {
    use netmatch::pipeline::sparse::{SparseParams, knn_kernel, normalise_csr};
    let data = synthetic::bursts_2d(3000, 24, 0.01, 1.0, 0.6, 7, synthetic::mushroom).unwrap();
    let g = local_geometry(&data, &Default::default()).unwrap();
    let eps = 0.1 * choose_epsilon(&g, EpsilonRule::Auto, 0).unwrap().eps;
    let reference = reference::embed(&g, eps, 1.0, 6).unwrap();
    let solve = |k: usize| {
        let (mut csr, st) = knn_kernel(&g, Some(eps), &SparseParams { k, candidates: 3 * k }).unwrap();
        normalise_csr(&mut csr, 1.0).unwrap();
        let e =
            block_lanczos(g.n, &mut |x, b| csr.matmat(x, b), &BlockParams { nev: 6, ..Default::default() }).unwrap();
        assert!(e.info.converged);
        let err = e.values.iter().zip(&reference.values).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!("k = {k}: nnz {}, largest dropped {:.2e}, max |Δλ| {err:.2e}", st.nnz, st.max_dropped);
        (err, st.max_dropped)
    };
    let (err, dropped) = solve(64);
    assert!(err <= 1e-4, "k = 64: eigenvalue error {err:.2e}");
    assert!(dropped <= 1e-2, "k = 64: largest dropped kernel value {dropped:.2e}");
    let (err16, dropped16) = solve(16);
    assert!(err16 > 10.0 * err && dropped16 > 10.0 * dropped, "k = 16 should be visibly worse: {err16:.2e}");
}

/// The matrix-product kernel (`cpu/kernel_gemm.rs`) against the float64 reference and the pair-by-pair
/// twin: d² and K entry by entry, the f16 build, the matrix-free product, and the eigenvalues through
/// `embed`, with and without the normal term, on an N that is not a multiple of the tile.
#[test]
fn cpu_gemm_kernel_matches_pairwise_and_f64() {
    use netmatch::backend::KernelMethod;
    use netmatch::pipeline::covariance::CovarianceParams;
    use netmatch::pipeline::embed::{EmbedParams, Storage, embed};
    let data = synthetic::tanh_layer_bursts_r(300, 12, 40, 2, 0.01, 17).unwrap();
    for nu in [0.0, 3.0] {
        let cov = CovarianceParams { normal_weight: nu, ..Default::default() };
        let g = local_geometry(&data, &cov).unwrap();
        let gf = GeometryF32::from(&g);
        let n = g.n;
        let d2_ref = reference::distance_matrix(&g);
        let scale = d2_ref.iter().copied().fold(0.0, f64::max);
        let eps = choose_epsilon(&g, EpsilonRule::Auto, 3).unwrap().eps;
        let mut gemm = CpuDevice::new();
        gemm.set_kernel_method(KernelMethod::Gemm);
        let mut pair = CpuDevice::new();
        pair.set_kernel_method(KernelMethod::Pairwise);
        gemm.build_kernel(&gf, None).unwrap();
        pair.build_kernel(&gf, None).unwrap();
        assert_eq!((gemm.kernel_method(), pair.kernel_method()), (KernelMethod::Gemm, KernelMethod::Pairwise));
        let to64 = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
        let dg = to64(gemm.read_rows(0, n).unwrap());
        // Rounding relative to the spread of the observations (see the module doc), not to each d².
        assert_close(&format!("gemm d² vs f64 (ν = {nu})"), &dg, &d2_ref, 2e-6 * scale, 1e-4);
        assert_close(
            &format!("gemm d² vs pairwise (ν = {nu})"),
            &dg,
            &to64(pair.read_rows(0, n).unwrap()),
            2e-6 * scale,
            1e-4,
        );
        assert!((0..n).all(|i| dg[i * n + i] == 0.0), "diagonal not exactly 0");
        gemm.build_kernel(&gf, Some(eps)).unwrap();
        let kg = to64(gemm.read_rows(0, n).unwrap());
        assert_close(&format!("gemm K vs f64 (ν = {nu})"), &kg, &reference::kernel_matrix(&g, eps), 1e-6, 1e-4);
        // Symmetric to the bit: each tile pair is written to both triangles.
        assert!((0..n).all(|i| (0..n).all(|j| kg[i * n + j] == kg[j * n + i])), "gemm K not symmetric");
        gemm.build_kernel_as(&gf, Some(eps), Precision::F16).unwrap();
        assert_close(
            "gemm f16 K vs f64",
            &to64(gemm.read_rows(0, n).unwrap()),
            &reference::kernel_matrix(&g, eps),
            1e-6,
            1e-3,
        );
        // The matrix-free product against the stored kernel's, for 3 seeded vectors.
        let mut rng = netmatch::rng::Rng::new(9);
        let x: Vec<f32> = (0..3 * n).map(|_| rng.normal() as f32).collect();
        gemm.build_kernel(&gf, Some(eps)).unwrap();
        let stored = to64(gemm.matmat(&x, 3).unwrap());
        gemm.build_matrix_free(&gf, eps).unwrap();
        assert_eq!(gemm.kernel_method(), KernelMethod::Gemm);
        let free = to64(gemm.matmat(&x, 3).unwrap());
        let size = stored.iter().map(|v| v.abs()).fold(0.0, f64::max);
        assert_close("gemm matrix-free vs stored", &free, &stored, 1e-5 * size, 1e-4);
        // The eigenvalues through `embed`, dense and matrix-free, against float64.
        let reference = reference::embed(&g, eps, 1.0, 7).unwrap();
        for storage in [Storage::Dense, Storage::MatrixFree] {
            let p = EmbedParams {
                k: 6,
                eps: EpsilonRule::Fixed(eps),
                covariance: cov.clone(),
                storage,
                kernel: KernelMethod::Gemm,
                ..Default::default()
            };
            let e = embed(&data, &p, &mut CpuDevice::new()).unwrap();
            assert_eq!(e.kernel, "gemm");
            assert!(e.info.converged, "{:?}", e.info);
            assert_close(
                &format!("gemm {storage:?} eigenvalues (ν = {nu})"),
                &e.eigenvalues,
                &reference.values,
                0.0,
                1e-5,
            );
        }
    }
}
