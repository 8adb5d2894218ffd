#!/usr/bin/env bash
# netmatch's kernel stage against numpy's matrix-product build of the same kernel, in one run:
# `netmatch bench embed` embeds the seeded D = 256, r = 2 tanh-layer case (exact Jacobians, ε fixed by
# the auto rule) on the CPU path with the product kernel and the pair-by-pair one, and exports the f32
# geometry; benches/peers/kernel_numpy.py then builds K = exp(−d²/ε) and its row sums from that
# geometry with numpy's own BLAS on two threads. Prints the three times and the ratios.
#
#   bash benches/peers/kernel_vs_numpy.sh            # N = 6000 (the issue's case)
#   KVN_N=20000 bash benches/peers/kernel_vs_numpy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${KVN_N:-6000}
DIR=${KVN_DIR:-target/peers/kernel-vs-numpy}
rm -rf "$DIR" && mkdir -p "$DIR"
cargo build --release --quiet
./target/release/netmatch bench embed --cpu-only --jacobians --n "$N" --configs 256x2 --kernel gemm,pairwise \
  --reference-max-n 0 --k 10 --export-geometry "$DIR" --out "$DIR/embed.json" > /dev/null
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python3 benches/peers/kernel_numpy.py "$DIR/geometry_${N}_256x2.npz" > "$DIR/numpy.json"
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
row = json.load(open(f"{d}/embed.json"))["rows"][0]
g = row["paths"]["cpu_gemm"]["seconds"]["kernel"]
p = row["paths"]["cpu_pairwise"]["seconds"]["kernel"]
npy = json.load(open(f"{d}/numpy.json"))
print(f"N = {row['n']}, D = {row['dim']}, r = {row['rank']}: kernel stage netmatch gemm {g:.2f} s, "
      f"pairwise {p:.2f} s, numpy {npy['seconds']:.2f} s (numpy {npy['numpy']}, 2 BLAS threads)")
print(f"numpy / gemm = {npy['seconds'] / g:.2f}, pairwise / gemm = {p / g:.1f}")
PY
