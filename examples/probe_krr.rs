use netmatch::data::synthetic;
use netmatch::transform::{Krr, cross_validated_rmse};
fn main() {
    let (a, b) = synthetic::tanh_pair(false, 1500, 0).unwrap();
    let t = std::time::Instant::now();
    let m = Krr::fit(a.obs.view(), b.obs.view(), 1).unwrap();
    println!("fit {:.3} s (h2 {}, λ {})", t.elapsed().as_secs_f64(), m.h2, m.lambda);
    let t = std::time::Instant::now();
    let _ = m.refit(a.obs.view(), b.obs.view(), 2).unwrap();
    println!("refit {:.3} s", t.elapsed().as_secs_f64());
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let _ = m.predict(a.obs.view());
        println!("predict 1500 {:.3} s", t.elapsed().as_secs_f64());
    }
    let t = std::time::Instant::now();
    let _ = cross_validated_rmse(a.obs.view(), b.obs.view(), 5, 3).unwrap();
    println!("cv {:.3} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let e = netmatch::dense::sym_eig(&vec![1.0; 400 * 400], 400).unwrap();
    println!("eig400 {:.3} s {}", t.elapsed().as_secs_f64(), e.values[0]);
}
#[allow(dead_code)]
fn unused() {}
