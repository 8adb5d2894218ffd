#!/usr/bin/env bash
# The Python package's tests as CI runs them: a fresh venv, the wheel built there by maturin (from
# PyPI), installed like a user's, then pytest on python/tests. The Rust workspace should be built
# first (`cargo test --release --workspace`): maturin then reuses its compiled crates, and the
# agreement tests use target/release/netmatch.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "maturin>=1.7,<2" numpy pytest scikit-learn
wheels="$(mktemp -d)"
"$venv/bin/maturin" build --release --manifest-path python/Cargo.toml --out "$wheels" \
    --interpreter "$venv/bin/python" --compatibility linux
"$venv/bin/pip" install --quiet "$wheels"/netmatch-*.whl
export NETMATCH_CLI="${NETMATCH_CLI:-$PWD/target/release/netmatch}"
# From another directory, so that `import netmatch` is the installed wheel, not python/netmatch.
cd "$wheels"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$OLDPWD/python/tests"
