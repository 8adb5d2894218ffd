//! Criterion micro-benchmarks of the O(N²) stages, GPU path (`gpu_*`) against its CPU twin (`cpu_*`) on
//! the same seeded mushroom geometry (N = 4000, D = r = 2): distance + kernel, one matvec, one block
//! product of 16 vectors (one pass of the block eigensolver), and one single-vector Lanczos restart
//! cycle of 30 steps. `cargo bench --bench micro`; the `gpu_*` group is skipped (and says so) without
//! an adapter. Times on a software adapter (lavapipe) show relative cost only.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use netmatch::backend::Device;
use netmatch::cpu::CpuDevice;
use netmatch::data::synthetic;
use netmatch::gpu::{GpuContext, GpuDevice};
use netmatch::pipeline::covariance::local_geometry;
use netmatch::pipeline::kernel::{EpsilonRule, GeometryF32, choose_epsilon, normalise};
use netmatch::rng::Rng;

const N: usize = 4000;

fn stages(c: &mut Criterion) {
    let data = synthetic::bursts_2d(N, 16, 0.01, 1.0, 0.6, 3, synthetic::mushroom).expect("data");
    let g = local_geometry(&data, &Default::default()).expect("geometry");
    let eps = choose_epsilon(&g, EpsilonRule::Auto, 0).expect("eps").eps;
    let gf = GeometryF32::from(&g);
    let mut rng = Rng::new(5);
    let x: Vec<f32> = (0..N).map(|_| rng.normal() as f32).collect();
    let x16: Vec<f32> = (0..N * 16).map(|_| rng.normal() as f32).collect();
    let mut devices: Vec<(&str, Box<dyn Device>)> = vec![("cpu", Box::new(CpuDevice::new()))];
    match GpuContext::shared() {
        Ok(ctx) => devices.push(("gpu", Box::new(GpuDevice::new(ctx)))),
        Err(e) => eprintln!("gpu_* skipped: no adapter ({e})"),
    }
    for (tag, mut dev) in devices {
        c.bench_function(&format!("{tag}_distance_kernel"), |b| {
            b.iter(|| dev.build_kernel(&gf, Some(eps)).expect("kernel"))
        });
        normalise(dev.as_mut(), 1.0).expect("normalise");
        c.bench_function(&format!("{tag}_matvec"), |b| b.iter(|| dev.matvec(&x).expect("matvec")));
        c.bench_function(&format!("{tag}_matmat16"), |b| b.iter(|| dev.matmat(&x16, 16).expect("matmat")));
        c.bench_function(&format!("{tag}_lanczos_cycle30"), |b| {
            b.iter(|| {
                dev.krylov_begin(30, &x).expect("begin");
                dev.krylov_expand(0, 30).expect("expand")
            })
        });
    }
}

criterion_group! {
    name = micro;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = stages
}
criterion_main!(micro);
