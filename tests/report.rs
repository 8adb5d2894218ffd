//! What a comparison leaves on disk, read back as a user would: `report.npz` (the arrays behind the
//! figures), the figures as PNG and SVG, and `report.json` with its warnings; and the backend policy
//! that `auto` never computes on a software adapter.

use std::path::Path;
use std::process::Command;

use ndarray::{Array1, Array2};
use ndarray_npy::NpzReader;
use netmatch::backend::BackendChoice;

fn run_compare(out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_netmatch"))
        .args(["compare", "--synthetic", "equivalent", "--backend", "cpu", "--quiet", "--whitney-sweep", "--d", "2"])
        .arg("--out")
        .arg(out)
        .status()
        .expect("the binary runs");
    assert!(status.success(), "compare failed: {status}");
}

/// Width and height from a PNG's IHDR chunk (after checking the signature).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn report_npz_and_figures_are_written_and_read_back() {
    let dir = std::env::temp_dir().join(format!("netmatch-report-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run_compare(&dir);

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "equivalent");
    assert!(json["warnings"].is_array(), "report.json lists its warnings (possibly none)");
    // The typed schema reads the file back and writes it out again unchanged.
    let typed: netmatch::report::Report =
        serde_json::from_value(json.clone()).expect("report.json fits the typed schema");
    assert_eq!(typed.schema_version, netmatch::report::SCHEMA_VERSION);
    assert_eq!(typed.comparison.verdict, "equivalent");
    assert_eq!(serde_json::to_value(&typed).unwrap(), json, "typed round trip changed report.json");
    let n = json["n"].as_u64().unwrap() as usize;
    let k = json["parameters"]["k"].as_u64().unwrap() as usize;

    let mut npz = NpzReader::new(std::fs::File::open(dir.join("report.npz")).unwrap()).unwrap();
    let ev: Array1<f64> = npz.by_name("eigenvalues_a").unwrap();
    assert_eq!(ev.len(), k + 1);
    assert!((ev[0] - 1.0).abs() < 1e-3, "λ₀ of a normalised kernel is 1, got {}", ev[0]);
    let coords: Array2<f64> = npz.by_name("coords_b").unwrap();
    assert_eq!(coords.dim(), (n, k + 1));
    let rk: Array1<f64> = npz.by_name("r_k_a").unwrap();
    assert_eq!(rk.len(), k);
    let selected: Array1<i64> = npz.by_name("selected_a").unwrap();
    assert!(!selected.is_empty() && selected.iter().all(|&s| s >= 1 && s as usize <= k));
    let held: Array1<i64> = npz.by_name("held_out").unwrap();
    let pred: Array2<f64> = npz.by_name("predicted_b").unwrap();
    let truth: Array2<f64> = npz.by_name("true_b").unwrap();
    assert_eq!(pred.nrows(), held.len());
    assert_eq!(pred.dim(), truth.dim());
    // The stored predictions are the ones the report scores: their relative RMSE is rmse_ab.
    let err: f64 = (&pred - &truth).iter().map(|v| v * v).sum::<f64>();
    let mean = truth.mean_axis(ndarray::Axis(0)).unwrap();
    let spread: f64 = (&truth - &mean).iter().map(|v| v * v).sum::<f64>();
    let rmse = (err / spread).sqrt();
    let reported = json["transform"]["rmse_ab"].as_f64().unwrap();
    assert!((rmse - reported).abs() <= 1e-9 * reported, "RMSE from report.npz {rmse} vs report.json {reported}");
    // The held-out rows are the rows of o_B that `true_b` holds (the synthetic pair is seeded).
    let (_, b) = netmatch::data::synthetic::tanh_pair(false, 1500, 0).unwrap();
    let rows: Vec<usize> = held.iter().map(|&i| i as usize).collect();
    assert_eq!(b.obs.select(ndarray::Axis(0), &rows), truth);
    let q: Array1<f64> = npz.by_name("whitney_q").unwrap();
    assert!(!q.is_empty(), "the sweep's arrays are written with --whitney-sweep");

    for stem in ["spectra", "embeddings", "r_k", "predicted_vs_true", "whitney"] {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        let (w, h) = png_size(&png);
        assert!(w >= 600 && h >= 400, "{stem}.png is {w}×{h}");
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{stem}.svg is an SVG document");
    }
    let emb = std::fs::read_to_string(dir.join("embeddings.svg")).unwrap();
    assert!(emb.contains("Embedding of A") && emb.contains('ψ'), "axis labels carry Greek letters");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn auto_never_computes_on_a_software_adapter() {
    let (dev, note) = netmatch::open(BackendChoice::Auto).unwrap();
    match netmatch::gpu::GpuContext::shared() {
        Ok(ctx) if ctx.is_software() => {
            assert_eq!(dev.kind(), "cpu", "auto chose {} on {}", dev.kind(), ctx.describe());
            assert!(note.is_some_and(|n| n.contains("software adapter")));
        }
        Ok(_) => assert_eq!(dev.kind(), "gpu"),
        Err(_) => {
            assert_eq!(dev.kind(), "cpu");
            assert!(note.is_some_and(|n| n.contains("no GPU adapter")));
        }
    }
    // `gpu` computes on whatever adapter there is.
    if let Ok(ctx) = netmatch::gpu::GpuContext::shared() {
        let (dev, _) = netmatch::open(BackendChoice::Gpu).unwrap();
        assert_eq!(dev.kind(), "gpu", "gpu refused {}", ctx.describe());
    }
}
