#!/usr/bin/env bash
# Fuzzes the input readers: `bash fuzz/run.sh MINUTES [TARGET…]` (default 20 minutes each, all three
# targets: npy, npz, safetensors), one after another on one core. Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). Seeds are small valid files written by fuzz/seeds.py (numpy);
# the corpus grows under fuzz/corpus/TARGET, findings land in fuzz/artifacts/TARGET, and each run's
# libFuzzer log is kept as fuzz/logs/TARGET.log (its last lines: executions, corpus size).
#
# No sanitizer (`-s none`): the readers are safe Rust, so AddressSanitizer adds cost and no checks;
# overflow checks and debug assertions are on (`-a`), and libFuzzer's 2 GiB memory limit makes any
# allocation beyond what a small input can justify a finding.
set -euo pipefail
cd "$(dirname "$0")"
minutes="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy npz safetensors)
mkdir -p logs
python3 seeds.py corpus
cargo +nightly fuzz build -s none -a
for t in "${targets[@]}"; do
    max_len=4096
    [ "$t" = npy ] || max_len=65536
    echo "fuzzing $t for $minutes min"
    cargo +nightly fuzz run -s none -a "$t" "corpus/$t" -- \
        -max_total_time=$((minutes * 60)) -rss_limit_mb=2048 -max_len=$max_len -print_final_stats=1 \
        > "logs/$t.log" 2>&1 || { echo "$t: finding, see logs/$t.log and artifacts/$t"; tail -30 "logs/$t.log"; }
    grep -E "^stat::|Done" "logs/$t.log" | tail -12 || true
    echo "corpus/$t: $(ls "corpus/$t" | wc -l) inputs"
done
