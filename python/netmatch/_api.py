"""The public calls :func:`compare` and :func:`embed`, and the result objects they return. Their
keyword defaults are the command line's (``netmatch compare --help``); a test checks them against
the Rust library's own defaults, so the two front ends cannot drift apart."""

import json
import os
import warnings

from . import _native, _progress
from ._native import Observations


class NetmatchWarning(UserWarning):
    """Something about a result the user should know (also listed in ``report.json``)."""


def _observations(x, name):
    """``x`` as :class:`Observations`: itself, or the file it names."""
    if isinstance(x, Observations):
        return x
    if isinstance(x, (str, os.PathLike)):
        return Observations.load(os.fspath(x))
    raise TypeError(f"`{name}` must be netmatch.Observations or the path of an .npz / .safetensors file, got {type(x).__name__}")


def _keywords(given, *skip):
    """A public function's keyword arguments (its ``locals()`` on entry) to pass on to the native call
    of the same name, which takes exactly the same keywords."""
    return {name: value for name, value in given.items() if name not in skip}


def _run(call, progress):
    receiver = _progress.resolve(progress)
    try:
        return call(receiver)
    finally:
        if receiver is not None:
            receiver.close()


class Report:
    """A finished comparison.

    - ``verdict``: ``"equivalent"``, ``"not_equivalent"`` or ``"inconclusive"``; ``reasons``: why;
      ``warnings``: what else to know.
    - Every number of ``report.json``: ``to_dict()`` returns the whole file as a dict;
      ``report["transform"]["rmse_ab"]`` or ``report.transform["rmse_ab"]`` reach its top-level
      fields by key or attribute (``report.eps``, ``report.stability``, ``report.inputs`` ...).
    - The arrays of ``report.npz`` as numpy arrays: ``arrays`` (a dict), or by attribute --
      ``coords_a``, ``coords_b``, ``aligned_a``, ``matched_b``, ``r_k_a``, ``r_k_b``,
      ``eigenvalues_a``, ``eigenvalues_b``, ``held_out``, ``predicted_b``, ``true_b``,
      ``predicted_a``, ``true_a``, ...
    - ``save(dir)`` writes the command line's report directory (``report.json``, ``report.npz`` and
      the figures as PNG and SVG); ``summary()`` is the command line's table.
    """

    def __init__(self, native):
        self._native = native
        self._dict = json.loads(native.json)
        self._arrays = None

    @property
    def verdict(self):
        """``"equivalent"``, ``"not_equivalent"`` or ``"inconclusive"``."""
        return self._native.verdict

    @property
    def reasons(self):
        """The reasons that decided the verdict."""
        return list(self._native.reasons)

    @property
    def warnings(self):
        """What the user should know about the result."""
        return list(self._native.warnings)

    @property
    def arrays(self):
        """The arrays of ``report.npz`` by member name (a new dict of numpy arrays each call)."""
        return dict(self._members())

    def _members(self):
        """The arrays, converted from Rust once and kept."""
        if self._arrays is None:
            self._arrays = self._native.arrays()
        return self._arrays

    def to_dict(self):
        """``report.json`` as a dict (a deep copy)."""
        return json.loads(self._native.json)

    def to_json(self):
        """``report.json`` as text."""
        return self._native.json

    def summary(self):
        """The summary table the command line prints."""
        return self._native.summary()

    def save(self, dir, force=False):
        """Writes the report directory ``dir`` as the command line does, as a whole (staged beside it
        and moved into place when complete). An existing directory is replaced only with
        ``force=True``, and only one that netmatch wrote. Returns the paths written."""
        return [str(p) for p in self._native.save(os.fspath(dir), force)]

    def __getitem__(self, key):
        return self._dict[key]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        fields = self.__dict__["_dict"]
        if name in fields:
            return fields[name]
        arrays = self._members()
        if name in arrays:
            return arrays[name]
        raise AttributeError(f"Report has no attribute or report.json field `{name}`")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._dict) | set(self.arrays))

    def __repr__(self):
        t = self._dict["transform"]
        return f"<netmatch.Report verdict={self.verdict} rmse_ab={t['rmse_ab']:.4g} rmse_ba={t['rmse_ba']:.4g}>"

    def __str__(self):
        return self.summary()


class Embedding:
    """One network's diffusion-map embedding: ``eigenvalues`` (k+1), ``coords`` (N×(k+1), column 0
    the trivial one), and the facts of the command line's JSON summary (``eps``, ``rank``,
    ``converged``, ``matvecs``, ``seconds``, ``warnings`` ...) as attributes or ``summary``."""

    def __init__(self, result):
        self.eigenvalues = result.pop("eigenvalues")
        self.coords = result.pop("coords")
        self.summary = result

    def __getattr__(self, name):
        summary = self.__dict__.get("summary", {})
        if name in summary:
            return summary[name]
        raise AttributeError(f"Embedding has no attribute `{name}`")

    def __repr__(self):
        return (
            f"<netmatch.Embedding N={self.coords.shape[0]} k={self.coords.shape[1] - 1} eps={self.summary['eps']:.4g} "
            f"converged={self.summary['converged']}>"
        )


def compare(
    a,
    b,
    *,
    eps="auto",
    d=None,
    k=10,
    normal_weight=3.0,
    rank=None,
    gap=0.01,
    test_fraction=0.2,
    folds=5,
    neurons="all",
    whitney_sweep=False,
    predict_rmse=0.08,
    equivalent_rmse=0.02,
    equivalent_corr=0.99,
    not_equivalent_rmse=0.10,
    spectrum_tol=0.25,
    seed=0,
    backend="auto",
    progress="auto",
):
    """Do networks ``a`` and ``b`` compute the same thing? Returns a :class:`Report`.

    ``a`` and ``b`` are :class:`Observations` (or paths of ``.npz`` / ``.safetensors`` files) of the
    same N base inputs in the same order; their dimensions D may differ. The keywords are the command
    line's flags of ``netmatch compare`` with the same defaults:

    - ``eps``: ``"auto"``, ``"median"`` or a number (the kernel bandwidth);
    - ``d``: intrinsic dimension (default: each network's, from its bursts or Jacobians);
    - ``k``: diffusion coordinates per network; ``normal_weight``: ν; ``rank``: the local rank r;
    - ``gap``, ``test_fraction``, ``folds``: selection gap, held-out fraction, cross-validation folds;
    - ``neurons``: ``"all"``, ``"auto"`` (2d+1 by variance) or a count; ``whitney_sweep``: also
      compare A's first q = 1 … 2d+1 neurons against B;
    - ``predict_rmse`` (the deciding bound), ``equivalent_rmse``, ``equivalent_corr``,
      ``not_equivalent_rmse``, ``spectrum_tol`` (explanation only); ``seed``;
    - ``backend``: ``"auto"`` (a hardware GPU if present, else the CPU), ``"gpu"`` or ``"cpu"``;
    - ``progress``: ``"auto"`` (tqdm when installed), ``True``, ``False`` or a callable taking event dicts.

    Raises ``ValueError`` for bad input or parameters, ``GpuError`` when ``backend="gpu"`` finds no
    usable adapter. Warnings about the result are issued as :class:`NetmatchWarning`.
    """
    keywords = _keywords(locals(), "a", "b", "progress")
    a = _observations(a, "a")
    b = _observations(b, "b")
    native = _run(lambda receiver: _native.compare(a, b, progress=receiver, **keywords), progress)
    report = Report(native)
    for text in report.warnings:
        warnings.warn(text, NetmatchWarning, stacklevel=2)
    return report


def embed(
    obs,
    *,
    k=10,
    eps="auto",
    alpha=1.0,
    rank=None,
    normal_weight=0.0,
    tol=1e-5,
    max_matvecs=None,
    solver="block",
    storage="auto",
    precision="auto",
    kernel="auto",
    knn=32,
    sparse_solve="shift-invert",
    seed=0,
    backend="auto",
    allow_unconverged=False,
    progress="auto",
):
    """One network's diffusion-map embedding; returns an :class:`Embedding`.

    The keywords are the flags of ``netmatch embed`` with the same defaults: ``k`` coordinates,
    ``eps`` (``"auto"``, ``"median"`` or a number), ``alpha`` (1 = Laplace–Beltrami), ``rank``,
    ``normal_weight`` (ν), the eigen-solve's ``tol`` and ``max_matvecs``, ``solver`` (``"block"`` or
    ``"lanczos"``), ``storage`` (``"auto"``, ``"dense"``, ``"sparse"``, ``"matrix-free"``),
    ``precision`` (``"auto"``, ``"f32"``, ``"f16"``), ``kernel`` (``"auto"``, ``"gemm"``,
    ``"pairwise"``), ``knn`` and ``sparse_solve`` (``"shift-invert"`` or ``"krylov"``) for the sparse
    kernel, ``seed``, ``backend`` and ``progress`` as in :func:`compare`.

    Raises ``ConvergenceError`` when the eigen-solve does not converge, unless ``allow_unconverged``.
    """
    keywords = _keywords(locals(), "obs", "progress")
    obs = _observations(obs, "obs")
    result = _run(lambda receiver: _native.embed(obs, progress=receiver, **keywords), progress)
    e = Embedding(result)
    for text in e.summary.get("warnings", []):
        warnings.warn(text, NetmatchWarning, stacklevel=2)
    return e
