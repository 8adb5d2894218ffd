"""Writes small valid seed inputs for the fuzz targets into DIR/{npy,npz,safetensors} (numpy only)."""
import io
import json
import struct
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
rng = np.random.default_rng(0)
for t in ("npy", "npz", "safetensors"):
    (out / t).mkdir(parents=True, exist_ok=True)


def npy(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


shapes = [(5, 3), (4,), (), (2, 3, 2), (0, 3)]
for k, s in enumerate(shapes):
    for dt in ("<f8", "<f4", "<f2", ">f8"):
        a = rng.normal(size=s).astype(dt)
        (out / "npy" / f"seed_{k}_{dt[1:]}{'_be' if dt[0] == '>' else ''}.npy").write_bytes(npy(a))
    (out / "npy" / f"seed_{k}_fortran.npy").write_bytes(npy(np.asfortranarray(rng.normal(size=s))))

n, m, d = 6, 3, 2
obs = rng.normal(size=(n, d))
bursts = obs[:, None, :] + 0.01 * rng.normal(size=(n, m, d))
jac = rng.normal(size=(n, d, 1))
for name, kw in {
    "bursts": dict(obs=obs, bursts=bursts, sigma=np.float64(0.01)),
    "jacobians": dict(obs=obs.astype("<f4"), jacobians=jac.astype("<f4"), inputs=rng.normal(size=(n, 1))),
    "outputs": dict(obs=obs, bursts=bursts, outputs=rng.normal(size=(n, 2))),
}.items():
    b = io.BytesIO()
    np.savez(b, **kw)
    (out / "npz" / f"seed_{name}.npz").write_bytes(b.getvalue())
    b = io.BytesIO()
    np.savez_compressed(b, **kw)
    (out / "npz" / f"seed_{name}_deflate.npz").write_bytes(b.getvalue())


def safetensors(tensors):
    header, data = {}, b""
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        dtype = {"float64": "F64", "float32": "F32", "float16": "F16"}[a.dtype.name]
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


for name, t in {
    "bursts": dict(obs=obs, bursts=bursts, sigma=np.array(0.01)),
    "jacobians_f32": dict(obs=obs.astype(np.float32), jacobians=jac.astype(np.float32)),
    "f16": dict(obs=obs.astype(np.float16), bursts=bursts.astype(np.float16)),
}.items():
    (out / "safetensors" / f"seed_{name}.safetensors").write_bytes(safetensors(t))
print(f"seeds in {out}: " + ", ".join(f"{t} {len(list((out / t).iterdir()))}" for t in ("npy", "npz", "safetensors")))
