//! The demo networks: tiny versions of the scalar and vector-field demos train in seconds and give
//! the demos' verdicts, the horse demo at its defaults gives its verdicts, and
//! on a trained network the burst covariance agrees with the autograd Jacobian's J Jᵀ to O(σ²).

use netmatch::cpu::CpuDevice;
use netmatch::data::{LocalSource, synthetic};
use netmatch::experiments::{DemoParams, HorseParams, horse, scalar, vector_field};
use netmatch::nn::{BurstDesign, Feature, Mlp, MlpSpec, Tap, TrainParams};
use netmatch::testing::check_close;

fn tiny(tag: &str, n: usize) -> DemoParams {
    let out = std::env::temp_dir().join(format!("netmatch-demo-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    DemoParams { out, n, train_n: 600, steps: 800, m: 32, force: true, verbose: false, ..Default::default() }
}

fn check(o: &netmatch::experiments::DemoOutcome) {
    print!("{}", netmatch::experiments::summary(o, std::path::Path::new("tmp")));
    for c in &o.comparisons {
        assert_eq!(c.verdict, c.expected, "{}: {:?}", c.name, c.reasons);
    }
}

#[test]
fn tiny_scalar_demo_gives_the_demo_verdicts() {
    let p = tiny("scalar", 500);
    let o = scalar(&p, &mut CpuDevice::new()).unwrap();
    check(&o);
    assert!(o.comparisons[0].reasons.iter().any(|r| r.contains("not injective")), "{:?}", o.comparisons[0].reasons);
    let sweep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.out.join("a3_vs_b3/report.json")).unwrap()).unwrap();
    assert_eq!(sweep["whitney_sweep"].as_array().map(|s| s.len()), Some(3), "q = 1 … 3");
    for f in ["a.safetensors", "b.safetensors", "c.safetensors", "a1.npz", "a3.npz", "b3.npz", "c3.npz"] {
        assert!(p.out.join(f).exists(), "{f} missing");
    }
    let _ = std::fs::remove_dir_all(&p.out);
}

#[test]
fn tiny_vector_field_demo_gives_the_demo_verdicts() {
    let p = tiny("vf", 1500);
    let o = vector_field(&p, &mut CpuDevice::new()).unwrap();
    check(&o);
    let (a, b) = o.comparisons[0].mode_corr.clone().unwrap();
    assert!(a.iter().chain(&b).all(|&c| c > 0.99), "modes {a:?} {b:?}");
    let _ = std::fs::remove_dir_all(&p.out);
}

/// The horse demo at its defaults (rendered on the CPU twin, embedded on the CPU): the pair of
/// convolutional networks is equivalent through its outputs and through hidden layers of ≥ 256 units,
/// and the doubled-angle control is not, against A's outputs and A's hidden layer. The same run as
/// `demo horse`, so it is the slowest test here (about 4 min on two cores).
#[test]
fn horse_demo_gives_the_demo_verdicts() {
    let p = DemoParams { verbose: false, force: true, ..DemoParams::horse() };
    let p = DemoParams { out: tiny("horse", p.n).out, ..p };
    let o = horse(&p, &HorseParams::default(), None, &mut CpuDevice::new()).unwrap();
    check(&o);
    let corr = |name: &str| -> f64 {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.out.join(name).join("report.json")).unwrap()).unwrap();
        r["alignment"]["abs_corr"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).fold(1.0, f64::min)
    };
    // The two embeddings are matching circles: the aligned cos/sin pair correlates almost perfectly.
    assert!(corr("a_vs_b") > 0.99, "a_vs_b |corr| {}", corr("a_vs_b"));
    for f in ["contact_sheet.png", "a.npz", "b.npz", "c.npz", "a_hidden.npz", "b_hidden.npz", "a_vs_b/embeddings.png"] {
        assert!(p.out.join(f).exists(), "{f} missing");
    }
    let names: Vec<&str> = o.comparisons.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a_vs_b", "a_vs_b_hidden", "a_hidden_vs_c", "a_vs_c"]);
    // The hidden layers compared are whole layers of at least 256 units.
    for f in ["a_hidden.npz", "b_hidden.npz"] {
        let d = netmatch::data::load(&p.out.join(f)).unwrap().dim();
        assert!(d >= 256, "{f}: D = {d}");
    }
    let _ = std::fs::remove_dir_all(&p.out);
}

/// A network that cannot reach its loss bound is an error naming the bound.
#[test]
fn untrained_network_is_an_error() {
    let x = synthetic::uniform_box(300, &[1.0], 1);
    let y = x.mapv(|v| (40.0 * v).sin());
    let mut net = Mlp::new(MlpSpec { inputs: 1, hidden: vec![4], outputs: 1, feature: Feature::Identity }, 1).unwrap();
    let e = net.train(&x, &y, &TrainParams { steps: 50, ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("did not reach its bound"), "{e}");
}

/// Bursts x ± √d σ e_k give C/σ² = J Jᵀ + O(σ²) (the curvature term): halving σ divides the
/// difference to the autograd Jacobian's J Jᵀ by about four.
#[test]
fn burst_and_jacobian_covariances_agree_to_second_order() {
    let xt = synthetic::uniform_box(800, &[1.0, 0.6], 2);
    let y = ndarray::Array2::from_shape_fn((800, 2), |(i, c)| synthetic::mushroom([xt[[i, 0]], xt[[i, 1]]])[c]);
    let mut net =
        Mlp::new(MlpSpec { inputs: 2, hidden: vec![16, 16], outputs: 2, feature: Feature::Identity }, 3).unwrap();
    net.train(&xt, &y, &TrainParams { steps: 600, max_val_rmse: 0.05, ..Default::default() }).unwrap();
    let x = synthetic::uniform_box(50, &[1.0, 0.6], 4);
    let tap = Tap { outputs: true, hidden: Some((1, vec![0, 5, 9])) };
    let jac = net.observe_jacobians(&x, &tap).unwrap();
    let LocalSource::Jacobians(j) = &jac.local else { unreachable!() };
    let dim = j.shape()[1];
    let jjt: Vec<f64> = (0..50)
        .flat_map(|i| {
            (0..dim * dim).map(move |ab| (0..2).map(|k| j[[i, ab / dim, k]] * j[[i, ab % dim, k]]).sum::<f64>())
        })
        .collect();
    let scale = jjt.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = |sigma: f64| -> f64 {
        let b = net.observe_bursts(&x, &tap, 0, sigma, BurstDesign::Axes, 0).unwrap();
        let LocalSource::Bursts(bu) = &b.local else { unreachable!() };
        let m = bu.shape()[1];
        let cov: Vec<f64> = (0..50)
            .flat_map(|i| {
                (0..dim * dim).map(move |ab| {
                    let (p, q) = (ab / dim, ab % dim);
                    let (mp, mq) = (
                        (0..m).map(|s| bu[[i, s, p]]).sum::<f64>() / m as f64,
                        (0..m).map(|s| bu[[i, s, q]]).sum::<f64>() / m as f64,
                    );
                    (0..m).map(|s| (bu[[i, s, p]] - mp) * (bu[[i, s, q]] - mq)).sum::<f64>()
                        / m as f64
                        / (sigma * sigma)
                })
            })
            .collect();
        cov.iter().zip(&jjt).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale
    };
    let (e1, e2) = (err(0.02), err(0.01));
    println!("max |C/σ² − JJᵀ| / max|JJᵀ|: σ = 0.02 → {e1:.3e}, σ = 0.01 → {e2:.3e}, ratio {:.2}", e1 / e2);
    assert!(e1 < 1e-2, "{e1}");
    let ratio = e1 / e2;
    check_close("O(σ²) ratio", &[ratio], &[4.0], 1.5, 0.0).unwrap();
}
