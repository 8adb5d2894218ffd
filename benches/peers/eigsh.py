"""scipy's eigsh (ARPACK) on a diffusion matrix S that netmatch exported (float32 .npy).

The timed run is what a scipy user writes: S as a float64 array, eigsh(S, k, which="LA", tol). The
matvecs are counted through a LinearOperator around the same array. The float64 reference is a second,
untimed eigsh at tol 1e-12 on the same float64 matrix. Prints one JSON record.
"""
import json
import resource
import sys
import time

import numpy as np
import scipy
from scipy.sparse.linalg import LinearOperator, eigsh

path, k, tol = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
S = np.load(path).astype(np.float64)
n = S.shape[0]
count = [0]


def mv(x):
    count[0] += 1 if x.ndim == 1 else x.shape[1]
    return S @ x


op = LinearOperator((n, n), matvec=mv, matmat=mv, dtype=np.float64)
v0 = np.ones(n) / np.sqrt(n)
cpu0, t = time.process_time(), time.perf_counter()
values = eigsh(op, k=k, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu0
matvecs = count[0]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ref = eigsh(S, k=k, which="LA", tol=1e-12, v0=v0, return_eigenvectors=False)
print(json.dumps({
    "peer": "scipy.eigsh", "version": scipy.__version__, "task": "matrix", "n": n, "seconds": seconds,
    "cpu_seconds": cpu, "matvecs": matvecs, "tol": tol, "eigenvalues": sorted(values.tolist(), reverse=True),
    "reference": sorted(ref.tolist(), reverse=True), "peak_rss_bytes": peak,
}))
