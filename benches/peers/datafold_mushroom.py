"""datafold 2.0.2's Mahalanobis diffusion map on the mushroom case that netmatch exported.

Same points, same per-point metrics (netmatch's U Uᵀ), same ε: netmatch's kernel is exp(−d²/ε) and
datafold's exp(−d²/(2ε)), so datafold gets ε/2 (`eps_datafold` in the file). α = 1, 11 eigenpairs
(the trivial one included), as netmatch. Prints one JSON record.
"""
import json
import resource
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
from datafold.dynfold import DiffusionMaps  # noqa: E402
from datafold.pcfold.kernels import MahalanobisKernel  # noqa: E402

d = np.load(sys.argv[1])
k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
X, metrics, eps = d["obs"], d["metrics"], float(d["eps_datafold"])
t = time.perf_counter()
dmap = DiffusionMaps(kernel=MahalanobisKernel(epsilon=eps), n_eigenpairs=k + 1, alpha=1.0)
dmap.fit(X, kernel_kwargs={"cov_matrices": metrics})
seconds = time.perf_counter() - t
values = np.sort(np.abs(np.asarray(dmap.eigenvalues_, dtype=float)))[::-1]
print(json.dumps({
    "peer": "datafold", "version": "2.0.2", "task": "mushroom", "n": int(X.shape[0]), "seconds": seconds,
    "eigenvalues": values.tolist(), "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
