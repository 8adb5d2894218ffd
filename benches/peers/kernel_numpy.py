"""numpy's build of netmatch's Mahalanobis kernel, timed, on a geometry `netmatch bench embed
--export-geometry DIR` wrote (obs N×D, factors N×D×r, normal_weights, eps; f32 like netmatch's paths).

The straightforward matrix-product build a user would write, with numpy's own BLAS:
  Z = P Oᵀ (P: the N·r factor columns, one float32 GEMM), m_ij = Σ_s (U_iᵀo_i − Z)², d² = ½(m + mᵀ),
  K = exp(−d²/ε), q = K·1.
Only the case without a normal term (normal_weights all 0) is built; others are refused.

  OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python3 benches/peers/kernel_numpy.py DIR/geometry_6000_256x2.npz
prints one JSON line: {"n", "dim", "rank", "seconds", "row_sums"...}.
"""
import json
import sys
import time

import numpy as np


def build(obs, factors, eps):
    n, d, r = factors.shape
    p = np.ascontiguousarray(factors.transpose(0, 2, 1).reshape(n * r, d))  # row i*r+s = U_i[:, s]
    a = np.einsum("isd,id->is", p.reshape(n, r, d), obs)  # U_iᵀo_i
    z = p @ obs.T  # (N·r)×N: U_iᵀo_j
    z = z.reshape(n, r, n)
    z -= a[:, :, None]
    m = np.einsum("isj,isj->ij", z, z)
    del z
    m += m.T
    m *= np.float32(-0.5 / eps)
    np.exp(m, out=m)
    return m, m.sum(axis=1)


def main():
    f = np.load(sys.argv[1])
    obs = f["obs"].astype(np.float32)
    factors = f["factors"].astype(np.float32)
    eps = float(f["eps"][0])
    if np.any(f["normal_weights"] != 0):
        sys.exit("kernel_numpy.py: only the case without a normal term is built")
    build(obs[:200], factors[:200], eps)  # warm-up (BLAS threads, page faults of small buffers)
    t = time.perf_counter()
    k, q = build(obs, factors, eps)
    secs = time.perf_counter() - t
    n, d, r = factors.shape
    print(json.dumps({"n": n, "dim": d, "rank": r, "seconds": secs, "row_sum_mean": float(q.mean()),
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
