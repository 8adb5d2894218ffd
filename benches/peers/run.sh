#!/usr/bin/env bash
# The peer runner: one command from a fresh clone. Builds netmatch, creates the two Python venvs from
# PyPI on first use (datafold pins an old scipy / scikit-learn, so it has its own), lets netmatch export
# the problems (mushroom.npz; S_<N>.npy per size), times netmatch's CPU path (and GPU path when an
# adapter is found) on them — one process per path, so each peak RSS is that path's own — runs datafold
# and scipy's eigsh on the same inputs, and prints one table (also written to $PEERS_DIR/table.md).
#
#   bash benches/peers/run.sh                      # N = 5000 and 20 000 (about 10 minutes on 2 cores)
#   PEERS_SIZES=5000 bash benches/peers/run.sh     # quicker
#   PEERS_SPARSE=0 bash benches/peers/run.sh       # without the sparse N = 200 000 problem
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${PEERS_DIR:-target/peers/run}
SIZES=${PEERS_SIZES:-5000,20000}
SPARSE=${PEERS_SPARSE:-200000}
VENVS=target/peers
cargo build --release --quiet
NM=target/release/netmatch
for v in datafold scipy; do
  if [ ! -x "$VENVS/venv-$v/bin/python" ]; then
    echo "peers: creating $VENVS/venv-$v from benches/peers/requirements-$v.txt" >&2
    python3 -m venv "$VENVS/venv-$v"
    "$VENVS/venv-$v/bin/pip" install -q -r "benches/peers/requirements-$v.txt"
  fi
done
BACKENDS=cpu
info=$("$NM" info 2>/dev/null || true)
if grep -q '^chosen:' <<< "$info"; then BACKENDS="cpu gpu"; fi
rm -rf "$DIR" && mkdir -p "$DIR"
common=(--dir "$DIR" --sizes "$SIZES" --sparse-n "$SPARSE")
echo "peers: exporting the problems to $DIR" >&2
"$NM" bench peers-export "${common[@]}" > "$DIR/export.json"
for b in $BACKENDS; do
  echo "peers: netmatch $b path, mushroom case" >&2
  "$NM" bench peers-run "${common[@]}" --task mushroom --backend "$b" > "$DIR/netmatch_mushroom_$b.json"
done
echo "peers: datafold, mushroom case" >&2
"$VENVS/venv-datafold/bin/python" benches/peers/datafold_mushroom.py "$DIR/mushroom.npz" > "$DIR/datafold_mushroom.json"
for n in ${SIZES//,/ }; do
  for b in $BACKENDS; do
    for s in block lanczos; do
      echo "peers: netmatch $b path, $s solver, S at N = $n" >&2
      "$NM" bench peers-run "${common[@]}" --task "$n" --backend "$b" --solver "$s" > "$DIR/netmatch_matrix_${n}_${b}_$s.json"
    done
  done
  echo "peers: scipy eigsh, S at N = $n" >&2
  "$VENVS/venv-scipy/bin/python" benches/peers/eigsh.py "$DIR/S_$n.npy" 11 1e-5 > "$DIR/eigsh_$n.json"
  rm -f "$DIR/S_$n.npy"
done
if [ "$SPARSE" != 0 ]; then
  # The sparse solve runs on the host (shift-invert), whichever backend: one netmatch run.
  echo "peers: netmatch shift-invert, sparse k-NN kernel at N = $SPARSE" >&2
  "$NM" bench peers-run "${common[@]}" --task sparse --backend cpu > "$DIR/netmatch_sparse.json"
  echo "peers: scipy eigsh (shift-invert), sparse k-NN kernel at N = $SPARSE" >&2
  "$VENVS/venv-scipy/bin/python" benches/peers/eigsh_sparse.py "$DIR/sparse_$SPARSE.npz" 11 1e-5 > "$DIR/eigsh_sparse.json"
fi
"$VENVS/venv-scipy/bin/python" benches/peers/table.py "$DIR" | tee "$DIR/table.md"
