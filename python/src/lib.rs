//! `netmatch._native`: the Rust side of the Python package. It converts numpy arrays into the
//! library's [`netmatch::Observations`] (with the files' validation and messages), runs the library
//! with the GIL released, forwards its progress events to a Python callable, and hands results back
//! as numpy arrays and plain Python values. It holds no method of its own: every number comes from
//! the `netmatch` crate, through the same calls the command line makes ([`netmatch::study`] for a
//! comparison), so Python and the CLI agree on the same inputs. The Python package around it
//! (`python/netmatch/`) adds the keyword defaults, the progress bar and `record`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ndarray::ArrayD;
use netmatch::backend::{BackendChoice, KernelMethod, Precision};
use netmatch::data::{LocalSource, Observations};
use netmatch::observe::{Event, Observe, Observer};
use netmatch::pipeline::compare::CompareParams;
use netmatch::pipeline::embed::{EmbedParams, SparseSolve, Storage};
use netmatch::pipeline::kernel::EpsilonRule;
use netmatch::pipeline::whitney::Neurons;
use netmatch::report::{Member, ReportArrays};
use netmatch::solve::block::Solver;
use netmatch::study::{Study, StudyParams, compare_networks};
use numpy::{AllowTypeChange, IntoPyArray, PyArrayLikeDyn, ToPyArray};
use pyo3::create_exception;
use pyo3::exceptions::{PyMemoryError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    netmatch,
    ConvergenceError,
    pyo3::exceptions::PyRuntimeError,
    "The eigen-solve did not converge (pass allow_unconverged=True to keep the result)."
);
create_exception!(
    netmatch,
    GpuError,
    pyo3::exceptions::PyRuntimeError,
    "No usable GPU (backend=\"gpu\"), or the GPU failed; backend=\"auto\" or \"cpu\" computes on the CPU."
);

/// The library's error as the Python exception a caller expects: bad input and parameters are a
/// `ValueError`, files an `OSError`, memory a `MemoryError`, the GPU a `GpuError`, an eigen-solve a
/// `ConvergenceError`. The message is the library's, with the command line's flags spelt as the
/// Python keywords (see [`pythonic`]).
fn to_py(e: netmatch::Error) -> PyErr {
    use netmatch::Error as E;
    let text = pythonic(&e.to_string());
    match e {
        E::Param { name, message } => {
            let name = if name == "out" { "dir".to_string() } else { name.replace('-', "_") };
            PyValueError::new_err(format!("invalid parameter `{name}`: {}", pythonic(&message)))
        }
        E::Io { .. } => PyOSError::new_err(text),
        E::HostMemory { .. } => PyMemoryError::new_err(text),
        E::NoGpu(_) | E::Gpu(_) => GpuError::new_err(text),
        E::Eigen(_) => ConvergenceError::new_err(text),
        E::Network(_) => PyRuntimeError::new_err(text),
        // Only when a listener asked to stop, and then its own exception is raised instead.
        E::Cancelled => pyo3::exceptions::PyKeyboardInterrupt::new_err(text),
        // Shape, NonFinite, Format, Degenerate, TooLarge and later variants: the input is at fault.
        _ => PyValueError::new_err(text),
    }
}

/// A library message with the command line's flags as the Python keywords: `--force` becomes
/// `force=True`, `--equivalent-rmse` becomes `equivalent_rmse`.
fn pythonic(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let flag = &rest[at + 2..];
        let len = flag.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(flag.len());
        match &flag[..len] {
            "" => out.push_str("--"),
            "force" => out.push_str("force=True"),
            name => out.push_str(&name.replace('-', "_")),
        }
        rest = &flag[len..];
    }
    out.push_str(rest);
    out
}

fn parse<T: std::str::FromStr<Err = netmatch::Error>>(s: &str) -> PyResult<T> {
    s.parse().map_err(to_py)
}

/// Listens to the library for Python: forwards its events to an optional callable as dicts, and
/// stops the computation (the library's [`netmatch::Error::Cancelled`]) at its next step or
/// eigensolver cycle once Ctrl-C was pressed or the callable raised. The library calls it on the
/// thread that released the GIL (the caller's, so Python's signal handlers can run); the GIL is taken
/// back for each call. The first exception is kept and raised when the call returns.
struct Listener {
    callback: Option<Py<PyAny>>,
    error: Mutex<Option<PyErr>>,
}

impl Observer for Listener {
    fn event(&self, e: &Event<'_>) {
        let Some(callback) = &self.callback else { return };
        let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if error.is_some() {
            return;
        }
        Python::attach(|py| {
            let d = PyDict::new(py);
            let task = |kind: &str, task: &str, what: &str, done: usize, total: usize, seconds: f64| {
                d.set_item("kind", kind)?;
                d.set_item("task", task)?;
                d.set_item("what", what)?;
                d.set_item("done", done)?;
                d.set_item("total", total)?;
                d.set_item("seconds", seconds)
            };
            let filled = match *e {
                Event::Step { task: t, what, done, total, seconds } => task("step", t, what, done, total, seconds),
                Event::Finished { task: t, what, total, seconds } => task("finished", t, what, total, total, seconds),
                Event::Detail(text) => d.set_item("kind", "detail").and_then(|()| d.set_item("text", text)),
                Event::Warning(text) => d.set_item("kind", "warning").and_then(|()| d.set_item("text", text)),
            };
            if let Err(err) = filled.and_then(|()| callback.call1(py, (d,)).map(drop)) {
                *error = Some(err);
            }
        });
    }

    fn cancelled(&self) -> bool {
        let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if error.is_none() {
            // Runs the pending signal handlers (only possible on the main thread; elsewhere a no-op):
            // Ctrl-C raises KeyboardInterrupt here.
            if let Err(err) = Python::attach(|py| py.check_signals()) {
                *error = Some(err);
            }
        }
        error.is_some()
    }
}

impl Listener {
    /// An [`Observe`] that listens for Ctrl-C and forwards events to `callback` when given, and the
    /// handle to collect what was raised.
    fn install(callback: Option<Py<PyAny>>) -> (Observe, Arc<Listener>) {
        let l = Arc::new(Listener { callback, error: Mutex::new(None) });
        (Observe::new(l.clone()), l)
    }

    /// Whether events go anywhere (the library's verbose switch).
    fn forwards(&self) -> bool {
        self.callback.is_some()
    }

    /// The result of a call that ran with this listener: what the callable raised or Ctrl-C
    /// interrupted comes first (the library then returned `Cancelled`, or finished regardless).
    fn finish<T>(&self, result: netmatch::Result<T>) -> PyResult<T> {
        if let Some(err) = self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(err);
        }
        result.map_err(to_py)
    }
}

/// A read-only numpy view of `array`, whose memory `owner` keeps alive: a user reading
/// `observations.bursts` of a large network gets no copy, and cannot change validated data.
fn view<'py, D: ndarray::Dimension>(
    array: &ndarray::Array<f64, D>,
    owner: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: `array` lives in the `Arc<Observations>` of `owner`, a frozen `PyObservations` that the
    // view keeps alive; nothing changes or reallocates it after construction.
    let a = unsafe { numpy::PyArray::borrow_from_array(array, owner) };
    a.call_method1("setflags", (false,))?;
    Ok(a.into_any())
}

fn owned(a: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>) -> Option<ArrayD<f64>> {
    a.map(|a| a.as_array().to_owned())
}

/// One network's observations, validated exactly as a file's members are.
#[pyclass(name = "Observations", module = "netmatch._native", frozen)]
struct PyObservations {
    inner: Arc<Observations>,
    /// Where they came from (a file, or `"arrays"`), for reports.
    source: String,
}

#[pymethods]
impl PyObservations {
    /// Validates one network's arrays (any float dtype or nested lists): `obs` N×D (1-D: N×1),
    /// exactly one of `bursts` N×M×D and `jacobians` N×D×d, `sigma` > 0, optional `inputs` N×d and
    /// `outputs` N×P, and `burst_dim`: how many independent input directions the bursts perturb (the
    /// intrinsic dimension d when known; `record` sets it). Raises `ValueError` with the file reader's
    /// message for the same arrays.
    #[new]
    #[pyo3(signature = (obs, bursts=None, jacobians=None, sigma=1.0, inputs=None, outputs=None, burst_dim=None))]
    #[expect(clippy::too_many_arguments, reason = "the Python keyword arguments of Observations(...)")]
    fn new(
        py: Python<'_>,
        obs: PyArrayLikeDyn<'_, f64, AllowTypeChange>,
        bursts: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
        jacobians: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
        sigma: f64,
        inputs: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
        outputs: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
        burst_dim: Option<usize>,
    ) -> PyResult<Self> {
        let arrays = (obs.as_array().to_owned(), owned(bursts), owned(jacobians), owned(inputs), owned(outputs));
        // The checks read every value (large bursts take a while): without the GIL.
        let data = py
            .detach(move || {
                let (obs, bursts, jacobians, inputs, outputs) = arrays;
                let data = Observations::from_arrays(obs, bursts, jacobians, sigma, inputs, outputs)?;
                match burst_dim {
                    Some(d) => data.with_burst_dim(d),
                    None => Ok(data),
                }
            })
            .map_err(to_py)?;
        Ok(PyObservations { inner: Arc::new(data), source: "arrays".into() })
    }

    /// Reads observations from a `.npz` or `.safetensors` file (the CLI's `--a` / `--b`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let data = py.detach(|| netmatch::data::load(&path)).map_err(to_py)?;
        Ok(PyObservations { inner: Arc::new(data), source: path.display().to_string() })
    }

    /// Writes them as `.npz` (float64, atomically), readable by `load` and by `netmatch compare`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let data = self.inner.clone();
        py.detach(|| netmatch::data::npz::write_observations(&path, &data)).map_err(to_py)
    }

    /// N×D observations (read-only, not copied).
    #[getter]
    fn obs(this: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        let inner = this.get().inner.clone();
        view(&inner.obs, this.into_any())
    }

    /// N×M×D bursts (read-only, not copied), or `None` with Jacobians.
    #[getter]
    fn bursts(this: Bound<'_, Self>) -> PyResult<Option<Bound<'_, PyAny>>> {
        let inner = this.get().inner.clone();
        match &inner.local {
            LocalSource::Bursts(b) => view(b, this.into_any()).map(Some),
            LocalSource::Jacobians(_) => Ok(None),
        }
    }

    /// N×D×d Jacobians (read-only, not copied), or `None` with bursts.
    #[getter]
    fn jacobians(this: Bound<'_, Self>) -> PyResult<Option<Bound<'_, PyAny>>> {
        let inner = this.get().inner.clone();
        match &inner.local {
            LocalSource::Jacobians(j) => view(j, this.into_any()).map(Some),
            LocalSource::Bursts(_) => Ok(None),
        }
    }

    /// The burst radius σ in input units.
    #[getter]
    fn sigma(&self) -> f64 {
        self.inner.sigma
    }

    /// N×d ground-truth inputs (read-only, not copied), if given.
    #[getter]
    fn inputs(this: Bound<'_, Self>) -> PyResult<Option<Bound<'_, PyAny>>> {
        let inner = this.get().inner.clone();
        inner.inputs.as_ref().map(|x| view(x, this.into_any())).transpose()
    }

    /// N×P network outputs (when `obs` holds hidden neurons; read-only, not copied), if given.
    #[getter]
    fn outputs(this: Bound<'_, Self>) -> PyResult<Option<Bound<'_, PyAny>>> {
        let inner = this.get().inner.clone();
        inner.outputs.as_ref().map(|x| view(x, this.into_any())).transpose()
    }

    /// The declared burst design's dimension (`None`: unknown; Jacobians' column count is used then).
    #[getter]
    fn burst_dim(&self) -> Option<usize> {
        self.inner.burst_dim
    }

    /// Number of base points N.
    #[getter]
    fn n(&self) -> usize {
        self.inner.n()
    }

    /// Observed dimension D (neurons).
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// Burst size M (`None` with Jacobians).
    #[getter]
    fn m(&self) -> Option<usize> {
        match &self.inner.local {
            LocalSource::Bursts(b) => Some(b.shape()[1]),
            LocalSource::Jacobians(_) => None,
        }
    }

    /// Where they came from: the file read, or `"arrays"`.
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }

    fn __len__(&self) -> usize {
        self.inner.n()
    }

    fn __repr__(&self) -> String {
        let local = match &self.inner.local {
            LocalSource::Bursts(b) => format!("bursts M = {}", b.shape()[1]),
            LocalSource::Jacobians(j) => format!("jacobians d = {}", j.shape()[2]),
        };
        format!(
            "Observations(N = {}, D = {}, {local}, sigma = {}{}{}, source = {:?})",
            self.inner.n(),
            self.inner.dim(),
            self.inner.sigma,
            if self.inner.inputs.is_some() { ", inputs" } else { "" },
            if self.inner.outputs.is_some() { ", outputs" } else { "" },
            self.source
        )
    }
}

/// A finished comparison: the verdict, every number of `report.json`, and the arrays of `report.npz`.
#[pyclass(name = "Report", module = "netmatch._native", frozen)]
struct PyReport {
    study: Study,
    json: String,
}

#[pymethods]
impl PyReport {
    /// `"equivalent"`, `"not_equivalent"` or `"inconclusive"`.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.study.comparison.verdict.as_str()
    }

    /// The reasons that decided the verdict.
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.study.comparison.reasons.clone()
    }

    /// What the user should know about the result (also in `report.json`).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.study.comparison.warnings.clone()
    }

    /// `report.json` as text.
    #[getter]
    fn json(&self) -> &str {
        &self.json
    }

    /// The arrays of `report.npz`, by member name.
    fn arrays<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let arrays: ReportArrays = self.study.arrays();
        let d = PyDict::new(py);
        for (name, m) in arrays.members() {
            match m {
                Member::F1(a) => d.set_item(name, a.to_pyarray(py))?,
                Member::F2(a) => d.set_item(name, a.to_pyarray(py))?,
                Member::I1(a) => d.set_item(name, a.to_pyarray(py))?,
            }
        }
        Ok(d)
    }

    /// The terminal summary the CLI prints.
    fn summary(&self) -> String {
        let mut s = netmatch::report::summary_table(&self.study.comparison, &self.study.params);
        if let Some(sweep) = &self.study.sweep {
            s.push_str(&netmatch::report::sweep_table(sweep));
        }
        s
    }

    /// Writes the CLI's report directory (`report.json`, `report.npz`, figures as PNG and SVG) as a
    /// whole; returns the files written.
    #[pyo3(signature = (dir, force=false))]
    fn save(&self, py: Python<'_>, dir: PathBuf, force: bool) -> PyResult<Vec<PathBuf>> {
        py.detach(|| self.study.write(&dir, force)).map_err(to_py)
    }
}

fn open(backend: &str) -> netmatch::Result<(Box<dyn netmatch::Device>, Option<String>)> {
    netmatch::open(backend.parse::<BackendChoice>()?)
}

/// The comparison's defaults (the CLI's), for the Python wrapper's signature check.
#[pyfunction]
fn compare_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let p = CompareParams::default();
    let d = PyDict::new(py);
    set_eps(&d, p.eps)?;
    d.set_item("d", p.d)?;
    d.set_item("k", p.k)?;
    d.set_item("normal_weight", p.covariance.normal_weight)?;
    d.set_item("rank", p.covariance.rank)?;
    d.set_item("gap", p.gap)?;
    d.set_item("test_fraction", p.test_fraction)?;
    d.set_item("folds", p.folds)?;
    d.set_item("predict_rmse", p.thresholds.predict_rmse)?;
    d.set_item("equivalent_rmse", p.thresholds.equivalent_rmse)?;
    d.set_item("equivalent_corr", p.thresholds.equivalent_corr)?;
    d.set_item("not_equivalent_rmse", p.thresholds.not_equivalent_rmse)?;
    d.set_item("spectrum_tol", p.thresholds.spectrum_tol)?;
    d.set_item("seed", p.seed)?;
    Ok(d)
}

/// The embedding's defaults (the CLI's), for the Python wrapper's signature check.
#[pyfunction]
fn embed_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let p = EmbedParams::default();
    let d = PyDict::new(py);
    d.set_item("k", p.k)?;
    set_eps(&d, p.eps)?;
    d.set_item("alpha", p.alpha)?;
    d.set_item("rank", p.covariance.rank)?;
    d.set_item("normal_weight", p.covariance.normal_weight)?;
    d.set_item("tol", p.tol)?;
    d.set_item("max_matvecs", p.max_matvecs)?;
    d.set_item("knn", p.sparse.k)?;
    d.set_item("seed", p.seed)?;
    Ok(d)
}

/// A default ε rule as the Python keyword spells it.
fn set_eps(d: &Bound<'_, PyDict>, eps: EpsilonRule) -> PyResult<()> {
    match eps {
        EpsilonRule::Auto => d.set_item("eps", "auto"),
        EpsilonRule::Median => d.set_item("eps", "median"),
        EpsilonRule::Fixed(x) => d.set_item("eps", x),
    }
}

/// Turns `eps` (`"auto"`, `"median"` or a number) into the library's rule.
fn eps_rule(eps: &Bound<'_, PyAny>) -> PyResult<EpsilonRule> {
    if let Ok(s) = eps.extract::<String>() {
        return parse(&s);
    }
    match eps.extract::<f64>() {
        // Display prints the shortest text that reads back as the same f64.
        Ok(x) => parse(&x.to_string()),
        Err(_) => Err(PyValueError::new_err("invalid parameter `eps`: expected \"auto\", \"median\" or a number")),
    }
}

/// Compares networks `a` and `b` (see the Python `netmatch.compare`).
#[pyfunction]
#[pyo3(signature = (a, b, *, eps, d, k, normal_weight, rank, gap, test_fraction, folds, neurons, whitney_sweep,
    predict_rmse, equivalent_rmse, equivalent_corr, not_equivalent_rmse, spectrum_tol, seed, backend, progress))]
#[expect(clippy::too_many_arguments, reason = "one keyword argument per CLI flag, passed on by the Python wrapper")]
fn compare(
    py: Python<'_>,
    a: &PyObservations,
    b: &PyObservations,
    eps: &Bound<'_, PyAny>,
    d: Option<usize>,
    k: usize,
    normal_weight: f64,
    rank: Option<usize>,
    gap: f64,
    test_fraction: f64,
    folds: usize,
    neurons: &Bound<'_, PyAny>,
    whitney_sweep: bool,
    predict_rmse: f64,
    equivalent_rmse: f64,
    equivalent_corr: f64,
    not_equivalent_rmse: f64,
    spectrum_tol: f64,
    seed: u64,
    backend: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyReport> {
    let neurons: Neurons = match neurons.extract::<String>() {
        Ok(s) => parse(&s)?,
        Err(_) => match neurons.extract::<i64>() {
            Ok(q) => parse(&q.to_string())?,
            Err(_) => {
                return Err(PyValueError::new_err(
                    "invalid parameter `neurons`: expected \"all\", \"auto\" or a count",
                ));
            }
        },
    };
    let (observe, listener) = Listener::install(progress);
    let mut p = CompareParams {
        k,
        eps: eps_rule(eps)?,
        d,
        gap,
        test_fraction,
        folds,
        seed,
        verbose: listener.forwards(),
        observe,
        ..Default::default()
    };
    p.thresholds.predict_rmse = predict_rmse;
    p.thresholds.equivalent_rmse = equivalent_rmse;
    p.thresholds.equivalent_corr = equivalent_corr;
    p.thresholds.not_equivalent_rmse = not_equivalent_rmse;
    p.thresholds.spectrum_tol = spectrum_tol;
    p.covariance.normal_weight = normal_weight;
    p.covariance.rank = rank;
    let (da, db) = (a.inner.clone(), b.inner.clone());
    let sources = (a.source.clone(), b.source.clone());
    let backend = backend.to_string();
    let result = py.detach(move || -> netmatch::Result<Study> {
        p.validate()?;
        let (mut dev, backend_note) = open(&backend)?;
        let sp = StudyParams { compare: p, neurons, whitney_sweep, sources, backend_note };
        compare_networks(&da, &db, &sp, dev.as_mut())
    });
    let study = listener.finish(result)?;
    let json = serde_json::to_string_pretty(&study.report()).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(PyReport { study, json })
}

/// One network's diffusion-map embedding (see the Python `netmatch.embed`).
#[pyfunction]
#[pyo3(signature = (obs, *, k, eps, alpha, rank, normal_weight, tol, max_matvecs, solver, storage, precision,
    kernel, knn, sparse_solve, seed, backend, allow_unconverged, progress))]
#[expect(clippy::too_many_arguments, reason = "one keyword argument per CLI flag, passed on by the Python wrapper")]
fn embed<'py>(
    py: Python<'py>,
    obs: &PyObservations,
    k: usize,
    eps: &Bound<'py, PyAny>,
    alpha: f64,
    rank: Option<usize>,
    normal_weight: f64,
    tol: f64,
    max_matvecs: Option<usize>,
    solver: &str,
    storage: &str,
    precision: &str,
    kernel: &str,
    knn: usize,
    sparse_solve: &str,
    seed: u64,
    backend: &str,
    allow_unconverged: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (observe, listener) = Listener::install(progress);
    let mut p = EmbedParams {
        k,
        eps: eps_rule(eps)?,
        alpha,
        tol,
        max_matvecs,
        solver: parse::<Solver>(solver)?,
        storage: parse::<Storage>(storage)?,
        precision: if precision == "auto" { None } else { Some(parse::<Precision>(precision)?) },
        kernel: parse::<KernelMethod>(kernel)?,
        sparse: netmatch::pipeline::sparse::SparseParams::with_k(knn),
        sparse_solve: parse::<SparseSolve>(sparse_solve)?,
        seed,
        verbose: listener.forwards(),
        observe,
        ..Default::default()
    };
    p.covariance.rank = rank;
    p.covariance.normal_weight = normal_weight;
    p.validate().map_err(to_py)?;
    let data = obs.inner.clone();
    let backend = backend.to_string();
    let result = py.detach(move || {
        let (mut dev, note) = open(&backend)?;
        netmatch::embed(&data, &p, dev.as_mut()).map(|e| (e, note))
    });
    let (e, note) = listener.finish(result)?;
    if !e.info.converged && !allow_unconverged {
        let worst = e.info.residuals.iter().copied().fold(0.0, f64::max);
        return Err(ConvergenceError::new_err(format!(
            "the eigen-solve did not converge within {} matvecs (max residual {worst:.2e}, tol {tol:.1e}); pass \
             allow_unconverged=True to keep the result, or raise max_matvecs",
            e.info.matvecs
        )));
    }
    let summary = netmatch::report::EmbedSummary::new(&obs.inner, &e, note, None);
    let text = serde_json::to_string(&summary).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let json = py.import("json")?;
    let d: Bound<'py, PyDict> = json.call_method1("loads", (text,))?.cast_into()?;
    d.set_item("eigenvalues", ndarray::Array1::from(e.eigenvalues).into_pyarray(py))?;
    d.set_item("coords", e.coords.into_pyarray(py))?;
    Ok(d)
}

/// The adapters wgpu sees, and what `backend="auto"` computes on here.
#[pyfunction]
fn info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let (adapters, choice) = py.detach(|| {
        let adapters = netmatch::gpu::list_adapters();
        let choice = netmatch::devices::choose_gpu(BackendChoice::Auto);
        (adapters, choice)
    });
    let list = PyList::empty(py);
    for a in &adapters {
        let d = PyDict::new(py);
        d.set_item("name", &a.name)?;
        d.set_item("backend", &a.backend)?;
        d.set_item("device_type", &a.device_type)?;
        d.set_item("driver", &a.driver)?;
        d.set_item("shader_f16", a.shader_f16)?;
        list.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("adapters", list)?;
    let (ctx, note) = choice.map_err(to_py)?;
    out.set_item("auto", if ctx.is_some() { "gpu" } else { "cpu" })?;
    out.set_item("auto_adapter", ctx.map(|c| c.describe()))?;
    out.set_item("note", note)?;
    // The CPU twin describes itself (its rayon threads), as in reports.
    out.set_item("cpu", open("cpu").map_err(to_py)?.0.adapter())?;
    Ok(out)
}

/// The module `netmatch._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyObservations>()?;
    m.add_class::<PyReport>()?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(embed, m)?)?;
    m.add_function(wrap_pyfunction!(info, m)?)?;
    m.add_function(wrap_pyfunction!(compare_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(embed_defaults, m)?)?;
    m.add("ConvergenceError", m.py().get_type::<ConvergenceError>())?;
    m.add("GpuError", m.py().get_type::<GpuError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
