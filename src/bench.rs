//! Benchmarks. `netmatch bench embed`: the same seeded synthetic problem embedded on the GPU path and
//! on the CPU path in one run, with per-stage times, their ratio, matvec counts and the eigenvalue
//! error of each path against the float64 dense reference. `peers-export` / `peers-run`: the problems
//! and netmatch's timings for the Python peer runner (`benches/peers/run.sh`). Times on a software
//! adapter (lavapipe) show correctness and relative cost only; absolute GPU figures count on real
//! hardware.

use serde_json::{Value, json};

use crate::backend::{Device, KernelMethod, Precision};
use crate::cpu::CpuDevice;
use crate::data::synthetic;
use crate::error::Result;
use crate::gpu::{GpuContext, GpuDevice};
use crate::observe::Observe;
use crate::pipeline::covariance::local_geometry;
use crate::pipeline::embed::Storage;
use crate::pipeline::embed::{EmbedParams, embed};
use crate::pipeline::kernel::{EpsilonRule, choose_epsilon};
use crate::solve::block::Solver;
use crate::solve::reference;

/// Settings of the embed benchmark.
#[derive(Clone, Debug)]
pub struct BenchParams {
    /// Problem sizes.
    pub sizes: Vec<usize>,
    /// Burst size M.
    pub m: usize,
    /// Non-trivial coordinates k.
    pub k: usize,
    /// Compute the dense f64 reference up to this N.
    pub reference_max_n: usize,
    /// Seed.
    pub seed: u64,
    /// Skip the GPU path.
    pub cpu_only: bool,
    /// (D, r) configurations: D observed dimensions of a random tanh layer of r inputs; (2, 2) is the
    /// mushroom map.
    pub configs: Vec<(usize, usize)>,
    /// Dense kernel precisions, each run on both paths (JSON keys `gpu`/`cpu` for f32,
    /// `gpu_f16`/`cpu_f16` for f16).
    pub precisions: Vec<Precision>,
    /// Kernel methods, each run on both paths; with more than one, the keys end in `_gemm` /
    /// `_pairwise` and the row reports `pairwise_over_gemm` per path.
    pub kernels: Vec<KernelMethod>,
    /// Exact Jacobians of the tanh layer instead of bursts (the large-D case: no N×M×D bursts).
    pub jacobians: bool,
    /// ν of the local geometry ([`crate::pipeline::covariance::CovarianceParams::normal_weight`]).
    pub normal_weight: f64,
    /// Also write each problem's f32 geometry (`obs` N×D, `factors` N×D×r, `eps`) as
    /// `geometry_<N>_<D>x<r>.npz` here, for the numpy kernel build (`benches/peers/kernel_numpy.py`).
    pub export: Option<std::path::PathBuf>,
    /// Where each problem and path is announced as it starts.
    pub observe: Observe,
}

fn max_rel_err(values: &[f64], reference: &[f64]) -> f64 {
    values.iter().zip(reference).map(|(v, r)| ((v - r) / r).abs()).fold(0.0, f64::max)
}

/// Runs the benchmark and returns its JSON record; each step is announced to `p.observe`.
pub fn bench_embed(p: &BenchParams) -> Result<Value> {
    let gpu = if p.cpu_only { None } else { Some(GpuContext::shared()?) };
    let mut rows = Vec::new();
    for &(dim, r) in &p.configs {
        for &n in &p.sizes {
            let data = if (dim, r) == (2, 2) {
                p.observe.detail(|| {
                    format!("[bench] N = {n}, (D, r) = (2, 2): mushroom data on [0,1]×[0,0.6] (M = {}, σ = 0.01)", p.m)
                });
                synthetic::bursts_2d(n, p.m, 0.01, 1.0, 0.6, p.seed, synthetic::mushroom)?
            } else if p.jacobians {
                p.observe
                    .detail(|| format!("[bench] N = {n}, (D, r) = ({dim}, {r}): random tanh layer, exact Jacobians"));
                synthetic::tanh_layer_jacobians_r(n, dim, r, p.seed)?
            } else {
                p.observe.detail(|| {
                    format!("[bench] N = {n}, (D, r) = ({dim}, {r}): random tanh layer (M = {}, σ = 0.01)", p.m)
                });
                synthetic::tanh_layer_bursts_r(n, p.m, dim, r, 0.01, p.seed)?
            };
            // One ε for both paths: the comparison is about the same matrix.
            let covariance =
                crate::pipeline::covariance::CovarianceParams { normal_weight: p.normal_weight, ..Default::default() };
            let geom = local_geometry(&data, &covariance)?;
            let eps = choose_epsilon(&geom, EpsilonRule::Auto, p.seed)?.eps;
            if let Some(dir) = &p.export {
                export_geometry(dir, &geom, eps)?;
            }
            let params = EmbedParams {
                k: p.k,
                eps: EpsilonRule::Fixed(eps),
                covariance,
                seed: p.seed,
                storage: Storage::Dense,
                ..Default::default()
            };
            let reference = if n <= p.reference_max_n {
                p.observe.detail(|| format!("[bench] N = {n}: float64 dense reference"));
                let t = std::time::Instant::now();
                let r = reference::embed(&geom, eps, params.alpha, p.k + 1)?;
                Some((r.values, t.elapsed().as_secs_f64()))
            } else {
                None
            };
            let mut paths = serde_json::Map::new();
            let mut ratios = serde_json::Map::new();
            let mut by_kernel = serde_json::Map::new();
            for &precision in &p.precisions {
                for &kernel in &p.kernels {
                    let mut suffix = if precision == Precision::F32 { "" } else { "_f16" }.to_string();
                    if p.kernels.len() > 1 {
                        suffix += &format!("_{}", kernel.name());
                    }
                    let params = EmbedParams { precision: Some(precision), kernel, ..params.clone() };
                    let mut totals = Vec::new();
                    let mut devices: Vec<Box<dyn Device>> = Vec::new();
                    if let Some(ctx) = &gpu {
                        devices.push(Box::new(GpuDevice::new(ctx.clone())));
                    }
                    devices.push(Box::new(CpuDevice::new()));
                    for mut dev in devices {
                        p.observe.detail(|| {
                            format!(
                                "[bench] N = {n}: {} path, {} storage, {} kernel",
                                dev.kind(),
                                precision.name(),
                                kernel.name()
                            )
                        });
                        let e = embed(&data, &params, dev.as_mut())?;
                        let stages: serde_json::Map<String, Value> =
                            e.timings.iter().map(|(s, t)| (s.to_string(), json!(t))).collect();
                        let total: f64 = e
                            .timings
                            .iter()
                            .filter(|(s, _)| matches!(*s, "kernel" | "normalise" | "eigensolve"))
                            .map(|(_, t)| t)
                            .sum();
                        totals.push(e.timings.clone());
                        let key = format!("{}{suffix}", dev.kind());
                        by_kernel.insert(key.clone(), json!(stage(&e.timings, "kernel")));
                        paths.insert(
                            key,
                            json!({
                                "adapter": e.adapter,
                                "kernel": e.kernel,
                                "seconds": stages,
                                "device_seconds": total,
                                "matvecs": e.info.matvecs,
                                "passes": e.info.passes,
                                "solver": e.info.solver,
                                "storage": e.storage,
                                "restarts": e.info.restarts,
                                "converged": e.info.converged,
                                "eigenvalues": e.eigenvalues,
                                "max_rel_eigenvalue_error": reference.as_ref().map(|(r, _)| max_rel_err(&e.eigenvalues, r)),
                            }),
                        );
                    }
                    if totals.len() == 2 {
                        let (g, c) = (&totals[0], &totals[1]);
                        let per: serde_json::Map<String, Value> = g
                            .iter()
                            .zip(c)
                            .filter(|((s, _), _)| matches!(*s, "kernel" | "normalise" | "eigensolve"))
                            .map(|((s, tg), (_, tc))| (s.to_string(), json!(tc / tg)))
                            .collect();
                        ratios.insert(format!("{}{suffix}", precision.name()), Value::Object(per));
                    }
                }
            }
            // The kernel stage pair by pair over the products, per path and storage.
            let mut kernel_ratio = serde_json::Map::new();
            for (key, t) in &by_kernel {
                if let Some(base) = key.strip_suffix("_pairwise") {
                    let gemm = by_kernel.get(&format!("{base}_gemm")).and_then(Value::as_f64);
                    if let (Some(tp), Some(tg)) = (t.as_f64(), gemm) {
                        kernel_ratio.insert(base.to_string(), json!(tp / tg));
                    }
                }
            }
            let ratio = (!ratios.is_empty()).then_some(Value::Object(ratios));
            rows.push(json!({
                "n": n,
                "dim": dim,
                "m": p.m,
                "k": p.k,
                "eps": eps,
                "rank": geom.rank,
                "paths": paths,
                "cpu_over_gpu": ratio,
                "pairwise_over_gemm_kernel_stage": (!kernel_ratio.is_empty()).then_some(Value::Object(kernel_ratio)),
                "reference_seconds": reference.as_ref().map(|r| r.1),
            }));
        }
    }
    Ok(json!({ "benchmark": "embed", "rows": rows }))
}

fn stage(timings: &[(&'static str, f64)], name: &str) -> Option<f64> {
    timings.iter().find(|(s, _)| *s == name).map(|(_, t)| *t)
}

/// Writes the f32 geometry the kernel is built from (see [`BenchParams::export`]).
fn export_geometry(dir: &std::path::Path, geom: &crate::pipeline::covariance::LocalGeometry, eps: f64) -> Result<()> {
    use ndarray::{Array1, Array2, Array3};
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(dir, e))?;
    let (n, d, r) = (geom.n, geom.dim, geom.rank);
    let path = dir.join(format!("geometry_{n}_{d}x{r}.npz"));
    let obs = Array2::from_shape_vec((n, d), geom.obs.iter().map(|&v| v as f32).collect())
        .map_err(|e| crate::error::Error::Shape(e.to_string()))?;
    let factors = Array3::from_shape_vec((n, d, r), geom.factors.iter().map(|&v| v as f32).collect())
        .map_err(|e| crate::error::Error::Shape(e.to_string()))?;
    let normal = Array1::from_vec(geom.normal_weights.iter().map(|&v| v as f32).collect());
    crate::data::npz::write_atomic(&path, |w| {
        w.add_array("obs", &obs)?;
        w.add_array("factors", &factors)?;
        w.add_array("normal_weights", &normal)?;
        w.add_array("eps", &Array1::from_vec(vec![eps]))
    })
}

/// The peer comparison (`netmatch bench peers-export` / `peers-run`, driven by
/// `benches/peers/run.sh`): netmatch writes the problems the Python peers solve — the datafold
/// mushroom case with netmatch's own per-point metrics and ε, and α = 1 diffusion matrices S for
/// scipy's `eigsh` — and times its own paths on exactly those problems, one process per path so that
/// each peak RSS is that path's alone.
#[derive(Clone, Debug)]
pub struct PeerParams {
    /// Directory of the exchanged files.
    pub dir: std::path::PathBuf,
    /// N of the mushroom case (datafold's tutorial: 2500).
    pub mushroom_n: usize,
    /// Burst size of the mushroom case (datafold's tutorial: 100).
    pub mushroom_m: usize,
    /// N of the exported diffusion matrices.
    pub sizes: Vec<usize>,
    /// N of the exported sparse k-NN kernel (`sparse_<N>.npz`); 0 exports none.
    pub sparse_n: usize,
    /// Non-trivial eigenpairs wanted (the trivial one is added).
    pub k: usize,
    /// Relative residual tolerance of the eigen-solve.
    pub tol: f64,
    /// Seed of the data.
    pub seed: u64,
    /// Where each step is announced as it starts.
    pub observe: Observe,
}

/// Burst size of the data behind the exported matrices: the matrix is the object there, so the
/// covariances only need to be good enough for rank 2.
const MATRIX_BURSTS: usize = 10;

/// The seeded mushroom-square problem (N points, M burst samples each, σ = 0.01) the peers share.
pub fn mushroom_case(n: usize, m: usize, seed: u64) -> Result<crate::data::Observations> {
    synthetic::bursts_2d(n, m, 0.01, 1.0, 0.6, seed, synthetic::mushroom)
}

/// The peak resident set of this process (VmHWM), in bytes; `None` off Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Builds the α = 1 diffusion matrix S of the seeded N-point problem on `dev` (the matrix the peers
/// get): returns ε.
fn build_matrix(n: usize, seed: u64, dev: &mut dyn Device) -> Result<f64> {
    let data = mushroom_case(n, MATRIX_BURSTS, seed)?;
    let geom = local_geometry(&data, &Default::default())?;
    let eps = choose_epsilon(&geom, EpsilonRule::Auto, seed)?.eps;
    dev.build_kernel(&crate::backend::GeometryF32::from(&geom), Some(eps))?;
    crate::pipeline::kernel::normalise(dev, 1.0)?;
    Ok(eps)
}

/// Neighbours per point of the sparse peer problem (the `embed` default).
const SPARSE_K: usize = 32;

/// The sparse peer problem: the k-NN kernel (k = 32, k-NN ε rule) of the seeded mushroom data at N,
/// α-normalised, with its normalisation (the trivial vector). Returns (S, normalisation, ε, seconds).
fn build_sparse(
    n: usize,
    seed: u64,
) -> Result<(crate::backend::Csr, crate::pipeline::kernel::Normalisation, f64, f64)> {
    let data = mushroom_case(n, MATRIX_BURSTS, seed)?;
    let t = std::time::Instant::now();
    let geom = local_geometry(&data, &Default::default())?;
    let (mut csr, st) =
        crate::pipeline::sparse::knn_kernel(&geom, None, &crate::pipeline::sparse::SparseParams::with_k(SPARSE_K))?;
    let norm = crate::pipeline::sparse::normalise_csr(&mut csr, 1.0)?;
    Ok((csr, norm, st.eps, t.elapsed().as_secs_f64()))
}

/// Writes the stored N×N matrix of `dev` as a little-endian float32 `.npy`, streamed in row blocks
/// (no second copy in memory) through a temporary file that is renamed at the end.
fn write_matrix_npy(dev: &mut dyn Device, path: &std::path::Path) -> Result<()> {
    use std::io::Write;
    let n = dev.n();
    let tmp = path.with_extension("npy.tmp");
    let io = |e| crate::error::Error::io(&tmp, e);
    let result = (|| -> Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
        let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {n}), }}");
        // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        f.write_all(b"\x93NUMPY\x01\x00").map_err(io)?;
        f.write_all(&(header.len() as u16).to_le_bytes()).map_err(io)?;
        f.write_all(header.as_bytes()).map_err(io)?;
        let block = (1 << 24) / n.max(1);
        let mut row = 0;
        while row < n {
            let rows = block.max(1).min(n - row);
            let v = dev.read_rows(row, rows)?;
            f.write_all(bytemuck::cast_slice(&v)).map_err(io)?;
            row += rows;
        }
        f.flush().map_err(io)?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| crate::error::Error::io(path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes the peers' inputs into `p.dir`: `mushroom.npz` (`obs` N×2, `metrics` N×2×2 = U Uᵀ per point,
/// `eps` in netmatch's convention exp(−d²/ε), `eps_datafold` = ε/2 for datafold's exp(−d²/(2ε)),
/// `reference` = the float64 dense eigenvalues) and `S_<N>.npy` per size (float32, built on the CPU
/// path). Returns a JSON record of what it wrote.
pub fn peers_export(p: &PeerParams) -> Result<Value> {
    std::fs::create_dir_all(&p.dir).map_err(|e| crate::error::Error::io(&p.dir, e))?;
    p.observe.detail(|| format!("[peers] mushroom case: N = {}, M = {}, σ = 0.01", p.mushroom_n, p.mushroom_m));
    let data = mushroom_case(p.mushroom_n, p.mushroom_m, p.seed)?;
    let geom = local_geometry(&data, &Default::default())?;
    let eps = choose_epsilon(&geom, EpsilonRule::Auto, p.seed)?.eps;
    let (n, dim, r) = (geom.n, geom.dim, geom.rank);
    let metrics = ndarray::Array3::from_shape_fn((n, dim, dim), |(i, a, b)| {
        let u = geom.factor(i);
        (0..r).map(|s| u[a * r + s] * u[b * r + s]).sum::<f64>()
    });
    p.observe.detail(|| "[peers] mushroom case: float64 dense reference".to_string());
    let reference = reference::embed(&geom, eps, 1.0, p.k + 1)?.values;
    crate::data::npz::write_atomic(&p.dir.join("mushroom.npz"), |w| {
        w.add_array("obs", &data.obs)?;
        w.add_array("metrics", &metrics)?;
        w.add_array("eps", &ndarray::arr0(eps))?;
        w.add_array("eps_datafold", &ndarray::arr0(eps / 2.0))?;
        w.add_array("reference", &ndarray::Array1::from(reference.clone()))?;
        Ok(())
    })?;
    let mut matrices = Vec::new();
    for &n in &p.sizes {
        p.observe.detail(|| format!("[peers] S at N = {n}: building on the CPU path and writing S_{n}.npy"));
        let mut dev = CpuDevice::new();
        let eps = build_matrix(n, p.seed, &mut dev)?;
        write_matrix_npy(&mut dev, &p.dir.join(format!("S_{n}.npy")))?;
        matrices.push(json!({"n": n, "eps": eps, "file": format!("S_{n}.npy")}));
    }
    let sparse = if p.sparse_n > 0 {
        let n = p.sparse_n;
        p.observe.detail(|| format!("[peers] sparse k-NN kernel at N = {n}, k = {SPARSE_K}: writing sparse_{n}.npz"));
        let (csr, _, eps, _) = build_sparse(n, p.seed)?;
        let file = format!("sparse_{n}.npz");
        crate::data::npz::write_atomic(&p.dir.join(&file), |w| {
            w.add_array("indptr", &ndarray::Array1::from(csr.indptr.iter().map(|&v| v as i64).collect::<Vec<_>>()))?;
            w.add_array("indices", &ndarray::Array1::from(csr.indices.iter().map(|&v| v as i32).collect::<Vec<_>>()))?;
            w.add_array("data", &ndarray::Array1::from(csr.values.clone()))?;
            Ok(())
        })?;
        Some(json!({"n": n, "k": SPARSE_K, "eps": eps, "nnz": csr.nnz(), "file": file}))
    } else {
        None
    };
    Ok(json!({"mushroom": {"n": p.mushroom_n, "m": p.mushroom_m, "eps": eps, "rank": r, "reference": reference},
              "matrices": matrices, "sparse": sparse}))
}

/// What one `peers-run` process times.
#[derive(Clone, Copy, Debug)]
pub enum PeerTask {
    /// The mushroom case end to end (bursts → covariances → kernel → normalisation → eigenpairs), at the
    /// exported ε.
    Mushroom,
    /// The top k+1 eigenpairs of the α = 1 matrix S at this N (S is rebuilt from the same seeded data;
    /// on the CPU path it is bit for bit the exported one).
    Matrix(usize),
    /// The top k+1 eigenpairs of the exported sparse k-NN kernel (rebuilt bit for bit from the same
    /// seeded data), by the sparse path's default solve (shift-invert on the host).
    Sparse,
}

/// Times one task on `dev` with `solver` and returns its JSON record (time, matvecs, matrix passes, peak
/// RSS, eigenvalues).
pub fn peers_run(p: &PeerParams, task: PeerTask, solver: Solver, dev: &mut dyn Device) -> Result<Value> {
    let t0 = std::time::Instant::now();
    let (seconds, build_seconds, eig, n, eps) = match task {
        PeerTask::Mushroom => {
            let data = mushroom_case(p.mushroom_n, p.mushroom_m, p.seed)?;
            let geom = local_geometry(&data, &Default::default())?;
            let eps = choose_epsilon(&geom, EpsilonRule::Auto, p.seed)?.eps;
            let t = std::time::Instant::now();
            let params = EmbedParams {
                k: p.k,
                eps: EpsilonRule::Fixed(eps),
                tol: p.tol,
                seed: p.seed,
                solver,
                ..Default::default()
            };
            let e = embed(&data, &params, dev)?;
            let eig = crate::solve::lanczos::Eigenpairs { values: e.eigenvalues, vectors: Vec::new(), info: e.info };
            (t.elapsed().as_secs_f64(), None, eig, p.mushroom_n, eps)
        }
        PeerTask::Matrix(n) => {
            let eps = build_matrix(n, p.seed, dev)?;
            let build = t0.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let lp =
                crate::solve::lanczos::LanczosParams { nev: p.k + 1, tol: p.tol, seed: p.seed, ..Default::default() };
            let eig = crate::solve::block::eigensolve(dev, solver, &lp)?;
            (t.elapsed().as_secs_f64(), Some(build), eig, n, eps)
        }
        PeerTask::Sparse => {
            let (csr, norm, eps, build) = build_sparse(p.sparse_n, p.seed)?;
            let t = std::time::Instant::now();
            let bp = crate::solve::block::BlockParams { nev: p.k + 1, tol: p.tol, seed: p.seed, ..Default::default() };
            let trivial: Vec<f64> = norm.inv_sqrt_degree.iter().map(|d| 1.0 / d).collect();
            let eig = crate::solve::shift_invert::shift_invert(&csr, Some(&trivial), &bp)?;
            (t.elapsed().as_secs_f64(), Some(build), eig, p.sparse_n, eps)
        }
    };
    Ok(json!({
        "task": match task {
            PeerTask::Mushroom => "mushroom",
            PeerTask::Matrix(_) => "matrix",
            PeerTask::Sparse => "sparse",
        },
        "n": n,
        "eps": eps,
        "path": dev.kind(),
        "adapter": dev.adapter(),
        "seconds": seconds,
        "build_seconds": build_seconds,
        "matvecs": eig.info.matvecs,
        "passes": eig.info.passes,
        "block": eig.info.block,
        "solver": eig.info.solver,
        "converged": eig.info.converged,
        "tol": p.tol,
        "eigenvalues": eig.values,
        "peak_rss_bytes": peak_rss_bytes(),
    }))
}
