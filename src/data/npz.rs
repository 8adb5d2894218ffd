//! `.npz` input and output. Arrays may be float16, float32 or float64 (anything else is a format error
//! naming the key). Reading goes member by member through the checked `.npy` reader, headers and sizes
//! first; outputs are written to a temporary file beside the target and renamed into place, so a failed
//! run never leaves a half-written file.

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use ndarray::{Array, ArrayD};
use ndarray_npy::NpzWriter;

use super::npy::{self, NpyHeader};
use super::{LocalSource, Observations};
use crate::error::{Error, Result};

/// Deflate expands at most 1032:1 (a 258-byte match per 2-bit code); a member that claims more is
/// corrupt or crafted, whatever its header says.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// The keys netmatch reads, in the order they are checked.
const KEYS: [&str; 7] = ["obs", "bursts", "jacobians", "sigma", "inputs", "outputs", "burst_dim"];

fn with_ndim<D: ndarray::Dimension>(a: ArrayD<f64>, path: &Path, key: &str, what: &str) -> Result<Array<f64, D>> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>()
        .map_err(|_| Error::format(path, format!("array `{key}` must be {what}, got shape {shape:?}")))
}

/// Opens member `key.npy`, checks its sizes (stored or deflated, the expansion deflate allows, the header
/// against the member's uncompressed size) and returns its header with the reader at the data.
fn open_member<'a, R: Read + Seek>(
    zip: &'a mut zip::ZipArchive<R>,
    key: &str,
    file_len: u64,
) -> std::result::Result<(NpyHeader, zip::read::ZipFile<'a, R>), String> {
    let name = format!("{key}.npy");
    let mut m = zip.by_name(&name).map_err(|e| format!("member `{name}` cannot be opened: {e}"))?;
    let (size, packed) = (m.size(), m.compressed_size());
    match m.compression() {
        zip::CompressionMethod::Stored if size != packed => {
            return Err(format!("member `{name}` is stored with {packed} bytes but claims {size}: corrupt archive"));
        }
        zip::CompressionMethod::Stored => {}
        zip::CompressionMethod::Deflated if size > packed.saturating_mul(DEFLATE_MAX_RATIO).saturating_add(1024) => {
            return Err(format!(
                "member `{name}` claims {size} bytes from {packed} compressed, more than deflate can expand: \
                 corrupt archive"
            ));
        }
        zip::CompressionMethod::Deflated => {}
        other => return Err(format!("member `{name}` uses compression {other:?}; numpy writes stored or deflate")),
    }
    if packed > file_len {
        return Err(format!("member `{name}` claims {packed} compressed bytes in a {file_len}-byte file: truncated"));
    }
    let h = npy::read_header(&mut m).map_err(|e| format!("member `{name}`: {e}"))?;
    npy::check_available(&h, size.saturating_sub(h.header_bytes)).map_err(|e| format!("member `{name}`: {e}"))?;
    Ok((h, m))
}

/// Reads one network's observations from an `.npz` file (keys `obs`, `bursts` or `jacobians`,
/// optional `sigma`, `inputs` and `outputs`) and validates them.
pub fn read_observations(path: &Path) -> Result<Observations> {
    let (f, len) = npy::open_regular(path)?;
    read_observations_from(std::io::BufReader::new(f), len, path)
}

/// [`read_observations`] from any seekable stream of `len` bytes (`path` names it in messages): every
/// member's header is read and all declared shapes are checked against the sizes and each other before
/// any array's data is.
pub fn read_observations_from<R: Read + Seek>(reader: R, len: u64, path: &Path) -> Result<Observations> {
    let bad = |m: String| Error::format(path, m);
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| bad(format!("not a readable .npz (zip) archive: {e}")))?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let present = |k: &str| names.iter().any(|n| n == &format!("{k}.npy"));
    let keys_text = || names.iter().map(|n| n.strip_suffix(".npy").unwrap_or(n)).collect::<Vec<_>>().join(", ");
    if !present("obs") {
        return Err(bad(format!("missing key `obs` (keys present: [{}])", keys_text())));
    }
    match (present("bursts"), present("jacobians")) {
        (true, true) => return Err(bad("holds both `bursts` and `jacobians`; keep exactly one".into())),
        (false, false) => {
            return Err(bad(format!("missing key `bursts` or `jacobians` (keys present: [{}])", keys_text())));
        }
        _ => {}
    }
    let mut declared: Vec<(&str, Vec<usize>)> = Vec::new();
    for key in KEYS.into_iter().filter(|k| present(k)) {
        let (h, _) = open_member(&mut zip, key, len).map_err(bad)?;
        declared.push((key, h.shape));
    }
    let shapes: Vec<(&str, &[usize])> = declared.iter().map(|(k, s)| (*k, s.as_slice())).collect();
    super::check_declared(&shapes).map_err(|(_, m)| bad(m))?;
    let mut read = |key: &str| -> Result<Option<ArrayD<f64>>> {
        if !present(key) {
            return Ok(None);
        }
        let (h, mut m) = open_member(&mut zip, key, len).map_err(bad)?;
        npy::read_data(&mut m, &h).map(Some).map_err(|e| bad(format!("member `{key}.npy`: {e}")))
    };
    let obs = read("obs")?.ok_or_else(|| bad("missing key `obs`".into()))?;
    let obs = npy::as_matrix(obs, path, "obs")?;
    let local = match (read("bursts")?, read("jacobians")?) {
        (Some(b), None) => LocalSource::Bursts(with_ndim(b, path, "bursts", "3-D (N×M×D)")?),
        (None, Some(j)) => LocalSource::Jacobians(with_ndim(j, path, "jacobians", "3-D (N×D×d)")?),
        _ => return Err(bad("needs exactly one of `bursts` and `jacobians`".into())),
    };
    let sigma = match read("sigma")? {
        None => 1.0,
        Some(s) if s.len() == 1 => s.iter().copied().next().unwrap_or(1.0),
        Some(s) => return Err(bad(format!("`sigma` must be a scalar, got shape {:?}", s.shape()))),
    };
    let inputs = read("inputs")?.map(|x| npy::as_matrix(x, path, "inputs")).transpose()?;
    let outputs = read("outputs")?.map(|o| npy::as_matrix(o, path, "outputs")).transpose()?;
    let burst_dim = read("burst_dim")?;
    Observations::from_file(path, obs, local, sigma, inputs, outputs)?.with_burst_dim_member(path, burst_dim)
}

/// Writes the observations in the format [`read_observations`] reads (float64).
pub fn write_observations(path: &Path, data: &Observations) -> Result<()> {
    write_atomic(path, |w| {
        w.add_array("obs", &data.obs)?;
        match &data.local {
            LocalSource::Bursts(b) => w.add_array("bursts", b)?,
            LocalSource::Jacobians(j) => w.add_array("jacobians", j)?,
        }
        w.add_array("sigma", &ndarray::arr0(data.sigma))?;
        if let Some(x) = &data.inputs {
            w.add_array("inputs", x)?;
        }
        if let Some(o) = &data.outputs {
            w.add_array("outputs", o)?;
        }
        if let Some(d) = data.burst_dim {
            w.add_array("burst_dim", &ndarray::arr0(d as f64))?;
        }
        Ok(())
    })
}

/// Writes an `.npz` built by `fill` to `path` atomically (through [`super::write_file_atomic`]): on any
/// error `path` is untouched and no temporary file is left.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut NpzWriter<Cursor<Vec<u8>>>) -> std::result::Result<(), ndarray_npy::WriteNpzError>,
) -> Result<()> {
    let mut w = NpzWriter::new(Cursor::new(Vec::new()));
    fill(&mut w).map_err(|e| Error::format(path, format!("writing failed: {e}")))?;
    let bytes = w.finish().map_err(|e| Error::format(path, format!("writing failed: {e}")))?.into_inner();
    super::write_file_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic;

    /// `burst_dim` survives a write and a read; a value that is not a whole number in range, or not a
    /// scalar, is refused with a message naming it, and Jacobians must agree with it.
    #[test]
    fn burst_dim_round_trips_and_bad_values_are_refused() {
        let dir = std::env::temp_dir().join(format!("netmatch-burst-dim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let o = synthetic::tanh_pair(false, 60, 0).unwrap().0;
        assert_eq!(o.burst_dim, Some(2));
        let path = dir.join("a.npz");
        write_observations(&path, &o).unwrap();
        let back = read_observations(&path).unwrap();
        assert_eq!((back.burst_dim, back.design_dim()), (Some(2), Some(2)));
        let bursts = match &o.local {
            LocalSource::Bursts(b) => b.clone(),
            LocalSource::Jacobians(_) => unreachable!("bursts"),
        };
        for (value, needle) in [
            (ndarray::arr0(2.5).into_dyn(), "whole number"),
            (ndarray::arr0(0.0).into_dyn(), "whole number"),
            (ndarray::arr0(1e9).into_dyn(), "whole number"),
            (ndarray::arr1(&[1.0, 2.0]).into_dyn(), "scalar"),
        ] {
            let bad = dir.join("bad.npz");
            write_atomic(&bad, |w| {
                w.add_array("obs", &o.obs)?;
                w.add_array("bursts", &bursts)?;
                w.add_array("burst_dim", &value)
            })
            .unwrap();
            let e = read_observations(&bad).unwrap_err().to_string();
            assert!(e.contains("burst_dim") && e.contains(needle), "{e}");
        }
        let jac = synthetic::tanh_layer_jacobians_r(60, 5, 2, 0).unwrap();
        assert_eq!((jac.burst_dim, jac.design_dim()), (None, Some(2)));
        assert!(jac.clone().with_burst_dim(3).unwrap_err().to_string().contains("2 columns"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
