//! `netmatch bench embed`: the same seeded synthetic problem embedded on the GPU path and on the CPU
//! path in one run, with per-stage times, their ratio, matvec counts and the eigenvalue error of each
//! path against the float64 dense reference. Times on a software adapter (lavapipe) show correctness
//! and relative cost only; absolute GPU figures count on real hardware.

use serde_json::{Value, json};

use crate::backend::Device;
use crate::covariance::local_geometry;
use crate::cpu::{CpuDevice, reference};
use crate::data::synthetic;
use crate::embed::{EmbedParams, embed};
use crate::error::Result;
use crate::gpu::{GpuContext, GpuDevice};
use crate::kernel::{EpsilonRule, choose_epsilon};

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
}

fn max_rel_err(values: &[f64], reference: &[f64]) -> f64 {
    values.iter().zip(reference).map(|(v, r)| ((v - r) / r).abs()).fold(0.0, f64::max)
}

/// Runs the benchmark and returns its JSON record; progress goes to stderr.
pub fn bench_embed(p: &BenchParams) -> Result<Value> {
    let gpu = if p.cpu_only { None } else { Some(GpuContext::shared()?) };
    let mut rows = Vec::new();
    for &n in &p.sizes {
        eprintln!("[bench] N = {n}: generating mushroom data on [0,1]×[0,0.6] (M = {}, σ = 0.01)", p.m);
        let data = synthetic::bursts_2d(n, p.m, 0.01, 1.0, 0.6, p.seed, synthetic::mushroom)?;
        // One ε for both paths: the comparison is about the same matrix.
        let geom = local_geometry(&data, &Default::default())?;
        let eps = choose_epsilon(&geom, EpsilonRule::Auto, p.seed)?.eps;
        let params = EmbedParams { k: p.k, eps: EpsilonRule::Fixed(eps), seed: p.seed, ..Default::default() };
        let reference = if n <= p.reference_max_n {
            eprintln!("[bench] N = {n}: float64 dense reference");
            let t = std::time::Instant::now();
            let r = reference::embed(&geom, eps, params.alpha, p.k + 1)?;
            Some((r.values, t.elapsed().as_secs_f64()))
        } else {
            None
        };
        let mut paths = serde_json::Map::new();
        let mut totals = Vec::new();
        let mut devices: Vec<Box<dyn Device>> = Vec::new();
        if let Some(ctx) = &gpu {
            devices.push(Box::new(GpuDevice::new(ctx.clone())));
        }
        devices.push(Box::new(CpuDevice::new()));
        for mut dev in devices {
            eprintln!("[bench] N = {n}: {} path", dev.kind());
            let e = embed(&data, &params, dev.as_mut())?;
            let stages: serde_json::Map<String, Value> =
                e.timings.iter().map(|(s, t)| (s.to_string(), json!(t))).collect();
            let total: f64 = e
                .timings
                .iter()
                .filter(|(s, _)| matches!(*s, "kernel" | "normalise" | "eigensolve"))
                .map(|(_, t)| t)
                .sum();
            totals.push((dev.kind(), e.timings.clone()));
            paths.insert(
                dev.kind().to_string(),
                json!({
                    "adapter": e.adapter,
                    "seconds": stages,
                    "device_seconds": total,
                    "matvecs": e.info.matvecs,
                    "restarts": e.info.restarts,
                    "converged": e.info.converged,
                    "eigenvalues": e.eigenvalues,
                    "max_rel_eigenvalue_error": reference.as_ref().map(|(r, _)| max_rel_err(&e.eigenvalues, r)),
                }),
            );
        }
        let ratio = if totals.len() == 2 {
            let (g, c) = (&totals[0].1, &totals[1].1);
            let per: serde_json::Map<String, Value> = g
                .iter()
                .zip(c)
                .filter(|((s, _), _)| matches!(*s, "kernel" | "normalise" | "eigensolve"))
                .map(|((s, tg), (_, tc))| (s.to_string(), json!(tc / tg)))
                .collect();
            Some(Value::Object(per))
        } else {
            None
        };
        rows.push(json!({
            "n": n,
            "m": p.m,
            "k": p.k,
            "eps": eps,
            "rank": geom.rank,
            "paths": paths,
            "cpu_over_gpu": ratio,
            "reference_seconds": reference.as_ref().map(|r| r.1),
        }));
    }
    Ok(json!({ "benchmark": "embed", "rows": rows }))
}
