"""Collects the peer runner's JSON records in DIR into one markdown table (printed)."""
import glob
import json
import os
import sys

d = sys.argv[1]


def load(name):
    p = os.path.join(d, name)
    return json.load(open(p)) if os.path.exists(p) else None


def rel_err(values, ref):
    return max(abs(v - r) / abs(r) for v, r in zip(sorted(values, reverse=True), sorted(ref, reverse=True)))


def gb(b):
    return f"{b / 2**30:.2f} GB" if b else "—"


rows = []
export = load("export.json")
ref = export["mushroom"]["reference"]
df = load("datafold_mushroom.json")
print(f"### Mushroom case, N = {export['mushroom']['n']}, M = {export['mushroom']['m']}, σ = 0.01, "
      f"{len(ref)} eigenpairs, same points, metrics and ε\n")
print("| tool | path | seconds | peak RSS | max rel. eigenvalue error vs f64 | datafold / this |")
print("|---|---|---:|---:|---:|---:|")
recs = [("datafold 2.0.2", "CPU (Python loop)", df)] if df else []
for b in ("cpu", "gpu"):
    r = load(f"netmatch_mushroom_{b}.json")
    if r:
        recs.append(("netmatch", f"{b} ({r['adapter']})", r))
for name, path, r in recs:
    ratio = df["seconds"] / r["seconds"] if df else float("nan")
    print(f"| {name} | {path} | {r['seconds']:.3f} | {gb(r.get('peak_rss_bytes'))} | "
          f"{rel_err(r['eigenvalues'], ref):.1e} | {ratio:.1f}× |")
for m in export["matrices"]:
    n = m["n"]
    sp = load(f"eigsh_{n}.json")
    print(f"\n### Top {len(sp['reference']) if sp else '?'} eigenpairs of the α = 1 diffusion matrix, N = {n} "
          f"(the same S, exported by netmatch as float32)\n")
    print("| tool | path | seconds | matvecs | passes over S | peak RSS | max rel. eigenvalue error vs f64 | eigsh / this (time) | this / eigsh (passes) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    recs = [("scipy eigsh (ARPACK, f64)", f"CPU ({sp['cpu_seconds']:.1f} CPU-s)", sp)] if sp else []
    for b in ("cpu", "gpu"):
        for s, label in (("block", "netmatch block Lanczos (f32)"), ("lanczos", "netmatch Lanczos (f32)")):
            r = load(f"netmatch_matrix_{n}_{b}_{s}.json")
            if r:
                recs.append((f"{label}, b = {r['block']}", f"{b} ({r['adapter']})", r))
    for name, path, r in recs:
        err = rel_err(r["eigenvalues"], sp["reference"]) if sp else float("nan")
        t = sp["seconds"] / r["seconds"] if sp else float("nan")
        passes = r.get("passes", r["matvecs"])
        mv = passes / sp["matvecs"] if sp else float("nan")
        print(f"| {name} | {path} | {r['seconds']:.2f} | {r['matvecs']} | {passes} | {gb(r.get('peak_rss_bytes'))} | "
              f"{err:.1e} | {t:.1f}× | {mv:.2f} |")

sparse = export.get("sparse")
if sparse:
    sp = load("eigsh_sparse.json")
    nm = load("netmatch_sparse.json")
    print(f"\n### Top 11 eigenpairs of the sparse k-NN kernel, N = {sparse['n']} (k = {sparse['k']}, nnz {sparse['nnz']}, "
          f"ε {sparse['eps']:.2e}; the same CSR, exported by netmatch)\n")
    print("| tool | path | seconds | passes | peak RSS | max rel. eigenvalue error vs f64 | scipy / this (time) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    recs = [("scipy eigsh, shift-invert (SuperLU + ARPACK, f64)", f"CPU ({sp['cpu_seconds']:.1f} CPU-s)", sp)] if sp else []
    if nm:
        recs.append((f"netmatch shift-invert ({nm['solver']}), b = {nm['block']}", f"host Cholesky (faer) + {nm['path']}", nm))
    for name, path, r in recs:
        err = rel_err(r["eigenvalues"], sp["reference"]) if sp else float("nan")
        t = sp["seconds"] / r["seconds"] if sp else float("nan")
        print(f"| {name} | {path} | {r['seconds']:.2f} | {r.get('passes', '—')} | {gb(r.get('peak_rss_bytes'))} | "
              f"{err:.1e} | {t:.1f}× |")
