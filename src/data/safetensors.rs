//! `.safetensors` input and output with the same tensor names as the `.npz` format (`obs`,
//! `bursts` or `jacobians`, optional `sigma`, `inputs`, `outputs`). The format is an 8-byte
//! little-endian header length, a JSON header mapping names to dtype, shape and byte offsets, and
//! the raw little-endian data. Reading goes through the `safetensors` crate (already compiled for
//! candle), which checks header and byte ranges; F64, F32, F16 and BF16 tensors are read; F64 is written.

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use std::io::Read;

use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors};
use serde_json::{Map, Value, json};

use super::{LocalSource, Observations};
use crate::error::{Error, Result};

/// Reads every tensor of a `.safetensors` file as f64, by name. Only a regular file is read (a link to
/// `/dev/zero` is refused, not read until memory runs out), and only as many bytes as it has.
pub fn read_tensors(path: &Path) -> Result<Vec<(String, ArrayD<f64>)>> {
    let (f, len) = super::npy::open_regular(path)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len as usize).map_err(|_| Error::format(path, format!("cannot hold its {len} bytes")))?;
    f.take(len).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    read_tensors_from_bytes(&bytes, path)
}

/// [`read_tensors`] from the bytes of a whole file (`path` names it in messages). The `safetensors`
/// crate checks the header (length, JSON, known dtypes) and the byte ranges (in range, contiguous, no
/// overlap, sizes matching the shapes with checked arithmetic); the declared shapes of netmatch's keys
/// are then checked against each other before any tensor is converted.
pub fn read_tensors_from_bytes(bytes: &[u8], path: &Path) -> Result<Vec<(String, ArrayD<f64>)>> {
    let bad = |m: String| Error::format(path, m);
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not a valid .safetensors file: {}", explain(&e))))?;
    let mut views: Vec<(String, safetensors::tensor::TensorView<'_>)> = st.tensors();
    views.sort_by(|a, b| a.0.cmp(&b.0));
    let shapes: Vec<(&str, &[usize])> = views.iter().map(|(n, v)| (n.as_str(), v.shape())).collect();
    super::check_declared(&shapes).map_err(|(_, m)| bad(m))?;
    let mut out = Vec::with_capacity(views.len());
    for (name, v) in views {
        let raw = v.data();
        let vals: Vec<f64> = match v.dtype() {
            Dtype::F64 => raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default())).collect(),
            Dtype::F32 => {
                raw.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or_default()))).collect()
            }
            Dtype::F16 => raw.chunks_exact(2).map(|c| f64::from(half::f16::from_le_bytes([c[0], c[1]]))).collect(),
            Dtype::BF16 => raw.chunks_exact(2).map(|c| f64::from(half::bf16::from_le_bytes([c[0], c[1]]))).collect(),
            other => {
                return Err(bad(format!("tensor `{name}` has dtype {other:?}; expected F64, F32, F16 or BF16")));
            }
        };
        let shape = v.shape().to_vec();
        let a = ArrayD::from_shape_vec(IxDyn(&shape), vals)
            .map_err(|e| bad(format!("tensor `{name}` shape {shape:?} does not match its data: {e}")))?;
        out.push((name, a));
    }
    Ok(out)
}

/// The crate's error in words a user can act on.
fn explain(e: &SafeTensorError) -> String {
    match e {
        SafeTensorError::HeaderTooSmall => "shorter than the 8-byte header length".into(),
        SafeTensorError::HeaderTooLarge | SafeTensorError::InvalidHeaderLength => {
            "the header length exceeds the file (truncated, or not a .safetensors file)".into()
        }
        SafeTensorError::InvalidOffset(t) => {
            format!("tensor `{t}`'s byte range overlaps another or leaves a gap (data_offsets must tile the data)")
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            "the data section is not the size the tensors declare (truncated or trailing bytes)".into()
        }
        SafeTensorError::TensorInvalidInfo => "a tensor's byte range does not match its shape and dtype".into(),
        SafeTensorError::ValidationOverflow => "a tensor's shape overflows the addressable size".into(),
        other => other.to_string(),
    }
}

/// Reads one network's observations from a `.safetensors` file and validates them.
pub fn read_observations(path: &Path) -> Result<Observations> {
    observations_from(read_tensors(path)?, path)
}

/// [`read_observations`] from the bytes of a whole file (`path` names it in messages).
pub fn read_observations_from_bytes(bytes: &[u8], path: &Path) -> Result<Observations> {
    observations_from(read_tensors_from_bytes(bytes, path)?, path)
}

fn observations_from(mut tensors: Vec<(String, ArrayD<f64>)>, path: &Path) -> Result<Observations> {
    let names: Vec<String> = tensors.iter().map(|t| t.0.clone()).collect();
    let mut take = |key: &str| tensors.iter().position(|t| t.0 == key).map(|i| tensors.swap_remove(i).1);
    let obs = take("obs").ok_or_else(|| Error::format(path, format!("missing tensor `obs` (present: {names:?})")))?;
    let obs = super::npy::as_matrix(obs, path, "obs")?;
    let three = |a: ArrayD<f64>, key: &str, what: &str| {
        let shape = a.shape().to_vec();
        a.into_dimensionality::<ndarray::Ix3>()
            .map_err(|_| Error::format(path, format!("tensor `{key}` must be {what}, got shape {shape:?}")))
    };
    let local = match (take("bursts"), take("jacobians")) {
        (Some(b), None) => LocalSource::Bursts(three(b, "bursts", "3-D (N×M×D)")?),
        (None, Some(j)) => LocalSource::Jacobians(three(j, "jacobians", "3-D (N×D×d)")?),
        (Some(_), Some(_)) => return Err(Error::format(path, "holds both `bursts` and `jacobians`; keep exactly one")),
        (None, None) => {
            return Err(Error::format(path, format!("missing tensor `bursts` or `jacobians` (present: {names:?})")));
        }
    };
    let sigma = match take("sigma") {
        None => 1.0,
        Some(s) if s.len() == 1 => s.iter().copied().next().unwrap_or(1.0),
        Some(s) => return Err(Error::format(path, format!("`sigma` must be a scalar, got shape {:?}", s.shape()))),
    };
    let inputs = take("inputs").map(|x| super::npy::as_matrix(x, path, "inputs")).transpose()?;
    let outputs = take("outputs").map(|x| super::npy::as_matrix(x, path, "outputs")).transpose()?;
    let burst_dim = take("burst_dim");
    Observations::from_file(path, obs, local, sigma, inputs, outputs)?.with_burst_dim_member(path, burst_dim)
}

/// Writes named f64 tensors as `.safetensors` (atomically).
pub fn write_tensors(path: &Path, tensors: &[(&str, ArrayD<f64>)]) -> Result<()> {
    let mut header = Map::new();
    let mut data: Vec<u8> = Vec::new();
    for (name, a) in tensors {
        let start = data.len();
        for v in a.iter() {
            data.extend_from_slice(&v.to_le_bytes());
        }
        header
            .insert(name.to_string(), json!({"dtype": "F64", "shape": a.shape(), "data_offsets": [start, data.len()]}));
    }
    let mut h = serde_json::to_vec(&Value::Object(header)).map_err(|e| Error::format(path, e.to_string()))?;
    // Pad the header with spaces to a multiple of 8 bytes, as the reference implementation does.
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&h);
    bytes.extend_from_slice(&data);
    super::write_file_atomic(path, &bytes)
}

/// Writes observations as `.safetensors` with the names [`read_observations`] reads.
pub fn write_observations(path: &Path, d: &Observations) -> Result<()> {
    let mut t: Vec<(&str, ArrayD<f64>)> = vec![("obs", d.obs.clone().into_dyn())];
    match &d.local {
        LocalSource::Bursts(b) => t.push(("bursts", b.clone().into_dyn())),
        LocalSource::Jacobians(j) => t.push(("jacobians", j.clone().into_dyn())),
    }
    t.push(("sigma", ndarray::arr0(d.sigma).into_dyn()));
    if let Some(x) = &d.inputs {
        t.push(("inputs", x.clone().into_dyn()));
    }
    if let Some(o) = &d.outputs {
        t.push(("outputs", o.clone().into_dyn()));
    }
    if let Some(b) = d.burst_dim {
        t.push(("burst_dim", ndarray::arr0(b as f64).into_dyn()));
    }
    write_tensors(path, &t)
}
