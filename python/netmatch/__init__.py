"""netmatch: do two neural networks compute the same thing?

netmatch builds a data-driven transformation between two networks' observations (outputs or hidden
neurons) through an intrinsic coordinate system of their common input space -- diffusion maps with a
Mahalanobis metric from input bursts -- and decides: ``equivalent``, ``not_equivalent`` or
``inconclusive``, with the numbers that decided.

The pieces:

- :class:`Observations` -- one network's activations on N base inputs with their bursts (or
  Jacobians), validated as the ``.npz`` files of the command line are;
- :func:`record` -- runs any callable (a PyTorch model with a forward hook, a JAX function, a
  scikit-learn ``predict``) on seeded bursts around base inputs and returns :class:`Observations`;
- :func:`compare` -- the verdict, as a :class:`Report` with every number of ``report.json`` and the
  arrays of ``report.npz``; ``Report.save(dir)`` writes the command line's report directory;
- :func:`embed` -- one network's diffusion-map embedding (eigenvalues and coordinates);
- :func:`info` -- the GPU adapters seen and what ``backend="auto"`` computes on.

The computation runs in Rust (WGSL on the GPU through wgpu, or its CPU twin) with the GIL released.
"""

from ._native import ConvergenceError, GpuError, Observations, __version__, info
from ._api import Embedding, NetmatchWarning, Report, compare, embed
from ._record import record

__all__ = [
    "ConvergenceError",
    "Embedding",
    "GpuError",
    "NetmatchWarning",
    "Observations",
    "Report",
    "__version__",
    "compare",
    "embed",
    "info",
    "record",
]
