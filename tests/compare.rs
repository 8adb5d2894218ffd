//! Tests of the comparison pipeline (steps 6–9) on seeded synthetic observation pairs.

use netmatch::cpu::CpuDevice;
use netmatch::data::synthetic;
use netmatch::pipeline::embed::{EmbedParams, embed};
use netmatch::pipeline::select;
use netmatch::testing::corr;

/// On [0,1]×[0,0.6] the r_k curve keeps cos(πx₁) and cos(πx₂/0.6) and rejects their harmonics.
#[test]
fn local_regression_keeps_modes_and_rejects_harmonics() {
    let data = synthetic::bursts_2d(2000, 32, 0.01, 1.0, 0.6, 8, synthetic::mushroom).unwrap();
    let e = embed(&data, &EmbedParams { k: 8, ..Default::default() }, &mut CpuDevice::new()).unwrap();
    let r = select::residuals(&e.coords, 0).unwrap();
    let x = data.inputs.as_ref().unwrap();
    let pi = std::f64::consts::PI;
    let f1: Vec<f64> = x.column(0).iter().map(|v| (pi * v).cos()).collect();
    let f2: Vec<f64> = x.column(1).iter().map(|v| (pi * v / 0.6).cos()).collect();
    let h1: Vec<f64> = x.column(0).iter().map(|v| (2.0 * pi * v).cos()).collect();
    let best = |f: &[f64]| {
        (1..e.coords.ncols())
            .max_by(|&a, &b| {
                corr(&e.coords.column(a).to_vec(), f).abs().total_cmp(&corr(&e.coords.column(b).to_vec(), f).abs())
            })
            .unwrap()
    };
    let (c1, c2, ch) = (best(&f1), best(&f2), best(&h1));
    println!("r_k = {r:.3?}; cos πx1 → ψ{c1}, cos πx2/0.6 → ψ{c2}, cos 2πx1 → ψ{ch}");
    let keep = select::choose(&r, Some(2), 0.9);
    assert_eq!(keep, {
        let mut v = vec![c1, c2];
        v.sort();
        v
    });
    assert!(r[ch - 1] < 0.3, "harmonic ψ{ch} has r = {}", r[ch - 1]);
}

use netmatch::pipeline::compare::{CompareParams, compare};
use netmatch::pipeline::verdict::Verdict;

fn pair_2d(uses_a: Vec<bool>, n: usize) -> (netmatch::Observations, netmatch::Observations) {
    synthetic::tanh_pair(!uses_a[1], n, 0).unwrap()
}

#[test]
fn two_injective_maps_of_the_same_input_are_equivalent() {
    let (a, b) = pair_2d(vec![true, true], 1500);
    let c = compare(&a, &b, &CompareParams { verbose: true, ..Default::default() }, &mut CpuDevice::new()).unwrap();
    println!("{}", serde_json::to_string_pretty(&c.to_json(&CompareParams::default())).unwrap());
    assert_eq!(c.verdict, Verdict::Equivalent, "{:?}", c.reasons);
    assert!(c.rmse.0 <= 0.02 && c.rmse.1 <= 0.02, "{:?}", c.rmse);
}

#[test]
fn a_network_blind_to_x2_is_not_equivalent() {
    let (a, b) = pair_2d(vec![true, false], 1500);
    let c = compare(&a, &b, &CompareParams::default(), &mut CpuDevice::new()).unwrap();
    println!("{}", serde_json::to_string_pretty(&c.to_json(&CompareParams::default())).unwrap());
    assert_eq!(c.verdict, Verdict::NotEquivalent, "{:?}", c.reasons);
    // The burst design says d = 2 for both; A's bursts read one direction, and its neighbourhoods
    // merge inputs B tells apart: a region of A's that ignores an input direction.
    use netmatch::pipeline::local::{Loss, Network};
    assert!(
        c.regions.iter().any(|r| r.network == Network::A && r.loss == Loss::LosesDirection && r.fraction > 0.5),
        "{:?}",
        c.regions
    );
    assert!(c.regions.iter().all(|r| r.network == Network::A || r.fraction < 0.05), "B is injective: {:?}", c.regions);
    assert!(c.reasons.iter().any(|r| r.contains("T_AB through the intrinsic coordinates")), "{:?}", c.reasons);
}

/// A loss confined to part of the inputs: B folds x₁ > 0.8 back onto [0.6, 0.8]. The verdict is
/// `not_equivalent` from a region of B's placed at x₁ ≳ 0.6, A loses nothing, and every reason is
/// labelled.
#[test]
fn a_fold_on_part_of_the_inputs_is_a_region_where_it_is() {
    use netmatch::pipeline::local::Network;
    let (a, b) = synthetic::tanh_pair_folded(1500, 0).unwrap();
    let c = compare(&a, &b, &CompareParams::default(), &mut CpuDevice::new()).unwrap();
    println!("{:?} {:#?}", c.verdict, c.reasons);
    assert_eq!(c.verdict, Verdict::NotEquivalent, "{:?}", c.reasons);
    let x = a.inputs.as_ref().unwrap();
    let lost: Vec<usize> =
        c.local.regions.iter().filter(|r| r.network == Network::B).flat_map(|r| r.points.clone()).collect();
    assert!(lost.len() as f64 > 0.2 * 1500.0, "{} points", lost.len());
    assert!(lost.iter().all(|&i| x[[i, 0]] > 0.55), "a point of the region lies outside the fold");
    assert!(c.local.regions.iter().all(|r| r.network == Network::B), "A is injective: {:?}", c.regions);
    assert!(c.regions[0].place.as_deref().is_some_and(|p| p.starts_with("x₁ ∈ [0.")), "{:?}", c.regions[0].place);
    assert!(c.reasons[0].starts_with("evidence: B loses information on a region"), "{:?}", c.reasons);
    for r in &c.reasons {
        assert!(["evidence: ", "explanation: ", "caveat: "].iter().any(|l| r.starts_with(l)), "unlabelled: {r}");
    }
    // Per point: the disagreement is high inside the fold and zero on the untouched half.
    let dis = c.local.disagreement();
    let mean = |keep: &dyn Fn(f64) -> bool| {
        let v: Vec<f64> = (0..1500).filter(|&i| keep(x[[i, 0]])).map(|i| dis[i]).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(
        mean(&|x1| x1 > 0.85) > 0.3 && mean(&|x1| x1 < 0.4) < 0.01,
        "{} {}",
        mean(&|x1| x1 > 0.85),
        mean(&|x1| x1 < 0.4)
    );
}

/// Experiment (a) in miniature: a nonmonotonic scalar output alone folds the input (flagged as not
/// injective); the output plus two hidden neurons (q = 2d+1 = 3) is an embedding and compares
/// equivalent to another network's three neurons.
#[test]
fn scalar_output_alone_is_not_injective_but_three_neurons_are() {
    let x = synthetic::uniform_box(1200, &[1.0], 31);
    let f = |t: f64| (2.0 * std::f64::consts::PI * t).sin() + t / 2.0;
    let a1 = synthetic::observe(&x, 64, 0.005, 1, 3, move |v, o| o[0] = f(v[0])).unwrap();
    let a3 = synthetic::observe(&x, 64, 0.005, 3, 3, move |v, o| {
        o[0] = f(v[0]);
        o[1] = (2.0 * v[0] - 1.0).tanh();
        o[2] = (0.3 - 1.2 * v[0]).tanh();
    })
    .unwrap();
    let b3 = synthetic::observe(&x, 64, 0.005, 3, 4, move |v, o| {
        o[0] = f(v[0]);
        o[1] = (1.5 * v[0] - 0.7).tanh();
        o[2] = (0.4 - 2.0 * v[0]).tanh();
    })
    .unwrap();
    let p = CompareParams { d: Some(1), ..Default::default() };
    let folded = compare(&a1, &b3, &p, &mut CpuDevice::new()).unwrap();
    println!(
        "A1 vs B3: {:?} {:?} rmse {:?} input {:?}",
        folded.verdict, folded.reasons, folded.rmse, folded.input_rmse
    );
    assert_eq!(folded.verdict, Verdict::NotEquivalent);
    assert!(folded.reasons.iter().any(|r| r.contains("not injective")), "{:?}", folded.reasons);
    let good = compare(&a3, &b3, &p, &mut CpuDevice::new()).unwrap();
    println!("A3 vs B3: {:?} {:?} rmse {:?}", good.verdict, good.reasons, good.rmse);
    assert_eq!(good.verdict, Verdict::Equivalent, "{:?}", good.reasons);
}

/// The intrinsic dimension comes from the bursts, whatever the ε rule: a fixed `--eps` used to leave
/// d at a silent default of 1.
#[test]
fn a_fixed_eps_reports_d_from_the_bursts() {
    let (mut a, mut b) = pair_2d(vec![true, true], 800);
    // Without the declared burst design, d is the bursts' (with it, the design's).
    assert_eq!((a.burst_dim, b.burst_dim), (Some(2), Some(2)));
    (a.burst_dim, b.burst_dim) = (None, None);
    let p = CompareParams { eps: netmatch::pipeline::kernel::EpsilonRule::Fixed(0.01), ..Default::default() };
    let c = compare(&a, &b, &p, &mut CpuDevice::new()).unwrap();
    assert_eq!(c.dims, (2, 2), "{:?}", c.reasons);
    assert_eq!(c.dim_sources, ("bursts", "bursts"));
    assert_eq!(c.verdict, Verdict::Equivalent, "{:?}", c.reasons);
}

/// d from the bursts by functional dependence on the shapes the ε slope got wrong: a circle (d = 1,
/// closed), a 3-D box and a strongly nonlinear 1-D network whose curvature sits close to its tangent.
#[test]
fn burst_rank_is_the_intrinsic_dimension() {
    use netmatch::pipeline::covariance::{CovarianceParams, local_geometry};
    use netmatch::suite::make_case;
    for (family, rep, d) in [("circle", 0, 1), ("box3", 0, 3), ("interval", 2, 1), ("torus", 0, 2)] {
        let case = make_case(family, rep, 11, true).unwrap();
        for (name, o) in [("A", &case.a), ("B", &case.b)] {
            let g = local_geometry(o, &CovarianceParams::default()).unwrap();
            println!("{family} {name}: rank {} histogram {:?}", g.rank, g.rank_histogram);
            assert_eq!(g.rank, d, "{family} {name}: {:?}", g.rank_histogram);
        }
    }
}

/// A network that is constant on a third of its inputs (a dead region) is evidence, not an error:
/// `not_equivalent`, with the blind fraction as the reason.
#[test]
fn a_network_constant_on_a_region_is_not_equivalent() {
    let case = netmatch::suite::make_case("ctl_constant_region", 0, 5, true).unwrap();
    let c = compare(&case.a, &case.b, &CompareParams::default(), &mut CpuDevice::new()).unwrap();
    println!("{:?} {:?} constant {:?}", c.verdict, c.reasons, c.constant);
    assert_eq!(c.verdict, Verdict::NotEquivalent, "{:?}", c.reasons);
    assert!(c.constant.0 > 0.15 && c.constant.1 == 0.0, "{:?}", c.constant);
    assert!(c.reasons.iter().any(|r| r.contains("locally constant")), "{:?}", c.reasons);
}
