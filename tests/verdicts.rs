//! `netmatch bench verdicts --quick` as a test: one seeded pair per family with a known answer
//! (equivalent networks of intervals, circles, boxes of d = 2–4, a torus, hidden layers of 256–512
//! tanh/ReLU/GELU units, Jacobians, unequal M, remixes, units, float32; controls that are blind,
//! folded, doubled, constant on a region, scalar, shuffled or of another variable; losses confined to
//! part of the inputs — a fold, a constant zone, a blind zone; trained ReLU CNNs and their controls),
//! each through `compare` at its defaults. No false `equivalent`, no errors, at most one inconclusive, ≥ 92 %
//! right. The full suite (3 per family) and its figures are in BENCHMARKS.md.

use netmatch::cpu::CpuDevice;
use netmatch::pipeline::verdict::Verdict;
use netmatch::suite::{SuiteParams, run, summary, table};

#[test]
fn quick_verdict_suite() {
    let p = SuiteParams::quick(0);
    let t = std::time::Instant::now();
    let results = run(&p, &mut CpuDevice::new(), &mut |r| {
        println!("{:<22} {:<15} → {:?} ({:.1} s)", r.family, r.truth.as_str(), r.verdict, r.seconds)
    })
    .unwrap();
    let s = summary(&results, &p, t.elapsed().as_secs_f64());
    print!("{}", table(&s));
    let false_eq = results.iter().filter(|r| r.truth != Verdict::Equivalent && r.verdict == Ok(Verdict::Equivalent));
    assert_eq!(false_eq.count(), 0, "a control was called equivalent");
    assert_eq!(
        s["errors"],
        0,
        "errors: {:?}",
        results.iter().filter_map(|r| r.verdict.as_ref().err()).collect::<Vec<_>>()
    );
    assert!(s["inconclusive"].as_u64().unwrap() <= 1, "inconclusive: {}", s["inconclusive"]);
    assert!(s["accuracy"].as_f64().unwrap() >= 0.92, "accuracy {}", s["accuracy"]);
    assert_eq!(s["cases"], netmatch::suite::FAMILIES.len());
    // Every loss confined to part of the inputs is found as a region, on the network that loses it.
    for r in results.iter().filter(|r| r.family.starts_with("ctl_partial")) {
        let regions = &r.report.as_ref().expect("a report")["local"]["regions"];
        assert!(
            regions.as_array().is_some_and(|v| v.iter().any(|g| g["network"] == "B")),
            "{}: no region of B: {regions}",
            r.family
        );
    }
}
