"""scipy's eigsh in shift-invert mode on the sparse k-NN kernel that netmatch exported (sparse_<N>.npz:
CSR indptr / indices / data of the α = 1 normalised S, float32 values).

The timed run is what a scipy user writes for a crowded top of the spectrum: S as a float64 CSR
matrix, eigsh(S, k, sigma=1 + 1e-6, which="LM", tol) — SuperLU factorises S − σI, ARPACK iterates on
its inverse (netmatch uses the same shift). The float64 reference is a second, untimed eigsh at tol
1e-12 on the same matrix. Prints one JSON record.
"""
import json
import resource
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

path, k, tol = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
z = np.load(path)
n = len(z["indptr"]) - 1
S = sp.csr_matrix((z["data"].astype(np.float64), z["indices"], z["indptr"]), shape=(n, n))
sigma = 1.0 + 1e-6
cpu0, t = time.process_time(), time.perf_counter()
values = eigsh(S, k=k, sigma=sigma, which="LM", tol=tol, return_eigenvectors=False)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ref = eigsh(S, k=k, sigma=sigma, which="LM", tol=1e-12, return_eigenvectors=False)
print(json.dumps({
    "peer": "scipy.eigsh shift-invert", "version": scipy.__version__, "task": "sparse", "n": n,
    "nnz": int(S.nnz), "seconds": seconds, "cpu_seconds": cpu, "tol": tol,
    "eigenvalues": sorted(values.tolist(), reverse=True), "reference": sorted(ref.tolist(), reverse=True),
    "peak_rss_bytes": peak,
}))
