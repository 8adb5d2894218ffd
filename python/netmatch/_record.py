"""``record``: runs a network on seeded bursts around base inputs and returns its
:class:`Observations` -- the bookkeeping every user otherwise writes by hand (perturb, map to the
network's input, call in batches, keep the order, shape the arrays)."""

import os
import time

import numpy as np

from . import _progress
from ._native import Observations


def _to_numpy(x, what):
    """A float64 array from numpy, PyTorch (detached, on the CPU), JAX or anything array-like."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} returned {type(x).__name__}, which is not convertible to a float array: {e}") from None


def _inputs(make_input, x):
    if make_input is None:
        return x
    out = make_input(x)
    if isinstance(out, (list, tuple)):
        if len(out) != len(x):
            raise ValueError(f"make_input returned {len(out)} inputs for a batch of {len(x)} points")
        out = np.stack([np.asarray(o) for o in out])
    elif hasattr(out, "shape") and (len(out.shape) == 0 or out.shape[0] != len(x)):
        raise ValueError(f"make_input returned shape {tuple(out.shape)} for a batch of {len(x)} points (expected {len(x)} first)")
    return out


def record(
    fn,
    base,
    sigma=1.0,
    m=None,
    *,
    make_input=None,
    seed=0,
    batch=1024,
    jacobians=False,
    save=None,
    progress="auto",
):
    """Records one network's :class:`Observations` on bursts around ``base``.

    - ``fn``: any callable from a batch of network inputs to activations -- ``model.predict`` of
      scikit-learn, a JAX function, a PyTorch model (or a function that runs it and returns a layer's
      output caught by a forward hook). Its result (numpy, torch or JAX, any shape with the batch
      first) is flattened to one row of D activations per input.
    - ``base``: N×d base points of the *intrinsic* input space (a 1-D array is N×1), e.g. angles.
    - ``sigma``, ``m``: each base point x gets M perturbed copies x + σξ with ξ ~ N(0, I), seeded by
      ``seed``; ``sigma`` is in the units of ``base`` and is stored with the observations.
    - ``make_input``: maps a batch of intrinsic points (k×d) to k network inputs (an array with k
      first, or a list of k arrays), e.g. a renderer from angle to image; ``None`` feeds the points
      themselves.
    - ``batch``: points per call of ``fn`` (and of ``make_input``); the order is kept.
    - ``jacobians``: instead of bursts, Jacobians ∂o/∂x (N×D×d, with respect to the intrinsic
      input). ``True``: ``fn`` returns ``(activations, jacobians)`` for a batch; a callable: it is
      called on the same batches (after ``make_input``) and returns the Jacobians, while ``fn``
      returns the activations. ``m`` is then not used.
    - ``save``: also write the observations to this ``.npz`` (readable by ``netmatch compare``).
    - ``progress``: as in :func:`netmatch.compare`.

    Returns :class:`Observations` with ``obs`` = fn at the base points, ``bursts`` (N×M×D) or
    ``jacobians``, ``sigma``, ``inputs`` = ``base`` and ``burst_dim`` = its column count (the bursts'
    design: the intrinsic dimension d, so a ReLU network's kinks inside a burst are not read as extra
    input directions).
    """
    base = np.asarray(base, dtype=np.float64)
    if base.ndim == 1:
        base = base[:, None]
    if base.ndim != 2 or base.shape[0] < 2 or base.shape[1] < 1:
        raise ValueError(f"`base` must be N×d base points with N ≥ 2 (a 1-D array is N×1), got shape {base.shape}")
    if not np.all(np.isfinite(base)):
        raise ValueError("`base` holds a non-finite value")
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"`batch` must be a positive integer, got {batch!r}")
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
    if make_input is not None and not callable(make_input):
        raise TypeError(f"`make_input` must be callable or None, got {type(make_input).__name__}")
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"`sigma` must be a positive finite number, got {sigma}")
    n, d = base.shape
    use_jacobians = jacobians is True or callable(jacobians)
    if jacobians is not False and not use_jacobians:
        raise TypeError(f"`jacobians` must be False, True or a callable, got {type(jacobians).__name__}")
    if use_jacobians:
        points = base
    else:
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
            raise ValueError(f"`m` (burst size) must be an integer ≥ 2, got {m!r}")
        rng = np.random.default_rng(seed)
        perturbed = base[:, None, :] + sigma * rng.standard_normal((n, m, d))
        points = np.concatenate([base, perturbed.reshape(n * m, d)])

    receiver = _progress.resolve(progress)
    chunks, jac_chunks = [], []
    total = (len(points) + batch - 1) // batch
    started = time.monotonic()
    try:
        for i, start in enumerate(range(0, len(points), batch)):
            if receiver is not None:
                receiver({"kind": "step", "task": "record", "what": f"batch {i + 1} of {total}", "done": i, "total": total, "seconds": time.monotonic() - started})
            x = points[start : start + batch]
            inp = _inputs(make_input, x)
            out = fn(inp)
            if jacobians is True:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise ValueError("with jacobians=True, fn must return (activations, jacobians) for a batch")
                out, jac = out
                jac_chunks.append(_check_jacobians(_to_numpy(jac, "fn"), len(x), d))
            elif callable(jacobians):
                jac_chunks.append(_check_jacobians(_to_numpy(jacobians(inp), "jacobians"), len(x), d))
            out = _to_numpy(out, "fn")
            if out.ndim == 0 or out.shape[0] != len(x):
                raise ValueError(f"fn returned shape {out.shape} for a batch of {len(x)} inputs (expected {len(x)} first)")
            chunks.append(out.reshape(len(x), -1))
        if receiver is not None:
            receiver({"kind": "finished", "task": "record", "what": f"{len(points)} points", "done": total, "total": total, "seconds": time.monotonic() - started})
    finally:
        if receiver is not None:
            receiver.close()
    widths = {c.shape[1] for c in chunks}
    if len(widths) != 1:
        raise ValueError(f"fn returned a different number of activations in different batches: {sorted(widths)}")
    acts = np.concatenate(chunks)
    if use_jacobians:
        jac = np.concatenate(jac_chunks)
        if jac.shape[1] != acts.shape[1]:
            raise ValueError(f"the Jacobians have {jac.shape[1]} rows per point but fn returned D = {acts.shape[1]} activations")
        result = Observations(acts, jacobians=jac, sigma=sigma, inputs=base, burst_dim=base.shape[1])
    else:
        result = Observations(acts[:n], bursts=acts[n:].reshape(n, m, -1), sigma=sigma, inputs=base, burst_dim=base.shape[1])
    if save is not None:
        result.save(os.fspath(save))
    return result


def _check_jacobians(j, k, d):
    if j.ndim == 2 and d == 1:
        j = j[:, :, None]
    if j.ndim != 3 or j.shape[0] != k or j.shape[2] != d:
        raise ValueError(f"the Jacobians must be k×D×d = {k}×D×{d} for a batch of {k} points, got shape {j.shape}")
    return j
