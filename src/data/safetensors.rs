//! `.safetensors` input and output with the same tensor names as the `.npz` format (`obs`,
//! `bursts` or `jacobians`, optional `sigma`, `inputs`, `outputs`). The format is an 8-byte
//! little-endian header length, a JSON header mapping names to dtype, shape and byte offsets, and
//! the raw little-endian data; it is parsed here directly (serde_json is already a dependency).
//! F64, F32, F16 and BF16 tensors are read; F64 is written.

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use serde_json::{Map, Value, json};

use super::{LocalSource, Observations};
use crate::error::{Error, Result};

fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if frac == 0 => sign,
        0 => {
            // Subnormal: renormalise.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        0x1f => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Reads every tensor of a `.safetensors` file as f64, by name.
pub fn read_tensors(path: &Path) -> Result<Vec<(String, ArrayD<f64>)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: String| Error::format(path, m);
    if bytes.len() < 8 {
        return Err(bad("too short for a .safetensors file".into()));
    }
    let hlen = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    if hlen > bytes.len() - 8 {
        return Err(bad(format!("header length {hlen} exceeds the file size {}", bytes.len())));
    }
    let header: Map<String, Value> =
        serde_json::from_slice(&bytes[8..8 + hlen]).map_err(|e| bad(format!("header is not a JSON object: {e}")))?;
    let data = &bytes[8 + hlen..];
    let mut out = Vec::new();
    for (name, info) in header {
        if name == "__metadata__" {
            continue;
        }
        let dtype = info.get("dtype").and_then(Value::as_str).unwrap_or("?").to_string();
        let shape: Vec<usize> = info
            .get("shape")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_u64).map(|v| v as usize).collect())
            .ok_or_else(|| bad(format!("tensor `{name}` has no shape")))?;
        let offs: Vec<usize> = info
            .get("data_offsets")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_u64).map(|v| v as usize).collect())
            .filter(|o: &Vec<usize>| o.len() == 2)
            .ok_or_else(|| bad(format!("tensor `{name}` has no data_offsets")))?;
        let width = match dtype.as_str() {
            "F64" => 8,
            "F32" => 4,
            "F16" | "BF16" => 2,
            other => {
                return Err(bad(format!("tensor `{name}` has dtype {other}; expected F64, F32, F16 or BF16")));
            }
        };
        let count: usize = shape.iter().product();
        if offs[0] > offs[1] || offs[1] > data.len() || offs[1] - offs[0] != count * width {
            return Err(bad(format!(
                "tensor `{name}` ({dtype}, shape {shape:?}) has byte range {offs:?}, which does not match its size \
                 or the {} data bytes",
                data.len()
            )));
        }
        let raw = &data[offs[0]..offs[1]];
        let vals: Vec<f64> = match dtype.as_str() {
            "F64" => raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8"))).collect(),
            "F32" => raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4")) as f64).collect(),
            "F16" => raw.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])) as f64).collect(),
            _ => raw
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64)
                .collect(),
        };
        out.push((name, ArrayD::from_shape_vec(IxDyn(&shape), vals).expect("size checked")));
    }
    Ok(out)
}

/// Reads one network's observations from a `.safetensors` file and validates them.
pub fn read_observations(path: &Path) -> Result<Observations> {
    let mut tensors = read_tensors(path)?;
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
    Observations::from_file(path, obs, local, sigma, inputs, outputs)
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
    write_tensors(path, &t)
}
