//! Plain `.npy` input: one array per file, for researchers who keep `obs`, `bursts` / `jacobians`,
//! `inputs` and `outputs` as separate NumPy files (`netmatch compare --a-obs … --a-bursts …`).
//! float32 and float64 are accepted; everything is validated by [`Observations::new`].

use std::path::Path;

use ndarray::{Array2, ArrayD, Ix2, Ix3};

use super::{LocalSource, Observations};
use crate::error::{Error, Result};

/// Reads one float32 or float64 `.npy` file as f64.
pub fn read(path: &Path) -> Result<ArrayD<f64>> {
    let open = || std::fs::File::open(path).map_err(|e| Error::io(path, e));
    if let Ok(a) = ndarray_npy::ReadNpyExt::read_npy(open()?) {
        return Ok(a);
    }
    let a: ArrayD<f32> = ndarray_npy::ReadNpyExt::read_npy(open()?)
        .map_err(|e| Error::format(path, format!("not a float32/float64 .npy array: {e}")))?;
    Ok(a.mapv(f64::from))
}

/// A 1-D array as an N×1 matrix, a 2-D array as is; anything else is a format error naming `key`.
pub fn as_matrix(a: ArrayD<f64>, path: &Path, key: &str) -> Result<Array2<f64>> {
    let shape = a.shape().to_vec();
    match shape.len() {
        1 => Ok(a.into_shape_with_order((shape[0], 1)).expect("contiguous after read")),
        2 => Ok(a.into_dimensionality::<Ix2>().expect("checked rank")),
        _ => Err(Error::format(path, format!("array `{key}` must be 1-D or 2-D (N×…), got shape {shape:?}"))),
    }
}

/// The `.npy` files of one network.
#[derive(Clone, Debug, Default)]
pub struct NpyFiles<'a> {
    /// N×D observations.
    pub obs: Option<&'a Path>,
    /// N×M×D bursts.
    pub bursts: Option<&'a Path>,
    /// N×D×d Jacobians.
    pub jacobians: Option<&'a Path>,
    /// N×d inputs.
    pub inputs: Option<&'a Path>,
    /// N×P outputs.
    pub outputs: Option<&'a Path>,
}

/// Reads and validates one network's observations from separate `.npy` files.
pub fn read_observations(f: &NpyFiles, sigma: f64) -> Result<Observations> {
    let obs_path = f.obs.ok_or_else(|| Error::param("obs", "the observations file (…-obs X.npy) is required"))?;
    let obs = as_matrix(read(obs_path)?, obs_path, "obs")?;
    let three = |p: &Path, key: &str, what: &str| -> Result<ndarray::Array3<f64>> {
        let a = read(p)?;
        let shape = a.shape().to_vec();
        a.into_dimensionality::<Ix3>()
            .map_err(|_| Error::format(p, format!("array `{key}` must be {what}, got shape {shape:?}")))
    };
    let local = match (f.bursts, f.jacobians) {
        (Some(b), None) => LocalSource::Bursts(three(b, "bursts", "3-D (N×M×D)")?),
        (None, Some(j)) => LocalSource::Jacobians(three(j, "jacobians", "3-D (N×D×d)")?),
        (Some(_), Some(_)) => return Err(Error::param("bursts", "give either bursts or jacobians, not both")),
        (None, None) => return Err(Error::param("bursts", "give the bursts (N×M×D) or the Jacobians (N×D×d)")),
    };
    let inputs = f.inputs.map(|p| read(p).and_then(|a| as_matrix(a, p, "inputs"))).transpose()?;
    let data = Observations::new(obs, local, sigma, inputs)?;
    match f.outputs {
        Some(p) => data.with_outputs(as_matrix(read(p)?, p, "outputs")?),
        None => Ok(data),
    }
}
