//! `netmatch compare` end to end: the report directory (report.json against the README schema, real
//! PNG figures), every input route (.npz, .safetensors, .npy), exit codes, and bad input — clear
//! errors, non-zero exit, nothing written or overwritten.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use netmatch::data::{npz, safetensors, synthetic};
use netmatch::{LocalSource, Observations};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netmatch"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("netmatch-cmp-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], paths: &[(&str, &Path)]) -> (i32, String, String) {
    let mut c = bin();
    c.args(["compare", "--backend", "cpu", "--quiet"]).args(args);
    for (flag, p) in paths {
        c.arg(flag).arg(p);
    }
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// Decodes an 8-bit RGB PNG written by netmatch: (width, height, number of distinct colours).
fn png_info(path: &Path) -> (u32, u32, usize) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    let (mut w, mut h, mut idat) = (0, 0, Vec::new());
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(kind);
        hasher.update(data);
        assert_eq!(hasher.finalize(), crc, "bad CRC in {}", path.display());
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(&data[8..10], &[8, 2], "8-bit RGB");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
    assert_eq!(raw.len(), (h * (3 * w + 1)) as usize);
    let mut colours = std::collections::BTreeSet::new();
    for row in raw.chunks((3 * w + 1) as usize) {
        for px in row[1..].chunks(3) {
            colours.insert([px[0], px[1], px[2]]);
        }
    }
    (w, h, colours.len())
}

fn pair(blind: bool, n: usize) -> (Observations, Observations) {
    synthetic::tanh_pair(blind, n, 0).unwrap()
}

/// The full report from an .npz A and a .safetensors B; then the output directory is protected.
#[test]
fn report_directory_schema_figures_and_overwrite_protection() {
    let dir = tmpdir("report");
    let (a, b) = pair(false, 600);
    let (pa, pb) = (dir.join("a.npz"), dir.join("b.safetensors"));
    npz::write_observations(&pa, &a).unwrap();
    safetensors::write_observations(&pb, &b).unwrap();
    let out = dir.join("report");
    let (code, stdout, stderr) = run(&["--whitney-sweep", "--d", "2"], &[("--a", &pa), ("--b", &pb), ("--out", &out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("verdict: ") && stdout.contains("held-out RMSE T_AB"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    // The README schema: required keys and their types.
    assert!(["equivalent", "not_equivalent", "inconclusive"].contains(&report["verdict"].as_str().unwrap()));
    assert_eq!(report["schema_version"], 1);
    assert!(report["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    for key in ["rmse_ab", "rmse_ba", "baseline_direct_rmse_ab", "baseline_direct_rmse_ba"] {
        assert!(report["transform"][key].as_f64().is_some(), "transform.{key}");
    }
    for key in ["r2_ab", "r2_ba"] {
        assert!(report["transform"][key].as_array().is_some(), "transform.{key}");
    }
    for side in ["a", "b"] {
        assert!(report[side]["eigenvalues"].as_array().is_some_and(|v| v.len() == 11));
        assert!(report[side]["r_k"].as_array().is_some_and(|v| v.len() == 10));
        assert!(report[side]["selected"].as_array().is_some());
        assert!(report["inputs"][side]["source"].as_str().is_some());
    }
    for key in ["linear_cka", "procrustes_distance", "cca_mean_corr"] {
        assert!(report["similarity"][key].as_f64().is_some(), "similarity.{key}");
    }
    assert!(report["eps"].as_f64().is_some_and(|e| e > 0.0));
    assert!(report["backend"].as_str() == Some("cpu"));
    let sweep = report["whitney_sweep"].as_array().unwrap();
    assert_eq!(sweep.len(), 5, "q = 1 … 2d+1");
    assert!(sweep[0]["q"] == 1 && sweep[4]["q"] == 5);
    // Figures are real images of the run: several colours, not a blank canvas.
    for f in ["spectra.png", "embeddings.png", "r_k.png", "predicted_vs_true.png", "whitney.png"] {
        let (w, h, colours) = png_info(&out.join(f));
        assert!(w >= 600 && h >= 400 && colours >= 4, "{f}: {w}×{h}, {colours} colours");
    }
    // A second run into the same directory is refused and changes nothing.
    let before = std::fs::read(out.join("report.json")).unwrap();
    let (code, _, stderr) = run(&[], &[("--a", &pa), ("--b", &pb), ("--out", &out)]);
    assert_eq!(code, 1);
    assert!(stderr.contains("refusing to overwrite") && stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(out.join("report.json")).unwrap(), before);
    // --force replaces it.
    let (code, _, stderr) = run(&["--force"], &[("--a", &pa), ("--b", &pb), ("--out", &out)]);
    assert_eq!(code, 0, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// .npy files per array and `--neurons auto`; `--fail-unless-equivalent` exits 3 on the blind negative
/// control, and the report is written anyway.
#[test]
fn npy_input_and_fail_unless_equivalent() {
    let dir = tmpdir("npy");
    let (a, b) = pair(true, 500);
    let save = |name: &str, o: &Observations| -> (PathBuf, PathBuf) {
        let (po, pb) = (dir.join(format!("{name}_obs.npy")), dir.join(format!("{name}_bursts.npy")));
        ndarray_npy::write_npy(&po, &o.obs).unwrap();
        match &o.local {
            LocalSource::Bursts(x) => ndarray_npy::write_npy(&pb, x).unwrap(),
            LocalSource::Jacobians(_) => unreachable!(),
        }
        (po, pb)
    };
    let ((ao, ab), (bo, bb)) = (save("a", &a), save("b", &b));
    let out = dir.join("report");
    let paths = [("--a-obs", &ao), ("--a-bursts", &ab), ("--b-obs", &bo), ("--b-bursts", &bb), ("--out", &out)];
    let paths: Vec<(&str, &Path)> = paths.iter().map(|(f, p)| (*f, p.as_path())).collect();
    let (code, stdout, stderr) = run(&["--a-sigma", "0.01", "--b-sigma", "0.01", "--fail-unless-equivalent"], &paths);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict: NOT_EQUIVALENT"), "{stdout}");
    assert!(out.join("report.json").exists(), "the report is written whatever the verdict");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad input: a clear message, exit 1, and no report directory content.
#[test]
fn bad_input_is_refused_clearly() {
    let dir = tmpdir("bad");
    let (a, b) = pair(false, 300);
    let pa = dir.join("a.npz");
    npz::write_observations(&pa, &a).unwrap();
    let mut cases: Vec<(&str, PathBuf, &str)> = Vec::new();
    // Different N.
    let short = Observations::new(
        b.obs.slice(ndarray::s![..200, ..]).to_owned(),
        match &b.local {
            LocalSource::Bursts(x) => LocalSource::Bursts(x.slice(ndarray::s![..200, .., ..]).to_owned()),
            LocalSource::Jacobians(_) => unreachable!(),
        },
        b.sigma,
        None,
    )
    .unwrap();
    let p = dir.join("short.npz");
    npz::write_observations(&p, &short).unwrap();
    cases.push(("different N", p, "same base inputs"));
    // A NaN in the observations.
    let p = dir.join("nan.npz");
    let mut obs = b.obs.clone();
    obs[[7, 3]] = f64::NAN;
    npz::write_atomic(&p, |w| {
        w.add_array("obs", &obs)?;
        if let LocalSource::Bursts(x) = &b.local {
            w.add_array("bursts", x)?;
        }
        Ok(())
    })
    .unwrap();
    cases.push(("NaN", p, "NaN"));
    // A constant network: bursts without spread (rank-0 covariance).
    let p = dir.join("constant.npz");
    let obs0 = ndarray::Array2::<f64>::from_elem((300, 4), 0.25);
    let bursts0 = ndarray::Array3::<f64>::from_elem((300, 8, 4), 0.25);
    npz::write_atomic(&p, |w| {
        w.add_array("obs", &obs0)?;
        w.add_array("bursts", &bursts0)?;
        Ok(())
    })
    .unwrap();
    cases.push(("constant network", p, "zero covariance"));
    // Mismatched keys.
    let p = dir.join("keys.npz");
    npz::write_atomic(&p, |w| w.add_array("activations", &b.obs)).unwrap();
    cases.push(("mismatched keys", p, "missing key `obs`"));
    // Too few base inputs for the comparison.
    let (ta, tb) = pair(false, 30);
    let (pta, ptb) = (dir.join("tiny_a.npz"), dir.join("tiny_b.npz"));
    npz::write_observations(&pta, &ta).unwrap();
    npz::write_observations(&ptb, &tb).unwrap();
    for (what, pbad, needle) in &cases {
        let out = dir.join(format!("out-{}", what.replace(' ', "-")));
        let (code, _, stderr) = run(&[], &[("--a", &pa), ("--b", pbad), ("--out", &out)]);
        assert_eq!(code, 1, "{what}: {stderr}");
        assert!(stderr.contains(needle), "{what}: expected `{needle}` in: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        let left = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "{what}: files left in the output directory");
    }
    let out = dir.join("out-tiny");
    let (code, _, stderr) = run(&[], &[("--a", &pta), ("--b", &ptb), ("--out", &out)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("at least 50"), "{stderr}");
    // A neuron count beyond D, and an unknown file type.
    let (code, _, stderr) = run(&["--neurons", "99"], &[("--a", &pa), ("--b", &pa), ("--out", &dir.join("o2"))]);
    assert_eq!(code, 1);
    assert!(stderr.contains("only D = 8"), "{stderr}");
    let txt = dir.join("a.txt");
    std::fs::write(&txt, "x").unwrap();
    let (code, _, stderr) = run(&[], &[("--a", &txt), ("--b", &pa), ("--out", &dir.join("o3"))]);
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown extension"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whitney's neuron pick skips dead, saturated and repeated neurons.
#[test]
fn neuron_pick_skips_dead_saturated_and_repeated() {
    let x = synthetic::uniform_box(400, &[1.0], 5);
    let o = ndarray::Array2::from_shape_fn((400, 6), |(i, c)| {
        let t = x[[i, 0]];
        match c {
            0 => 0.3,                   // dead
            1 => (t * 8.0).sin(),       // live, large variance
            2 => 2.0 * (t * 8.0).sin(), // a multiple of 1: repeats it
            3 => {
                if t < 0.5 {
                    -1.0
                } else {
                    1.0
                }
            } // saturated switch
            4 => (2.0 * t - 1.0).tanh(), // live
            _ => t * t,                 // live
        }
    });
    let pk = netmatch::pipeline::whitney::pick_neurons(&o, 3).unwrap();
    assert_eq!(pk.dead, vec![0]);
    assert_eq!(pk.saturated, vec![3]);
    assert_eq!(pk.picked.len(), 3);
    assert!(pk.picked.contains(&4) && pk.picked.contains(&5), "{:?}", pk.picked);
    assert!(!(pk.picked.contains(&1) && pk.picked.contains(&2)), "picked a repeat: {:?}", pk.picked);
}
