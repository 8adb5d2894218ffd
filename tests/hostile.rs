//! Hostile and broken inputs, as an adversarial user would try them: crafted `.npy`, `.npz` and
//! `.safetensors` files (huge declared shapes, overflowing products, truncation, corrupt checksums and
//! streams, zip bombs, overlapping byte ranges, wrong dtypes, links to devices, directories), values out
//! of range, and out-of-range or mistyped flags on every command. Every case runs the binary under a
//! 4 GiB address-space limit and asserts: the exit code (1 for bad input, 2 for usage), a message that
//! names the real cause, no panic or abort, and no leftover (no output directory, nothing new beside the
//! inputs). All files are written at test time into a temporary directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array2, Array3, ArrayD};
use netmatch::data::{npz, safetensors, synthetic};
use netmatch::testing::{npy_bytes, npy_raw};
use netmatch::{LocalSource, Observations};

/// Address-space limit of every run, KiB (4 GiB).
const VMEM_KIB: u64 = 4 << 20;

struct Case {
    name: String,
    args: Vec<String>,
    /// Expected exit code.
    code: i32,
    /// Substrings (case-insensitive) the stderr must contain: the cause, in words.
    needles: Vec<String>,
    /// Extra shell limit (e.g. `ulimit -f 16`); the run may then be killed, and only the absence of
    /// a finished-looking output is checked.
    shell_limit: Option<&'static str>,
}

/// A command line as its words (no argument here holds a space).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn case(name: &str, args: &[&str], code: i32, needles: &[&str]) -> Case {
    Case {
        name: name.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        needles: needles.iter().map(|s| s.to_string()).collect(),
        shell_limit: None,
    }
}

// ---------------------------------------------------------------- file builders

fn f64_bytes(v: impl IntoIterator<Item = f64>) -> Vec<u8> {
    v.into_iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn npy_of(a: &ArrayD<f64>) -> Vec<u8> {
    let shape = match a.shape() {
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")),
    };
    npy_bytes("<f8", false, &shape, &f64_bytes(a.iter().copied()))
}

/// A zip archive of raw members (name, bytes, deflate?).
fn zip_of(members: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes, deflate) in members {
        let method = if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
        w.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn safetensors_of(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)], offsets: Option<Vec<[usize; 2]>>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (k, (name, dtype, shape, bytes)) in tensors.iter().enumerate() {
        let start = data.len();
        data.extend_from_slice(bytes);
        let offs = offsets.as_ref().map_or([start, data.len()], |o| o[k]);
        header.insert(name.to_string(), serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": offs}));
    }
    safetensors_raw(&serde_json::to_vec(&serde_json::Value::Object(header)).unwrap(), &data)
}

fn safetensors_raw(header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out
}

/// A small valid network observation set (N = 120, D = 3, bursts M = 6).
fn good() -> Observations {
    synthetic::tanh_layer_bursts(120, 6, 3, 0.01, 7).unwrap()
}

fn bursts_of(o: &Observations) -> &Array3<f64> {
    match &o.local {
        LocalSource::Bursts(b) => b,
        LocalSource::Jacobians(_) => unreachable!("bursts"),
    }
}

/// Replaces the uncompressed size of every zip entry named `name` (local and central headers).
fn patch_zip_size(bytes: &mut [u8], name: &str, size: u32) {
    let n = name.as_bytes();
    for i in 0..bytes.len().saturating_sub(46) {
        let sig = u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        let (name_at, size_at) = match sig {
            0x0403_4b50 => (i + 30, i + 22),
            0x0201_4b50 => (i + 46, i + 24),
            _ => continue,
        };
        if bytes.get(name_at..name_at + n.len()) == Some(n) {
            bytes[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

// ---------------------------------------------------------------- the runner

struct Outcome {
    code: Option<i32>,
    stderr: String,
    stdout: String,
}

fn run_case(dir: &Path, c: &Case) -> Outcome {
    let limit = c.shell_limit.unwrap_or("true");
    let script = format!("ulimit -v {VMEM_KIB}; {limit}; exec \"$@\"");
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_netmatch"))
        .args(&c.args)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "2")
        .env("MALLOC_ARENA_MAX", "2")
        .env("RUST_BACKTRACE", "0")
        .env("NETMATCH_REQUIRE_GPU", "0")
        .output()
        .unwrap();
    Outcome {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir).iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

/// Runs every case in its own copy of the inputs; returns the failures.
fn check_all(root: &Path, inputs: &Path, cases: Vec<Case>) -> Vec<String> {
    let cases: Vec<(usize, Case)> = cases.into_iter().enumerate().collect();
    let threads = 2;
    let chunks: Vec<Vec<&(usize, Case)>> =
        (0..threads).map(|t| cases.iter().filter(|(i, _)| i % threads == t).collect()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for (i, c) in chunk {
                        let dir = root.join(format!("case-{i:03}"));
                        copy_dir(inputs, &dir);
                        let before = listing(&dir);
                        let o = run_case(&dir, c);
                        if let Some(f) = judge(&dir, c, &o, &before) {
                            failures.push(format!("[{}] {}: {f}\n  stderr: {}", i, c.name, o.stderr.trim()));
                        }
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

fn judge(dir: &Path, c: &Case, o: &Outcome, before: &[String]) -> Option<String> {
    let err = o.stderr.to_lowercase();
    for bad in ["panicked", "memory allocation of", "stack backtrace", "rust_backtrace", "core dumped"] {
        if err.contains(bad) {
            return Some(format!("crash: stderr contains `{bad}`"));
        }
    }
    let after = listing(dir);
    let new: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
    if c.shell_limit.is_some() {
        // Killed or failed half-way: nothing that looks like a result (only hidden staging may stay).
        let visible: Vec<&&String> = new.iter().filter(|p| !p.split('/').any(|part| part.starts_with('.'))).collect();
        if o.code == Some(0) {
            return Some("exit 0 under a write limit".into());
        }
        return (!visible.is_empty()).then(|| format!("left {visible:?}"));
    }
    match o.code {
        None => return Some("killed by a signal (abort, or memory above the limit)".into()),
        Some(code) if code != c.code => {
            return Some(format!("exit {code}, expected {}; stdout: {}", c.code, o.stdout.trim()));
        }
        _ => {}
    }
    for n in &c.needles {
        if !err.contains(&n.to_lowercase()) {
            return Some(format!("message lacks `{n}`"));
        }
    }
    if c.code != 0 && !new.is_empty() {
        return Some(format!("a failed run left {new:?}"));
    }
    None
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let meta = std::fs::symlink_metadata(&src).unwrap();
        if std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
            assert!(Command::new("mkfifo").arg(&dst).status().unwrap().success());
        } else if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if meta.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

// ---------------------------------------------------------------- the inputs

/// Writes every input file once; cases name them relative to their working directory.
fn make_inputs(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let g = good();
    let b = bursts_of(&g);
    let obs = g.obs.clone().into_dyn();
    let bursts = b.clone().into_dyn();
    npz::write_observations(&dir.join("good.npz"), &g).unwrap();
    let g2 = synthetic::tanh_layer_bursts(120, 6, 4, 0.01, 8).unwrap();
    npz::write_observations(&dir.join("good_b.npz"), &g2).unwrap();
    safetensors::write_observations(&dir.join("good.safetensors"), &g).unwrap();
    write(dir, "obs.npy", &npy_of(&obs));
    write(dir, "bursts.npy", &npy_of(&bursts));
    std::fs::create_dir_all(dir.join("a_directory.npz")).unwrap();
    std::fs::create_dir_all(dir.join("occupied")).unwrap();
    std::fs::write(dir.join("occupied/notes.txt"), b"mine").unwrap();
    std::fs::write(dir.join("a_file"), b"x").unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.safetensors")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.npz")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.npy")).unwrap();
    // A named pipe: reading it would block forever.
    assert!(Command::new("mkfifo").arg(dir.join("fifo.npz")).status().unwrap().success());

    // .npy: headers that lie, wrong types, broken framing.
    let data16 = f64_bytes([0.5; 2]);
    let npys: Vec<(&str, Vec<u8>)> = vec![
        ("huge_decl.npy", npy_bytes("<f8", false, "(1000000, 1000000)", &data16)),
        ("overflow_decl.npy", npy_bytes("<f8", false, "(18446744073709551615, 3)", &data16)),
        ("overflow_bytes.npy", npy_bytes("<f8", false, "(4611686018427387904, 3)", &data16)),
        ("int64.npy", npy_bytes("<i8", false, "(2,)", &data16)),
        ("object.npy", npy_bytes("|O", false, "(2,)", &data16)),
        ("complex.npy", npy_bytes("<c16", false, "(1,)", &data16)),
        ("bool.npy", npy_bytes("|b1", false, "(16,)", &data16)),
        ("structured.npy", npy_raw("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", &data16)),
        ("bad_magic.npy", b"\x93NUMPX\x01\x00\x10\x00{'descr': '<f8'}".to_vec()),
        ("empty.npy", Vec::new()),
        ("preamble_only.npy", b"\x93NUMPY\x01\x00".to_vec()),
        ("header_beyond.npy", b"\x93NUMPY\x01\x00\xff\x7f{'descr': '<f8', ".to_vec()),
        ("version9.npy", b"\x93NUMPY\x09\x00\x10\x00{}              ".to_vec()),
        ("huge_header.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{".to_vec()),
        (
            "not_a_dict.npy",
            npy_bytes("<f8", false, "(2,)", &data16).iter().map(|&c| if c == b'{' { b'[' } else { c }).collect(),
        ),
        ("unknown_key.npy", npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'evil': 1}", &data16)),
        ("negative_shape.npy", npy_bytes("<f8", false, "(-2,)", &data16)),
        ("shape_text.npy", npy_bytes("<f8", false, "('a', 2)", &data16)),
        ("shape_float.npy", npy_bytes("<f8", false, "(2.5,)", &data16)),
        ("deep_shape.npy", npy_bytes("<f8", false, &format!("({})", vec!["1"; 40].join(", ")), &data16)),
        ("nested.npy", npy_bytes("<f8", false, &"(".repeat(500), &data16)),
        ("truncated.npy", {
            let full = npy_of(&obs);
            full[..full.len() - 100].to_vec()
        }),
        ("trailing.npy", {
            let mut full = npy_of(&obs);
            full.extend_from_slice(&[0u8; 24]);
            full
        }),
        ("obs_nan.npy", npy_of(&obs.mapv(|v| if v > 0.5 { f64::NAN } else { v }))),
        ("obs_inf.npy", npy_of(&obs.mapv(|v| if v > 0.5 { f64::INFINITY } else { v }))),
        ("obs_huge.npy", npy_of(&obs.mapv(|v| v * 1e300))),
        ("obs_tiny.npy", npy_of(&obs.mapv(|v| v * 1e-300))),
        ("obs_1d.npy", npy_of(&obs.index_axis(ndarray::Axis(1), 0).to_owned().into_dyn())),
        ("obs_4d.npy", npy_of(&obs.clone().into_shape_with_order(vec![120, 3, 1, 1]).unwrap())),
        ("obs_n1.npy", npy_of(&obs.slice(ndarray::s![..1, ..]).to_owned().into_dyn())),
        ("obs_n0.npy", npy_bytes("<f8", false, "(0, 3)", &[])),
        ("obs_d0.npy", npy_bytes("<f8", false, "(120, 0)", &[])),
        ("obs_n12.npy", npy_of(&obs.slice(ndarray::s![..12, ..]).to_owned().into_dyn())),
        ("bursts_n12.npy", npy_of(&bursts.slice(ndarray::s![..12, .., ..]).to_owned().into_dyn())),
        ("obs_n30.npy", npy_of(&obs.slice(ndarray::s![..30, ..]).to_owned().into_dyn())),
        ("bursts_n30.npy", npy_of(&bursts.slice(ndarray::s![..30, .., ..]).to_owned().into_dyn())),
        ("bursts_2d.npy", npy_of(&obs)),
        ("bursts_n_mismatch.npy", npy_of(&bursts.slice(ndarray::s![..100, .., ..]).to_owned().into_dyn())),
        ("bursts_d_mismatch.npy", npy_of(&bursts.slice(ndarray::s![.., .., ..2]).to_owned().into_dyn())),
        ("bursts_m1.npy", npy_of(&bursts.slice(ndarray::s![.., ..1, ..]).to_owned().into_dyn())),
        ("bursts_huge_decl.npy", npy_bytes("<f8", false, "(120, 1000000000, 3)", &data16)),
        ("bursts_const.npy", npy_of(&ArrayD::from_elem(vec![120, 6, 3], 0.25))),
        ("bursts_shuffled.npy", {
            // The rows of bursts in another order than obs (a reversed copy).
            let mut r = bursts.clone();
            r.invert_axis(ndarray::Axis(0));
            npy_of(&r)
        }),
        ("obs_const.npy", npy_of(&ArrayD::from_elem(vec![120, 3], 0.25))),
        ("inputs_rows.npy", npy_of(&ArrayD::from_elem(vec![7, 2], 0.25))),
        ("outputs_3d.npy", npy_of(&ArrayD::from_elem(vec![120, 2, 2], 0.25))),
        ("jac_d0.npy", npy_bytes("<f8", false, "(120, 3, 0)", &[])),
    ];
    for (name, bytes) in &npys {
        write(dir, name, bytes);
    }

    // .npz: archives that lie or break, and well-formed archives with bad content.
    let member = |k: &str, a: &ArrayD<f64>| (format!("{k}.npy"), npy_of(a));
    let good_members = |deflate: bool| -> Vec<(String, Vec<u8>, bool)> {
        vec![
            (member("obs", &obs).0, member("obs", &obs).1, deflate),
            (member("bursts", &bursts).0, member("bursts", &bursts).1, deflate),
        ]
    };
    let zipm = |m: Vec<(String, Vec<u8>, bool)>| {
        let refs: Vec<(&str, Vec<u8>, bool)> = m.iter().map(|(n, b, d)| (n.as_str(), b.clone(), *d)).collect();
        zip_of(&refs)
    };
    let stored = zipm(good_members(false));
    let deflated = zipm(good_members(true));
    let mut npzs: Vec<(&str, Vec<u8>)> = vec![
        ("stored_ok.npz", stored.clone()),
        ("random.npz", (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("empty.npz", Vec::new()),
        ("truncated_half.npz", deflated[..deflated.len() / 2].to_vec()),
        ("truncated_tail.npz", deflated[..deflated.len() - 10].to_vec()),
        ("only_obs.npz", zipm(vec![(member("obs", &obs).0, member("obs", &obs).1, true)])),
        ("no_obs.npz", zipm(vec![(member("bursts", &bursts).0, member("bursts", &bursts).1, true)])),
        ("both_local.npz", {
            let mut m = good_members(true);
            m.push(("jacobians.npy".into(), npy_of(&ArrayD::from_elem(vec![120, 3, 2], 0.1)), true));
            zipm(m)
        }),
        ("sigma_vector.npz", {
            let mut m = good_members(true);
            m.push(("sigma.npy".into(), npy_of(&ArrayD::from_elem(vec![3], 0.1)), false));
            zipm(m)
        }),
        ("sigma_negative.npz", {
            let mut m = good_members(true);
            m.push(("sigma.npy".into(), npy_of(&ArrayD::from_elem(vec![], -0.1)), false));
            zipm(m)
        }),
        ("sigma_nan.npz", {
            let mut m = good_members(true);
            m.push(("sigma.npy".into(), npy_of(&ArrayD::from_elem(vec![], f64::NAN)), false));
            zipm(m)
        }),
        ("sigma_tiny.npz", {
            let mut m = good_members(true);
            m.push(("sigma.npy".into(), npy_of(&ArrayD::from_elem(vec![], 1e-300)), false));
            zipm(m)
        }),
        ("sigma_huge.npz", {
            let mut m = good_members(true);
            m.push(("sigma.npy".into(), npy_of(&ArrayD::from_elem(vec![], 1e300)), false));
            zipm(m)
        }),
        ("obs_int.npz", {
            let mut m = good_members(true);
            m[0].1 = npy_bytes("<i8", false, "(120, 3)", &vec![0u8; 120 * 3 * 8]);
            zipm(m)
        }),
        ("obs_huge_values.npz", {
            let mut m = good_members(true);
            m[0].1 = npy_of(&obs.mapv(|v| v * 1e300));
            zipm(m)
        }),
        ("bursts_decl_mismatch.npz", {
            // A "zip bomb": bursts declared 2000×50000×4 (3.2 GB) in a small deflated member that does not
            // match obs; refused for its shape before a byte is inflated.
            let mut m = good_members(true);
            let zeros = vec![0u8; 1 << 20];
            m[1].1 = npy_bytes("<f8", false, "(2000, 50000, 4)", &zeros);
            zipm(m)
        }),
        ("bomb.npz", {
            // A real (small) zip bomb: 32 MB of zeros, deflated to a few kB, declared 2000×500×4 — its shape
            // cannot match obs, and is refused before it is inflated.
            let mut m = good_members(true);
            m[1].1 = npy_bytes("<f8", false, "(2000, 500, 4)", &vec![0u8; 2000 * 500 * 4 * 8]);
            zipm(m)
        }),
        ("bursts_decl_huge.npz", {
            let mut m = good_members(false);
            m[1].1 = npy_bytes("<f8", false, "(120, 100000000000, 3)", &[0u8; 64]);
            zipm(m)
        }),
        ("member_truncated.npz", {
            let mut m = good_members(true);
            let l = m[1].1.len();
            m[1].1.truncate(l - 80);
            zipm(m)
        }),
        ("member_dtype_f16.npz", {
            let mut m = good_members(true);
            let h: Vec<u8> = obs.iter().flat_map(|&v| half::f16::from_f64(v).to_le_bytes()).collect();
            m[0].1 = npy_bytes("<f2", false, "(120, 3)", &h);
            zipm(m)
        }),
        ("obs_3d.npz", {
            let mut m = good_members(true);
            m[0].1 = npy_of(&obs.clone().into_shape_with_order(vec![120, 3, 1]).unwrap());
            zipm(m)
        }),
        ("inputs_rows.npz", {
            let mut m = good_members(true);
            m.push(("inputs.npy".into(), npy_of(&ArrayD::from_elem(vec![7, 2], 0.25)), true));
            zipm(m)
        }),
        ("outputs_rows.npz", {
            let mut m = good_members(true);
            m.push(("outputs.npy".into(), npy_of(&ArrayD::from_elem(vec![119, 2], 0.25)), true));
            zipm(m)
        }),
        ("flat.npz", {
            // A constant network: obs and bursts all 0.25.
            let m = vec![
                ("obs.npy".to_string(), npy_of(&ArrayD::from_elem(vec![120, 3], 0.25)), true),
                ("bursts.npy".to_string(), npy_of(&ArrayD::from_elem(vec![120, 6, 3], 0.25)), true),
            ];
            zipm(m)
        }),
        ("bursts_const.npz", {
            let mut m = good_members(true);
            m[1].1 = npy_of(&ArrayD::from_elem(vec![120, 6, 3], 0.25));
            zipm(m)
        }),
        ("member_bad_header.npz", {
            let mut m = good_members(true);
            m[0].1 = b"\x93NUMPY\x01\x00\x08\x00garbage!".to_vec();
            zipm(m)
        }),
        ("member_bzip.npz", {
            let mut z = stored.clone();
            // Compression method 12 (bzip2) in every header.
            for i in 0..z.len() - 4 {
                let sig = u32::from_le_bytes(z[i..i + 4].try_into().unwrap());
                let at = match sig {
                    0x0403_4b50 => i + 8,
                    0x0201_4b50 => i + 10,
                    _ => continue,
                };
                z[at..at + 2].copy_from_slice(&12u16.to_le_bytes());
            }
            z
        }),
    ];
    // A corrupt checksum: one data byte of the stored obs member flipped.
    let mut crc = stored.clone();
    let at = crc.windows(6).position(|w| w == b"\x93NUMPY").unwrap() + 300;
    crc[at] ^= 0x55;
    npzs.push(("bad_crc.npz", crc));
    // A corrupt deflate stream: bytes in the middle of the bursts member overwritten.
    let mut inflate = deflated.clone();
    let second = inflate.windows(4).enumerate().filter(|(_, w)| *w == b"PK\x03\x04").nth(1).unwrap().0;
    for k in 0..40 {
        inflate[second + 120 + k] = 0xff;
    }
    npzs.push(("bad_deflate.npz", inflate));
    // Sizes in the zip headers that lie: a small member claiming 4 GB, and claims beyond deflate's ratio.
    let mut lie = deflated.clone();
    patch_zip_size(&mut lie, "bursts.npy", u32::MAX);
    npzs.push(("size_lie.npz", lie));
    let mut lie_small = deflated.clone();
    patch_zip_size(&mut lie_small, "bursts.npy", 100);
    npzs.push(("size_lie_small.npz", lie_small));
    let mut stored_lie = stored.clone();
    patch_zip_size(&mut stored_lie, "obs.npy", 3);
    npzs.push(("stored_size_lie.npz", stored_lie));
    for (name, bytes) in &npzs {
        write(dir, name, bytes);
    }

    // .safetensors: the format's own traps.
    let ob = f64_bytes(obs.iter().copied());
    let bb = f64_bytes(bursts.iter().copied());
    let (on, bn) = (ob.len(), bb.len());
    let sts: Vec<(&str, Vec<u8>)> = vec![
        ("too_short.safetensors", vec![1, 2, 3]),
        (
            "header_huge.safetensors",
            safetensors_raw(b"{}", &[]).iter().enumerate().map(|(i, &c)| if i < 8 { 0xff } else { c }).collect(),
        ),
        ("header_beyond.safetensors", {
            let mut v = safetensors_of(&[("obs", "F64", vec![120, 3], ob.clone())], None);
            v[..8].copy_from_slice(&(1u64 << 20).to_le_bytes());
            v
        }),
        ("header_not_json.safetensors", safetensors_raw(b"{not json at all", &[])),
        ("header_array.safetensors", safetensors_raw(b"[1, 2, 3]", &[])),
        ("header_utf8.safetensors", safetensors_raw(b"{\xff\xfe}", &[])),
        (
            "dtype_i64.safetensors",
            safetensors_of(
                &[("obs", "I64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                None,
            ),
        ),
        ("dtype_unknown.safetensors", safetensors_of(&[("obs", "Q8", vec![120, 3], ob.clone())], None)),
        (
            "overlap.safetensors",
            safetensors_of(
                &[("obs", "F64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                Some(vec![[0, on], [0, bn]]),
            ),
        ),
        (
            "out_of_range.safetensors",
            safetensors_of(
                &[("obs", "F64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                Some(vec![[0, on], [on, on + bn + 8000]]),
            ),
        ),
        (
            "gap.safetensors",
            safetensors_of(
                &[("obs", "F64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                Some(vec![[0, on], [on + 8, on + bn + 8]]),
            ),
        ),
        ("shape_overflow.safetensors", safetensors_of(&[("obs", "F64", vec![usize::MAX / 2, 4], ob.clone())], None)),
        (
            "shape_mismatch.safetensors",
            safetensors_of(
                &[("obs", "F64", vec![121, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                None,
            ),
        ),
        ("trailing.safetensors", {
            let mut v = safetensors_of(
                &[("obs", "F64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                None,
            );
            v.extend_from_slice(&[0u8; 16]);
            v
        }),
        ("truncated.safetensors", {
            let v = safetensors_of(
                &[("obs", "F64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![120, 6, 3], bb.clone())],
                None,
            );
            v[..v.len() - 64].to_vec()
        }),
        ("no_obs.safetensors", safetensors_of(&[("bursts", "F64", vec![120, 6, 3], bb.clone())], None)),
        (
            "n_mismatch.safetensors",
            safetensors_of(
                &[("obs", "F64", vec![120, 3], ob.clone()), ("bursts", "F64", vec![60, 12, 3], bb.clone())],
                None,
            ),
        ),
        ("nan.safetensors", {
            let mut o = ob.clone();
            o[8..16].copy_from_slice(&f64::NAN.to_le_bytes());
            safetensors_of(&[("obs", "F64", vec![120, 3], o), ("bursts", "F64", vec![120, 6, 3], bb.clone())], None)
        }),
        ("bf16_ok.safetensors", {
            let o: Vec<u8> = obs.iter().flat_map(|&v| half::bf16::from_f64(v).to_le_bytes()).collect();
            let b: Vec<u8> = bursts.iter().flat_map(|&v| half::bf16::from_f64(v).to_le_bytes()).collect();
            safetensors_of(&[("obs", "BF16", vec![120, 3], o), ("bursts", "BF16", vec![120, 6, 3], b)], None)
        }),
        (
            "sigma_matrix.safetensors",
            safetensors_of(
                &[
                    ("obs", "F64", vec![120, 3], ob.clone()),
                    ("bursts", "F64", vec![120, 6, 3], bb.clone()),
                    ("sigma", "F64", vec![2, 2], f64_bytes([1.0; 4])),
                ],
                None,
            ),
        ),
    ];
    for (name, bytes) in &sts {
        write(dir, name, bytes);
    }
}

// ---------------------------------------------------------------- the cases

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let cmp = |a: &str| -> Vec<String> {
        ["compare", "--backend", "cpu", "-q", "--a", a, "--b", "good_b.npz", "--out", "report"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let file_case = |name: &str, file: &str, needles: &[&str]| {
        let mut c = case(name, &[], 1, needles);
        c.args = cmp(file);
        c
    };
    let npy_case = |name: &str, obs: &str, bursts: &str, needles: &[&str]| {
        let line = format!("compare --backend cpu -q --a-obs {obs} --a-bursts {bursts} --b good_b.npz --out report");
        case(name, &words(&line), 1, needles)
    };

    // .npy through --a-obs / --a-bursts.
    for (file, needles) in [
        ("huge_decl.npy", &["truncated", "(1000000, 1000000)"][..]),
        ("overflow_decl.npy", &["more elements than"][..]),
        ("overflow_bytes.npy", &["more bytes than"][..]),
        ("int64.npy", &["'<i8'", "not a float"][..]),
        ("object.npy", &["'|o'", "not a float"][..]),
        ("complex.npy", &["not a float"][..]),
        ("bool.npy", &["not a float"][..]),
        ("structured.npy", &["structured"][..]),
        ("bad_magic.npy", &["magic"][..]),
        ("empty.npy", &["ends inside the .npy preamble"][..]),
        ("preamble_only.npy", &["ends inside the .npy preamble"][..]),
        ("header_beyond.npy", &["ends inside the .npy header"][..]),
        ("version9.npy", &["version 9.0"][..]),
        ("huge_header.npy", &["more than the 65536 accepted"][..]),
        ("not_a_dict.npy", &["not numpy's dictionary"][..]),
        ("unknown_key.npy", &["unknown key 'evil'"][..]),
        ("negative_shape.npy", &["not a size"][..]),
        ("shape_text.npy", &["not a size"][..]),
        ("shape_float.npy", &["in shape"][..]),
        ("deep_shape.npy", &["more than 32 dimensions"][..]),
        ("nested.npy", &["not a size"][..]),
        ("truncated.npy", &["truncated"][..]),
        ("trailing.npy", &["corrupt", "follow the header"][..]),
        ("zero.npy", &["not a regular file"][..]),
        ("a_directory.npz", &["is a directory"][..]),
        ("missing.npy", &["no such file"][..]),
        ("obs_nan.npy", &["non-finite", "`obs`"][..]),
        ("obs_inf.npy", &["non-finite", "inf"][..]),
        ("obs_huge.npy", &["overflow", "rescale"][..]),
        ("obs_tiny.npy", &["underflow", "rescale"][..]),
        ("obs_4d.npy", &["1-d or 2-d"][..]),
        ("obs_n1.npy", &["`bursts` must be n×m×d = 1×m×3"][..]),
        ("obs_n0.npy", &["`bursts` must be n×m×d = 0×m×3"][..]),
        ("obs_d0.npy", &["`bursts` must be n×m×d = 120×m×0"][..]),
        ("obs_const.npy", &["do not surround"][..]),
    ] {
        v.push(npy_case(&format!("npy obs {file}"), file, "bursts.npy", needles));
    }
    for (file, needles) in [
        ("bursts_2d.npy", &["`bursts` must be n×m×d", "(120, 3)"][..]),
        ("bursts_n_mismatch.npy", &["`bursts` must be n×m×d = 120×m×3", "(100, 6, 3)"][..]),
        ("bursts_d_mismatch.npy", &["(120, 6, 2)"][..]),
        ("bursts_m1.npy", &["m ≥ 2"][..]),
        ("bursts_huge_decl.npy", &["truncated", "(120, 1000000000, 3)"][..]),
        ("bursts_const.npy", &["do not surround"][..]),
        ("bursts_shuffled.npy", &["do not surround", "another order"][..]),
        ("huge_decl.npy", &["truncated"][..]),
        ("zero.npy", &["not a regular file"][..]),
    ] {
        v.push(npy_case(&format!("npy bursts {file}"), "obs.npy", file, needles));
    }
    let both = |name: &str, obs: &str, bursts: &str, needles: &[&str]| {
        let line = format!(
            "compare --backend cpu -q --a-obs {obs} --a-bursts {bursts} --b-obs {obs} --b-bursts {bursts} --out report"
        );
        case(name, &words(&line), 1, needles)
    };
    v.push(both("npy N = 12 below compare's minimum", "obs_n12.npy", "bursts_n12.npy", &["at least 50", "n = 12"]));
    v.push(both("npy N = 30", "obs_n30.npy", "bursts_n30.npy", &["at least 50", "n = 30"]));
    v.push(npy_case(
        "npy A's N differs from B's",
        "obs_n30.npy",
        "bursts_n30.npy",
        &["same base inputs", "n = 30", "n = 120"],
    ));
    v.push(npy_case("npy obs 1-D (N×1) with 3-D bursts", "obs_1d.npy", "bursts.npy", &["120×m×1"]));
    v.push(case(
        "npy inputs with the wrong rows",
        &words("compare --backend cpu -q --a-obs obs.npy --a-bursts bursts.npy --a-inputs inputs_rows.npy --b good_b.npz --out report"),
        1,
        &["`inputs`", "n = 120"],
    ));
    v.push(case(
        "npy outputs 3-D",
        &words("compare --backend cpu -q --a-obs obs.npy --a-bursts bursts.npy --a-outputs outputs_3d.npy --b good_b.npz --out report"),
        1,
        &["`outputs`", "(120, 2, 2)"],
    ));
    v.push(case(
        "npy Jacobians with d = 0",
        &words("compare --backend cpu -q --a-obs obs.npy --a-jacobians jac_d0.npy --b good_b.npz --out report"),
        1,
        &["jacobians", "d ≥ 1"],
    ));
    v.push(case(
        "npy bursts and jacobians both",
        &words("compare --backend cpu -q --a-obs obs.npy --a-bursts bursts.npy --a-jacobians bursts.npy --b good_b.npz --out report"),
        1,
        &["not both"],
    ));
    v.push(case(
        "npy without bursts",
        &words("compare --backend cpu -q --a-obs obs.npy --b good_b.npz --out report"),
        1,
        &["bursts", "jacobians"],
    ));

    // .npz.
    for (file, needles) in [
        ("random.npz", &["not a readable .npz (zip) archive"][..]),
        ("empty.npz", &["not a readable .npz (zip) archive"][..]),
        ("truncated_half.npz", &["not a readable .npz (zip) archive"][..]),
        ("truncated_tail.npz", &["not a readable .npz (zip) archive"][..]),
        ("only_obs.npz", &["missing key `bursts` or `jacobians`", "obs"][..]),
        ("no_obs.npz", &["missing key `obs`", "bursts"][..]),
        ("both_local.npz", &["both `bursts` and `jacobians`"][..]),
        ("sigma_vector.npz", &["`sigma` must be a scalar"][..]),
        ("sigma_negative.npz", &["sigma", "positive"][..]),
        ("sigma_nan.npz", &["sigma", "nan"][..]),
        ("sigma_tiny.npz", &["sigma", "1e-300", "outside"][..]),
        ("sigma_huge.npz", &["sigma", "1e300"][..]),
        ("obs_int.npz", &["member `obs.npy`", "'<i8'", "not a float"][..]),
        ("obs_huge_values.npz", &["overflow", "rescale"][..]),
        ("bursts_decl_mismatch.npz", &["(2000, 50000, 4)"][..]),
        ("bomb.npz", &["(2000, 500, 4)", "120×m×3"][..]),
        ("bursts_decl_huge.npz", &["truncated", "(120, 100000000000, 3)"][..]),
        ("member_truncated.npz", &["member `bursts.npy`", "truncated"][..]),
        ("obs_3d.npz", &["`obs` must be 1-d or 2-d", "(120, 3, 1)"][..]),
        ("inputs_rows.npz", &["`inputs`", "(7, 2)"][..]),
        ("outputs_rows.npz", &["`outputs`", "(119, 2)"][..]),
        ("bursts_const.npz", &["do not surround"][..]),
        ("flat.npz", &["degenerate", "zero covariance"][..]),
        ("member_bad_header.npz", &["member `obs.npy`", "dictionary"][..]),
        ("member_bzip.npz", &["compression"][..]),
        ("bad_crc.npz", &["member `obs.npy`", "corrupt", "checksum"][..]),
        ("bad_deflate.npz", &["member `bursts.npy`", "corrupt"][..]),
        ("size_lie.npz", &["more than deflate can expand"][..]),
        ("size_lie_small.npz", &["member `bursts.npy`", "truncated"][..]),
        ("stored_size_lie.npz", &["corrupt archive"][..]),
        ("zero.npz", &["not a regular file"][..]),
        ("fifo.npz", &["not a regular file"][..]),
        ("a_directory.npz", &["is a directory"][..]),
        ("missing.npz", &["no such file"][..]),
        ("good.npz.txt", &["unknown extension"][..]),
    ] {
        v.push(file_case(&format!("npz {file}"), file, needles));
    }
    // .safetensors.
    for (file, needles) in [
        ("too_short.safetensors", &["shorter than the 8-byte header length"][..]),
        ("header_huge.safetensors", &["header length exceeds the file"][..]),
        ("header_beyond.safetensors", &["header length exceeds the file"][..]),
        ("header_not_json.safetensors", &["not a valid .safetensors file"][..]),
        ("header_array.safetensors", &["not a valid .safetensors file"][..]),
        ("header_utf8.safetensors", &["not a valid .safetensors file"][..]),
        ("dtype_i64.safetensors", &["tensor `obs` has dtype i64"][..]),
        ("dtype_unknown.safetensors", &["not a valid .safetensors file"][..]),
        ("overlap.safetensors", &["overlaps another or leaves a gap"][..]),
        ("out_of_range.safetensors", &["does not match its shape"][..]),
        ("gap.safetensors", &["overlaps another or leaves a gap"][..]),
        ("shape_overflow.safetensors", &["overflows"][..]),
        ("shape_mismatch.safetensors", &["does not match its shape"][..]),
        ("trailing.safetensors", &["not the size the tensors declare"][..]),
        ("truncated.safetensors", &["not the size the tensors declare"][..]),
        ("no_obs.safetensors", &["missing tensor `obs`"][..]),
        ("n_mismatch.safetensors", &["120×m×3", "(60, 12, 3)"][..]),
        ("nan.safetensors", &["non-finite", "`obs`", "flat index 1"][..]),
        ("sigma_matrix.safetensors", &["`sigma` must be a scalar", "(2, 2)"][..]),
        ("zero.safetensors", &["not a regular file"][..]),
    ] {
        v.push(file_case(&format!("safetensors {file}"), file, needles));
    }

    // compare: flags.
    let base = ["compare", "--backend", "cpu", "-q", "--a", "good.npz", "--b", "good_b.npz", "--out", "report"];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    for (extra, code, needles) in [
        (&["--k", "0"][..], 2, &["--k"][..]),
        (&["--k", "1"][..], 2, &["--k"][..]),
        (&["--k", "100000"][..], 2, &["--k", "1000"][..]),
        (&["--k", "-3"][..], 2, &["--k"][..]),
        (&["--k", "ten"][..], 2, &["--k"][..]),
        (&["--k", "200"][..], 1, &["at least 203"][..]),
        (&["--d", "0"][..], 2, &["--d"][..]),
        (&["--d", "1000"][..], 2, &["--d"][..]),
        (&["--predict-rmse", "0"][..], 1, &["predict-rmse"][..]),
        (&["--predict-rmse", "2"][..], 1, &["predict-rmse"][..]),
        (&["--predict-rmse", "nan"][..], 1, &["predict-rmse"][..]),
        (&["--equivalent-rmse", "0.5", "--not-equivalent-rmse", "0.1"][..], 1, &["not-equivalent-rmse"][..]),
        (&["--gap", "0"][..], 1, &["gap"][..]),
        (&["--test-fraction", "0"][..], 2, &["--test-fraction"][..]),
        (&["--test-fraction", "1.5"][..], 2, &["--test-fraction"][..]),
        (&["--test-fraction", "0.9"][..], 1, &["test-fraction", "0.05, 0.5"][..]),
        (&["--folds", "1"][..], 2, &["--folds"][..]),
        (&["--folds", "1000"][..], 2, &["--folds"][..]),
        (&["--neurons", "0"][..], 1, &["neurons"][..]),
        (&["--neurons", "abc"][..], 1, &["neurons", "abc"][..]),
        (&["--neurons", "99"][..], 1, &["neurons", "only d = 3"][..]),
        (&["--normal-weight", "-1"][..], 2, &["--normal-weight"][..]),
        (&["--normal-weight", "inf"][..], 2, &["--normal-weight"][..]),
        (&["--normal-weight", "nan"][..], 2, &["--normal-weight"][..]),
        (&["--rank", "0"][..], 2, &["--rank"][..]),
        (&["--rank", "9"][..], 1, &["rank", "d = 3"][..]),
        (&["--eps", "-1"][..], 1, &["eps"][..]),
        (&["--eps", "0"][..], 1, &["eps"][..]),
        (&["--eps", "nan"][..], 1, &["eps"][..]),
        (&["--eps", "wide"][..], 1, &["eps", "wide"][..]),
        (&["--seed", "-1"][..], 2, &["--seed"][..]),
        (&["--unknown-flag"][..], 2, &["--unknown-flag"][..]),
    ] {
        let mut c = case(&format!("compare {}", extra.join(" ")), &[], code, needles);
        c.args = with(extra);
        v.push(c);
    }
    let raw = |name: &str, args: &[&str], code: i32, needles: &[&str]| case(name, args, code, needles);
    v.push(raw(
        "compare --backend bogus",
        &words("compare --backend bogus --a good.npz --b good_b.npz --out report"),
        2,
        &["--backend", "bogus", "possible values"],
    ));
    v.push(raw(
        "embed --backend gpuu",
        &words("embed --backend gpuu --input good.npz --out e.npz"),
        2,
        &["--backend", "gpuu"],
    ));
    v.push(raw(
        "compare --a-sigma 0",
        &words("compare --backend cpu --a-obs obs.npy --a-bursts bursts.npy --a-sigma 0 --b good_b.npz --out report"),
        2,
        &["--a-sigma"],
    ));
    v.push(raw(
        "compare --a-sigma inf",
        &words("compare --backend cpu --a-obs obs.npy --a-bursts bursts.npy --a-sigma inf --b good_b.npz --out report"),
        2,
        &["--a-sigma"],
    ));
    v.push(raw(
        "compare --a-sigma 1e-300",
        &words(
            "compare --backend cpu --a-obs obs.npy --a-bursts bursts.npy --a-sigma 1e-300 --b good_b.npz --out report",
        ),
        1,
        &["sigma", "1e-300"],
    ));
    v.push(raw(
        "compare --out is a file",
        &words("compare --backend cpu --a good.npz --b good_b.npz --out a_file"),
        1,
        &["not a directory"],
    ));
    v.push(raw(
        "compare --out below a file",
        &words("compare --backend cpu --a good.npz --b good_b.npz --out a_file/report"),
        1,
        &["not a directory"],
    ));
    v.push(raw(
        "compare --out occupied",
        &words("compare --backend cpu --a good.npz --b good_b.npz --out occupied"),
        1,
        &["refusing to overwrite", "notes.txt"],
    ));
    v.push(raw(
        "compare --force on a foreign directory",
        &words("compare --backend cpu --a good.npz --b good_b.npz --out occupied --force"),
        1,
        &["not a netmatch output directory"],
    ));
    v.push(raw(
        "compare --force on the working directory",
        &words("compare --backend cpu --a good.npz --b good_b.npz --out . --force"),
        1,
        &["out"],
    ));
    v.push(raw("compare without --a", &words("compare --b good_b.npz --out report"), 2, &["--a"]));
    v.push(raw(
        "compare --a and --a-obs",
        &words("compare --a good.npz --a-obs obs.npy --b good_b.npz --out report"),
        2,
        &["cannot be used with"],
    ));
    v.push(raw("compare --synthetic bogus", &words("compare --synthetic bogus --out report"), 2, &["--synthetic"]));
    v.push(raw(
        "compare N mismatch",
        &words("compare --backend cpu --a good.npz --b obs_n30.npy --out report"),
        1,
        &["unknown extension"],
    ));
    v.push(raw(
        "compare A and B with different N",
        &words("compare --backend cpu --a good.npz --b-obs obs_n30.npy --b-bursts bursts_n30.npy --out report"),
        1,
        &["same base inputs", "n = 120", "n = 30"],
    ));
    v.push(raw(
        "compare safetensors bf16 (valid input, refused --out)",
        &words("compare --backend cpu --a bf16_ok.safetensors --b good_b.npz --out occupied"),
        1,
        &["refusing to overwrite"],
    ));

    // embed.
    let emb = |extra: &[&str]| -> Vec<String> {
        ["embed", "--backend", "cpu", "--input", "good.npz", "--out", "e.npz"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    for (extra, code, needles) in [
        (&["--k", "0"][..], 2, &["--k"][..]),
        (&["--k", "5000"][..], 2, &["--k"][..]),
        (&["--k", "118"][..], 1, &["k+3 = 121"][..]),
        (&["--alpha", "2"][..], 2, &["--alpha"][..]),
        (&["--tol", "0"][..], 2, &["--tol"][..]),
        (&["--tol", "5"][..], 2, &["--tol"][..]),
        (&["--knn", "1"][..], 2, &["--knn"][..]),
        (&["--storage", "bogus"][..], 2, &["--storage"][..]),
        (&["--precision", "f64"][..], 2, &["--precision"][..]),
        (&["--kernel", "fast"][..], 2, &["--kernel"][..]),
        (&["--solver", "magic"][..], 2, &["--solver"][..]),
        (&["--max-matvecs", "0"][..], 2, &["--max-matvecs"][..]),
        (&["--rank", "0"][..], 2, &["--rank"][..]),
        (&["--rank", "5000"][..], 2, &["--rank"][..]),
        (&["--eps", "abc"][..], 1, &["eps", "abc"][..]),
        (&["--normal-weight", "-2"][..], 2, &["--normal-weight"][..]),
    ] {
        let mut c = case(&format!("embed {}", extra.join(" ")), &[], code, needles);
        c.args = emb(extra);
        v.push(c);
    }
    v.push(raw(
        "embed N = 12, k = 10",
        &words("embed --backend cpu --input n12.npz --out e.npz"),
        1,
        &["k+3 = 13", "n = 12"],
    ));
    v.push(raw(
        "embed --input directory",
        &words("embed --backend cpu --input a_directory.npz --out e.npz"),
        1,
        &["is a directory"],
    ));
    v.push(raw(
        "embed --input /dev/zero link",
        &words("embed --backend cpu --input zero.npz --out e.npz"),
        1,
        &["not a regular file"],
    ));
    v.push(raw(
        "embed --input bomb",
        &words("embed --backend cpu --input bursts_decl_mismatch.npz --out e.npz"),
        1,
        &["(2000, 50000, 4)"],
    ));
    v.push(raw("embed without --out", &words("embed --input good.npz"), 2, &["--out"]));
    v.push(raw(
        "embed --out is a directory",
        &words("embed --backend cpu --input good.npz --out occupied"),
        1,
        &["is a directory"],
    ));
    v.push(raw(
        "embed --out below a file",
        &words("embed --backend cpu --input good.npz --out a_file/e.npz"),
        1,
        &["not a directory"],
    ));
    v.push(raw(
        "bench verdicts --out is a directory",
        &words("bench verdicts --quick --out occupied"),
        1,
        &["is a directory"],
    ));

    // render.
    for (extra, code, needles) in [
        (&["--frames", "0"][..], 2, &["--frames"][..]),
        (&["--frames", "1000000000"][..], 2, &["--frames"][..]),
        (&["--frames", "1000000", "--elevations", "1000"][..], 1, &["frames × elevations", "1000000 × 1000"][..]),
        (&["--frames", "100000", "--size", "4096"][..], 1, &["gib", "limit"][..]),
        (&["--size", "7"][..], 2, &["--size"][..]),
        (&["--size", "100000"][..], 2, &["--size"][..]),
        (&["--elevations", "0"][..], 2, &["--elevations"][..]),
        (&["--h", "0"][..], 2, &["--h"][..]),
        (&["--h", "1"][..], 2, &["--h"][..]),
        (&["--h", "nan"][..], 2, &["--h"][..]),
        (&["--backend", "vulkan"][..], 2, &["--backend"][..]),
    ] {
        let args: Vec<String> =
            ["render", "horse", "--out", "frames"].iter().chain(extra).map(|s| s.to_string()).collect();
        let mut c = case(&format!("render {}", extra.join(" ")), &[], code, needles);
        c.args = args;
        v.push(c);
    }
    v.push(raw(
        "render into an occupied directory",
        &words("render horse --backend cpu --frames 4 --size 16 --out occupied"),
        1,
        &["refusing to overwrite"],
    ));
    v.push(raw(
        "render --out is a file",
        &words("render horse --backend cpu --frames 4 --size 16 --out a_file"),
        1,
        &["not a directory"],
    ));

    // demos.
    for (args, code, needles) in [
        (&words("demo horse --size 100000")[..], 2, &["--size"][..]),
        (&words("demo horse --size 0")[..], 2, &["--size"][..]),
        (&words("demo horse --frames 10")[..], 2, &["--frames"][..]),
        (&words("demo horse --frames 1000000000")[..], 2, &["--frames"][..]),
        (&words("demo horse --frames 100000 --size 256")[..], 1, &["gib", "limit"][..]),
        (&words("demo horse --sigma inf")[..], 2, &["--sigma"][..]),
        (&words("demo horse --sigma 0")[..], 2, &["--sigma"][..]),
        (&words("demo horse --steps 0")[..], 2, &["--steps"][..]),
        (&words("demo horse --out occupied")[..], 1, &["refusing to overwrite"][..]),
        (&words("demo scalar --m 1")[..], 2, &["--m"][..]),
        (&words("demo scalar --n 10")[..], 2, &["--n"][..]),
        (&words("demo scalar --train-n 0")[..], 2, &["--train-n"][..]),
        (&words("demo scalar --steps 0")[..], 2, &["--steps"][..]),
        (&words("demo scalar --out occupied")[..], 1, &["refusing to overwrite"][..]),
        (&words("demo vector-field --n 0")[..], 2, &["--n"][..]),
        (&words("demo vector-field --out a_file")[..], 1, &["not a directory"][..]),
        (&words("demo bogus")[..], 2, &["bogus"][..]),
    ] {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--backend", "cpu"]);
        v.push(case(&args.join(" "), &a, code, needles));
    }

    // bench.
    for (args, code, needles) in [
        (&words("bench embed --n 10")[..], 2, &["--n"][..]),
        (&words("bench embed --m 1")[..], 2, &["--m"][..]),
        (&words("bench embed --k 0")[..], 2, &["--k"][..]),
        (&words("bench embed --configs 2x3")[..], 1, &["configs", "2x3"][..]),
        (&words("bench embed --configs abc")[..], 1, &["configs", "abc"][..]),
        (&words("bench embed --precision f8")[..], 2, &["--precision"][..]),
        (&words("bench verdicts --reps 0")[..], 2, &["--reps"][..]),
        (&words("bench verdicts --reps 100")[..], 2, &["--reps"][..]),
        (&words("bench peers-export --dir p --sizes 10")[..], 2, &["--sizes"][..]),
        (&words("bench peers-export --dir p --sparse-n 10")[..], 1, &["sparse-n"][..]),
        (&words("bench peers-run --dir p --task mushroom --backend bogus")[..], 2, &["--backend"][..]),
        (&words("bench peers-run --dir p --task bogus --backend cpu")[..], 1, &["task"][..]),
        (&words("frobnicate")[..], 2, &words("frobnicate")[..]),
    ] {
        v.push(case(&args.join(" "), args, code, needles));
    }

    // A report directory is complete or absent: the run is killed by a file-size limit while writing.
    let mut c = case("compare killed while writing its report", &[], 1, &[]);
    c.args = words("compare --backend cpu -q --a good.npz --b good_b.npz --out report")
        .iter()
        .map(|s| s.to_string())
        .collect();
    c.shell_limit = Some("ulimit -f 16");
    v.push(c);
    let mut c = case("render killed while writing", &[], 1, &[]);
    c.args =
        words("render horse --backend cpu --frames 40 --size 64 --out frames").iter().map(|s| s.to_string()).collect();
    c.shell_limit = Some("ulimit -f 16");
    v.push(c);
    v
}

#[test]
fn hostile_inputs_end_in_clear_errors_without_leftovers() {
    let root = std::env::temp_dir().join(format!("netmatch-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let inputs = root.join("inputs");
    make_inputs(&inputs);
    let small = synthetic::tanh_layer_bursts(12, 6, 3, 0.01, 9).unwrap();
    npz::write_observations(&inputs.join("n12.npz"), &small).unwrap();
    std::fs::copy(inputs.join("good.npz"), inputs.join("good.npz.txt")).unwrap();
    // Every input is under 2 MB, as the acceptance bound assumes.
    for e in std::fs::read_dir(&inputs).unwrap().flatten() {
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        assert!(m.len() < 2 << 20, "{:?} is {} bytes", e.file_name(), m.len());
    }
    let cases = cases();
    let n = cases.len();
    assert!(n >= 120, "only {n} cases");
    println!("{n} hostile cases");
    let failures = check_all(&root, &inputs, cases);
    let _ = std::fs::remove_dir_all(&root);
    assert!(failures.is_empty(), "{} of {n} hostile cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// The valid variants among the crafted files are read, so the hostile cases above fail for their
/// flaw and not for the builder: stored members, float16 members, bfloat16 tensors, 1-D obs.
#[test]
fn the_builders_make_valid_files_where_meant() {
    let dir = std::env::temp_dir().join(format!("netmatch-hostile-valid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    make_inputs(&dir);
    let g = good();
    let a = npz::read_observations(&dir.join("stored_ok.npz")).unwrap();
    assert_eq!(a.obs, g.obs);
    let h = npz::read_observations(&dir.join("member_dtype_f16.npz")).unwrap();
    assert!((&h.obs - &g.obs).iter().all(|d| d.abs() < 1e-3));
    let b = safetensors::read_observations(&dir.join("bf16_ok.safetensors")).unwrap();
    assert!((&b.obs - &g.obs).iter().all(|d| d.abs() < 1e-2));
    let files = netmatch::data::npy::NpyFiles {
        obs: Some(&dir.join("obs.npy")),
        bursts: Some(&dir.join("bursts.npy")),
        ..Default::default()
    };
    let c = netmatch::data::npy::read_observations(&files, 0.01).unwrap();
    assert_eq!(c.obs, g.obs);
    let one: Array2<f64> = netmatch::data::npy::as_matrix(
        netmatch::data::npy::read(&dir.join("obs_1d.npy")).unwrap(),
        &dir.join("obs_1d.npy"),
        "obs",
    )
    .unwrap();
    assert_eq!(one.dim(), (120, 1));
    let _ = std::fs::remove_dir_all(&dir);
}
