//! `.npz` input and output. Arrays may be float32 or float64 (anything else is a format error naming the
//! key); outputs are written to a temporary file beside the target and renamed into place, so a failed
//! run never leaves a half-written file.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use ndarray::{Array, ArrayD, IxDyn};
use ndarray_npy::{NpzReader, NpzWriter};

use super::{LocalSource, Observations};
use crate::error::{Error, Result};

fn read_any(reader: &mut NpzReader<File>, names: &[String], path: &Path, key: &str) -> Result<Option<ArrayD<f64>>> {
    if !names.iter().any(|n| n == key) {
        return Ok(None);
    }
    if let Ok(a) = reader.by_name::<ndarray::OwnedRepr<f64>, IxDyn>(key) {
        return Ok(Some(a));
    }
    match reader.by_name::<ndarray::OwnedRepr<f32>, IxDyn>(key) {
        Ok(a) => Ok(Some(a.mapv(f64::from))),
        Err(e) => Err(Error::format(path, format!("array `{key}` must be float32 or float64: {e}"))),
    }
}

fn with_ndim<D: ndarray::Dimension>(a: ArrayD<f64>, path: &Path, key: &str, what: &str) -> Result<Array<f64, D>> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>()
        .map_err(|_| Error::format(path, format!("array `{key}` must be {what}, got shape {shape:?}")))
}

/// Reads one network's observations from an `.npz` file (keys `obs`, `bursts` or `jacobians`,
/// optional `sigma`, `inputs` and `outputs`) and validates them.
pub fn read_observations(path: &Path) -> Result<Observations> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader =
        NpzReader::new(file).map_err(|e| Error::format(path, format!("not a readable .npz archive: {e}")))?;
    let names = reader.names().map_err(|e| Error::format(path, e.to_string()))?;
    let obs = read_any(&mut reader, &names, path, "obs")?
        .ok_or_else(|| Error::format(path, format!("missing key `obs` (keys present: {names:?})")))?;
    let obs = with_ndim::<ndarray::Ix2>(obs, path, "obs", "2-D (N×D)")?;
    let bursts = read_any(&mut reader, &names, path, "bursts")?;
    let jac = read_any(&mut reader, &names, path, "jacobians")?;
    let local = match (bursts, jac) {
        (Some(b), None) => LocalSource::Bursts(with_ndim(b, path, "bursts", "3-D (N×M×D)")?),
        (None, Some(j)) => LocalSource::Jacobians(with_ndim(j, path, "jacobians", "3-D (N×D×d)")?),
        (Some(_), Some(_)) => {
            return Err(Error::format(path, "holds both `bursts` and `jacobians`; keep exactly one"));
        }
        (None, None) => {
            return Err(Error::format(path, format!("missing key `bursts` or `jacobians` (keys present: {names:?})")));
        }
    };
    let sigma = match read_any(&mut reader, &names, path, "sigma")? {
        None => 1.0,
        Some(s) if s.len() == 1 => s.iter().copied().next().unwrap_or(1.0),
        Some(s) => {
            return Err(Error::format(path, format!("`sigma` must be a scalar, got shape {:?}", s.shape())));
        }
    };
    let inputs = match read_any(&mut reader, &names, path, "inputs")? {
        None => None,
        Some(x) if x.ndim() == 1 => {
            let n = x.len();
            Some(
                with_ndim::<ndarray::Ix1>(x, path, "inputs", "1-D or 2-D")?
                    .into_shape_with_order((n, 1))
                    .expect("contiguous"),
            )
        }
        Some(x) => Some(with_ndim(x, path, "inputs", "2-D (N×d)")?),
    };
    let outputs = read_any(&mut reader, &names, path, "outputs")?
        .map(|o| super::npy::as_matrix(o, path, "outputs"))
        .transpose()?;
    Observations::from_file(path, obs, local, sigma, inputs, outputs)
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
