//! Inputs: one network's observations (`obs`, N×D), their local source (`bursts` N×M×D or
//! `jacobians` N×D×d), the burst radius `sigma` and optional ground-truth `inputs` (N×d). Validation
//! lives here so every entry point (file, library call, synthetic generator) rejects the same bad input
//! with the same message.

pub mod npy;
pub mod npz;
pub mod safetensors;
pub mod synthetic;

use std::path::Path;

use ndarray::{Array2, Array3, ArrayD};

use crate::error::{Error, Result};

/// Where the local covariances come from.
#[derive(Clone, Debug)]
pub enum LocalSource {
    /// N×M×D: M perturbed observations per base point.
    Bursts(Array3<f64>),
    /// N×D×d: Jacobians ∂o/∂x (C = J Jᵀ, the σ → 0 limit of a burst).
    Jacobians(Array3<f64>),
}

/// One network's observations, validated by [`Observations::new`].
#[derive(Clone, Debug)]
pub struct Observations {
    /// N×D observations.
    pub obs: Array2<f64>,
    /// Bursts or Jacobians.
    pub local: LocalSource,
    /// Burst radius in input units (1 when absent: ε then absorbs the scale).
    pub sigma: f64,
    /// Optional N×d ground-truth inputs (plots, checks).
    pub inputs: Option<Array2<f64>>,
    /// Optional N×P outputs of the network, when `obs` holds hidden neurons (Whitney reconstruction).
    pub outputs: Option<Array2<f64>>,
    /// The burst design's dimension, when the recorder knows it: how many independent input
    /// directions the bursts perturb (`burst_dim` in a file; `netmatch.record` writes the base inputs'
    /// column count). It is then the intrinsic dimension d; see [`Observations::design_dim`].
    pub burst_dim: Option<usize>,
}

/// Largest declared burst design dimension (`burst_dim`).
pub const MAX_DESIGN_DIM: usize = 64;

/// Largest magnitude accepted in an input array: squares and sums of squares over a million
/// entries must stay finite in f64 (1e100² × 1e6 = 1e206).
pub const MAX_MAGNITUDE: f64 = 1e100;
/// Below this, a nonzero array's squares underflow: values are refused as out of range.
pub const MIN_MAGNITUDE: f64 = 1e-100;
/// σ must lie in [1e-100, 1e100] for the same reason.
pub const SIGMA_RANGE: (f64, f64) = (1e-100, 1e100);

fn check_finite<'a>(name: &str, values: impl Iterator<Item = &'a f64>) -> Result<()> {
    let mut largest = 0.0f64;
    for (index, &v) in values.enumerate() {
        if !v.is_finite() {
            return Err(Error::NonFinite { array: name.to_string(), index, value: v });
        }
        if v.abs() > MAX_MAGNITUDE {
            return Err(Error::Shape(format!(
                "`{name}` holds {v:e} at flat index {index}: magnitudes above {MAX_MAGNITUDE:e} overflow squared \
                 distances in f64 — rescale the data"
            )));
        }
        largest = largest.max(v.abs());
    }
    if largest > 0.0 && largest < MIN_MAGNITUDE {
        return Err(Error::Shape(format!(
            "`{name}` has no magnitude above {largest:e}: values below {MIN_MAGNITUDE:e} underflow when squared in \
             f64 — rescale the data"
        )));
    }
    Ok(())
}

/// Checks one network's declared array shapes against each other before any large array is read, so
/// that a header promising a huge `bursts` that cannot match `obs` is refused for its shape, not after
/// it was decompressed. `shapes` holds (key, shape) for the keys present; on failure returns the key at
/// fault and why. [`Observations::new`] repeats the full validation on the data.
pub(crate) fn check_declared(shapes: &[(&str, &[usize])]) -> std::result::Result<(), (String, String)> {
    use npy::shape_text;
    let get = |k: &str| shapes.iter().find(|s| s.0 == k).map(|s| s.1);
    let err = |k: &str, m: String| Err((k.to_string(), m));
    let Some(obs) = get("obs") else { return Ok(()) };
    let (n, dim) = match obs {
        [n] => (*n, 1),
        [n, d] => (*n, *d),
        s => return err("obs", format!("array `obs` must be 1-D or 2-D (N×D), declared shape {}", shape_text(s))),
    };
    if let Some(b) = get("bursts") {
        if b.len() != 3 || b[0] != n || b[2] != dim {
            return err(
                "bursts",
                format!(
                    "`bursts` must be N×M×D = {n}×M×{dim} to match `obs` ({n}×{dim}), declared shape {}",
                    shape_text(b)
                ),
            );
        }
    }
    if let Some(j) = get("jacobians") {
        if j.len() != 3 || j[0] != n || j[1] != dim {
            return err(
                "jacobians",
                format!(
                    "`jacobians` must be N×D×d = {n}×{dim}×d to match `obs` ({n}×{dim}), declared shape {}",
                    shape_text(j)
                ),
            );
        }
    }
    for key in ["inputs", "outputs"] {
        if let Some(x) = get(key) {
            if x.is_empty() || x.len() > 2 || x[0] != n {
                return err(
                    key,
                    format!("`{key}` must be N×… with N = {n} rows (1-D or 2-D), declared shape {}", shape_text(x)),
                );
            }
        }
    }
    for key in ["sigma", "burst_dim"] {
        if let Some(s) = get(key) {
            if s.len() > 1 || s.first().is_some_and(|&v| v != 1) {
                return err(key, format!("`{key}` must be a scalar, declared shape {}", shape_text(s)));
            }
        }
    }
    Ok(())
}

/// A burst is the network's outputs at inputs scattered around a base input, so its mean lies near
/// that input's observation — within a few burst spreads even for strongly curved networks (the mean
/// moves by the curvature term, O(σ²‖H‖), the spread is O(σ‖J‖)). Bursts whose typical mean lies more
/// than [`MAX_BURST_OFFSET`] spreads away belong to other observations: another network's file, or rows
/// in another order. Judged on the median point, so a few odd points do not decide.
pub const MAX_BURST_OFFSET: f64 = 10.0;

fn check_bursts_surround(obs: &Array2<f64>, b: &Array3<f64>) -> Result<()> {
    let (n, m, dim) = b.dim();
    let mut ratios: Vec<f64> = (0..n)
        .map(|i| {
            let burst = b.index_axis(ndarray::Axis(0), i);
            let (mut offset, mut spread) = (0.0, 0.0);
            for c in 0..dim {
                let col = burst.column(c);
                let mean = col.sum() / m as f64;
                offset += (mean - obs[[i, c]]).powi(2);
                spread += col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
            }
            match (offset, spread) {
                (o, _) if o == 0.0 => 0.0,
                (_, s) if s == 0.0 => f64::INFINITY,
                (o, s) => (o / s).sqrt(),
            }
        })
        .collect();
    ratios.sort_unstable_by(f64::total_cmp);
    let median = ratios[(n - 1) / 2];
    if median > MAX_BURST_OFFSET {
        return Err(Error::Shape(format!(
            "`bursts` do not surround `obs`: at the median point the burst mean lies {median:.3e} burst spreads \
             from its observation (at most {MAX_BURST_OFFSET} expected) — bursts of another network, or rows in \
             another order than `obs`?"
        )));
    }
    Ok(())
}

impl Observations {
    /// Validates shapes and values: N ≥ 2, D ≥ 1, M ≥ 2, matching N and D, finite values, σ > 0.
    pub fn new(obs: Array2<f64>, local: LocalSource, sigma: f64, inputs: Option<Array2<f64>>) -> Result<Self> {
        let (n, dim) = obs.dim();
        if n < 2 || dim == 0 {
            return Err(Error::Shape(format!("`obs` must be N×D with N ≥ 2 and D ≥ 1, got {n}×{dim}")));
        }
        check_finite("obs", obs.iter())?;
        match &local {
            LocalSource::Bursts(b) => {
                let s = b.shape();
                if s[0] != n || s[2] != dim {
                    return Err(Error::Shape(format!(
                        "`bursts` must be N×M×D = {n}×M×{dim} to match `obs` ({n}×{dim}), got {}×{}×{}",
                        s[0], s[1], s[2]
                    )));
                }
                if s[1] < 2 {
                    return Err(Error::Shape(format!(
                        "`bursts` needs M ≥ 2 samples per point for a covariance, got M = {}",
                        s[1]
                    )));
                }
                check_finite("bursts", b.iter())?;
                check_bursts_surround(&obs, b)?;
            }
            LocalSource::Jacobians(j) => {
                let s = j.shape();
                if s[0] != n || s[1] != dim || s[2] == 0 {
                    return Err(Error::Shape(format!(
                        "`jacobians` must be N×D×d = {n}×{dim}×d (d ≥ 1) to match `obs` ({n}×{dim}), got {}×{}×{}",
                        s[0], s[1], s[2]
                    )));
                }
                check_finite("jacobians", j.iter())?;
            }
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(Error::param("sigma", format!("must be a positive finite number, got {sigma}")));
        }
        if !(SIGMA_RANGE.0..=SIGMA_RANGE.1).contains(&sigma) {
            return Err(Error::param(
                "sigma",
                format!(
                    "σ = {sigma:e} is outside [{:e}, {:e}]: σ² over- or underflows f64 (give σ in the inputs' units)",
                    SIGMA_RANGE.0, SIGMA_RANGE.1
                ),
            ));
        }
        if let Some(x) = &inputs {
            if x.nrows() != n {
                return Err(Error::Shape(format!("`inputs` has {} rows but `obs` has N = {n}", x.nrows())));
            }
            check_finite("inputs", x.iter())?;
        }
        Ok(Observations { obs, local, sigma, inputs, outputs: None, burst_dim: None })
    }

    /// Validates arrays handed over in memory (the Python module's `Observations`): the same checks and
    /// messages as a file's members. `obs` is N×D or 1-D (then N×1, as in a file); exactly one of
    /// `bursts` (N×M×D) and `jacobians` (N×D×d); `inputs` and `outputs` N×… (1-D is N×1).
    pub fn from_arrays(
        obs: ArrayD<f64>,
        bursts: Option<ArrayD<f64>>,
        jacobians: Option<ArrayD<f64>>,
        sigma: f64,
        inputs: Option<ArrayD<f64>>,
        outputs: Option<ArrayD<f64>>,
    ) -> Result<Self> {
        let local = match (bursts, jacobians) {
            (Some(b), None) => ("bursts", b),
            (None, Some(j)) => ("jacobians", j),
            (Some(_), Some(_)) => {
                return Err(Error::param("bursts", "give either `bursts` or `jacobians`, not both"));
            }
            (None, None) => {
                return Err(Error::param("bursts", "give the `bursts` (N×M×D) or the `jacobians` (N×D×d)"));
            }
        };
        let mut shapes: Vec<(&str, &[usize])> = vec![("obs", obs.shape()), (local.0, local.1.shape())];
        for (key, x) in [("inputs", &inputs), ("outputs", &outputs)] {
            if let Some(x) = x {
                shapes.push((key, x.shape()));
            }
        }
        check_declared(&shapes).map_err(|(_, m)| Error::Shape(m))?;
        let matrix = |a: ArrayD<f64>, key: &str| -> Result<Array2<f64>> {
            let shape = a.shape().to_vec();
            let bad = || Error::Shape(format!("array `{key}` must be 1-D or 2-D (N×…), got shape {shape:?}"));
            match shape.len() {
                1 => a.into_shape_with_order((shape[0], 1)).map_err(|_| bad()),
                2 => a.into_dimensionality::<ndarray::Ix2>().map_err(|_| bad()),
                _ => Err(bad()),
            }
        };
        let obs = matrix(obs, "obs")?;
        let (key, arr) = local;
        let shape = arr.shape().to_vec();
        let arr = arr.into_dimensionality::<ndarray::Ix3>().map_err(|_| {
            let what = if key == "bursts" { "3-D (N×M×D)" } else { "3-D (N×D×d)" };
            Error::Shape(format!("array `{key}` must be {what}, got shape {shape:?}"))
        })?;
        let local = if key == "bursts" { LocalSource::Bursts(arr) } else { LocalSource::Jacobians(arr) };
        let inputs = inputs.map(|x| matrix(x, "inputs")).transpose()?;
        let data = Observations::new(obs, local, sigma, inputs)?;
        match outputs {
            Some(o) => data.with_outputs(matrix(o, "outputs")?),
            None => Ok(data),
        }
    }

    /// Validates arrays read from `path` (shape errors then name the file) and attaches `outputs`.
    pub fn from_file(
        path: &Path,
        obs: Array2<f64>,
        local: LocalSource,
        sigma: f64,
        inputs: Option<Array2<f64>>,
        outputs: Option<Array2<f64>>,
    ) -> Result<Self> {
        let data = Observations::new(obs, local, sigma, inputs);
        let data = match (data, outputs) {
            (Ok(d), Some(o)) => d.with_outputs(o),
            (d, _) => d,
        };
        data.map_err(|e| match e {
            Error::Shape(m) => Error::format(path, m),
            Error::Param { name: "sigma", message } => Error::format(path, format!("`sigma`: {message}")),
            Error::NonFinite { array, index, value } => {
                Error::format(path, format!("non-finite value in `{array}` at flat index {index} (value {value})"))
            }
            other => other,
        })
    }

    /// Attaches the network's own outputs (N×P, finite) to observations of its hidden neurons.
    pub fn with_outputs(mut self, outputs: Array2<f64>) -> Result<Self> {
        if outputs.nrows() != self.n() || outputs.ncols() == 0 {
            return Err(Error::Shape(format!(
                "`outputs` must be N×P with N = {} and P ≥ 1, got {}×{}",
                self.n(),
                outputs.nrows(),
                outputs.ncols()
            )));
        }
        check_finite("outputs", outputs.iter())?;
        self.outputs = Some(outputs);
        Ok(self)
    }

    /// Applies a `burst_dim` member read from `path` (a scalar holding a whole number; absent: unknown).
    pub fn with_burst_dim_member(self, path: &Path, value: Option<ArrayD<f64>>) -> Result<Self> {
        let Some(v) = value else { return Ok(self) };
        let x = match v.len() {
            1 => v.iter().copied().next().unwrap_or(f64::NAN),
            _ => return Err(Error::format(path, format!("`burst_dim` must be a scalar, got shape {:?}", v.shape()))),
        };
        if !(x.fract() == 0.0 && x >= 1.0 && x <= MAX_DESIGN_DIM as f64) {
            return Err(Error::format(
                path,
                format!("`burst_dim` must be a whole number in 1..={MAX_DESIGN_DIM}, got {x}"),
            ));
        }
        self.with_burst_dim(x as usize).map_err(|e| match e {
            Error::Shape(m) => Error::format(path, m),
            other => other,
        })
    }

    /// Declares the burst design's dimension (1 ..= [`MAX_DESIGN_DIM`]); with Jacobians it must equal
    /// their column count.
    pub fn with_burst_dim(mut self, d: usize) -> Result<Self> {
        if !(1..=MAX_DESIGN_DIM).contains(&d) {
            return Err(Error::param("burst_dim", format!("must lie in 1..={MAX_DESIGN_DIM}, got {d}")));
        }
        if let LocalSource::Jacobians(j) = &self.local {
            if j.shape()[2] != d {
                return Err(Error::Shape(format!(
                    "`burst_dim` = {d} but the Jacobians have {} columns (one per input direction)",
                    j.shape()[2]
                )));
            }
        }
        self.burst_dim = Some(d);
        Ok(self)
    }

    /// The dimension of the input directions the bursts (or Jacobians) explore, when it is known: the
    /// declared `burst_dim`, or the Jacobians' column count when it is at most
    /// [`crate::pipeline::covariance::MAX_RANK`] (a Jacobian with respect to every pixel of an image is
    /// not a design of intrinsic directions). A burst rank above it is a property of the burst (kinks,
    /// curvature, noise); a rank below it is evidence.
    pub fn design_dim(&self) -> Option<usize> {
        self.burst_dim.or(match &self.local {
            LocalSource::Jacobians(j) if j.shape()[2] <= crate::pipeline::covariance::MAX_RANK => Some(j.shape()[2]),
            _ => None,
        })
    }

    /// The observations restricted to the columns `cols` of `obs` (and of the bursts or Jacobians).
    pub fn columns(&self, cols: &[usize]) -> Result<Self> {
        if cols.is_empty() || cols.iter().any(|&c| c >= self.dim()) {
            return Err(Error::param("neurons", format!("columns {cols:?} out of range for D = {}", self.dim())));
        }
        let obs = self.obs.select(ndarray::Axis(1), cols);
        let local = match &self.local {
            LocalSource::Bursts(b) => LocalSource::Bursts(b.select(ndarray::Axis(2), cols)),
            LocalSource::Jacobians(j) => LocalSource::Jacobians(j.select(ndarray::Axis(1), cols)),
        };
        let mut out = Observations::new(obs, local, self.sigma, self.inputs.clone())?;
        out.outputs = self.outputs.clone();
        out.burst_dim = self.burst_dim;
        Ok(out)
    }

    /// Number of points N.
    pub fn n(&self) -> usize {
        self.obs.nrows()
    }
    /// Observation dimension D.
    pub fn dim(&self) -> usize {
        self.obs.ncols()
    }
}

/// Reads one network's observations from `.npz` or `.safetensors` (by extension; the same keys in
/// both: `obs`, `bursts` or `jacobians`, optional `sigma`, `inputs`, `outputs`).
pub fn load(path: &Path) -> Result<Observations> {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("safetensors") => safetensors::read_observations(path),
        Some("npz") => npz::read_observations(path),
        _ => Err(Error::format(
            path,
            "unknown extension: expected .npz or .safetensors (or pass .npy files with --a-obs …)",
        )),
    }
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so a failed write
/// leaves neither a partial file nor a changed target.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
