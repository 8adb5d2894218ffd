#!/usr/bin/env bash
# The GPU-path benchmarks in one call, for a machine with a real GPU (the `device` tool's H200, or any
# desktop GPU). Build on the development box, carry the result, run there:
#
#   bash benches/gpu/run.sh prepare          # here: release build + Vulkan loader into target/gpu-carry/
#   bash benches/gpu/run.sh run OUT_DIR      # there: every figure under OUT_DIR (default $OUT or out/gpu)
#
# `prepare` copies target/release/netmatch and the system's libvulkan.so.1 into target/gpu-carry/, so
# the GPU machine needs only its driver (its ICD json); `run` puts that loader first on the library
# path. Each benchmark writes its JSON (and the stderr log) under OUT_DIR; nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=target/gpu-carry
case "${1:-}" in
  prepare)
    cargo build --release --quiet
    mkdir -p "$CARRY/lib"
    cp target/release/netmatch "$CARRY/"
    lib=$(ldconfig -p | awk '/libvulkan\.so\.1 /{print $NF; exit}')
    if [ -n "$lib" ]; then cp -L "$lib" "$CARRY/lib/"; else echo "prepare: no libvulkan.so.1 here; the GPU machine must have its own" >&2; fi
    echo "prepared $CARRY ($(du -sh "$CARRY" | cut -f1)); carry it to the GPU machine" >&2
    ;;
  run)
    OUTDIR=${2:-${OUT:-out/gpu}}
    mkdir -p "$OUTDIR"
    NM="$CARRY/netmatch"
    [ -x "$NM" ] || NM=target/release/netmatch
    export LD_LIBRARY_PATH="$PWD/$CARRY/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    "$NM" info > "$OUTDIR/info.txt" 2>&1 || true
    grep -q '^chosen:' "$OUTDIR/info.txt" || { echo "run: no GPU adapter (see $OUTDIR/info.txt)" >&2; exit 2; }
    step() { local name=$1; shift; echo "run: $name" >&2; /usr/bin/time -v "$NM" "$@" > "$OUTDIR/$name.stdout" 2> "$OUTDIR/$name.log"; }
    # The kernel: products vs pair by pair, both paths, D sweep (r = 2), with the f64 reference at 5000.
    step embed_dsweep bench embed --jacobians --n 5000,20000 --configs 64x2,256x2,1024x2 \
      --kernel gemm,pairwise --reference-max-n 5000 --out "$OUTDIR/embed_dsweep.json"
    # The small-D crossover on the GPU (the CPU has none: products win from D = 2).
    step embed_small_d bench embed --jacobians --n 20000 --configs 2x2,4x2,8x2,16x2,32x2 \
      --kernel gemm,pairwise --reference-max-n 0 --out "$OUTDIR/embed_small_d.json"
    # f16 storage and the original (bursts) configurations.
    step embed_f16 bench embed --n 20000 --precision f32,f16 --reference-max-n 0 --out "$OUTDIR/embed_f16.json"
    # The horse demo at its defaults (rendering and embeddings on the GPU), and the large run.
    step demo_horse demo horse --force --out "$OUTDIR/demo-horse" --backend gpu
    echo "run: figures under $OUTDIR" >&2
    ;;
  *)
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
