use ndarray::Axis;
use netmatch::suite::make_case;
use netmatch::transform::Krr;
fn main() {
    let fam = std::env::args().nth(1).unwrap_or("hidden_relu".into());
    let c = make_case(&fam, 0, 0, true).unwrap();
    let (oa, ob) = (&c.a.obs, &c.b.obs);
    let n = oa.nrows();
    let test: Vec<usize> = (0..n).step_by(5).collect();
    let train: Vec<usize> = (0..n).filter(|i| i % 5 != 0).collect();
    let m = Krr::fit(oa.select(Axis(0), &train).view(), ob.select(Axis(0), &train).view(), 7).unwrap();
    println!("h2 {} lambda {} val {}", m.h2, m.lambda, m.validation_rmse);
    let p = m.predict(oa.select(Axis(0), &test).view());
    let t = ob.select(Axis(0), &test);
    let mut errs: Vec<(f64, usize)> =
        (0..test.len()).map(|k| ((&p.row(k) - &t.row(k)).mapv(|v| v * v).sum().sqrt(), test[k])).collect();
    errs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let tot: f64 = errs.iter().map(|e| e.0 * e.0).sum();
    for e in errs.iter().take(8) {
        let i = e.1;
        let act_a = oa.row(i).iter().filter(|&&v| v > 0.0).count();
        let x = c.a.inputs.as_ref().unwrap().row(i).to_vec();
        println!("point {i} err {:.3} share {:.2} active A units {act_a} x {:?}", e.0, e.0 * e.0 / tot, x);
    }
    println!("rel rmse {}", netmatch::transform::relative_rmse(&p, &t.to_owned()));
}
