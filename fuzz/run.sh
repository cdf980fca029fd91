#!/usr/bin/env bash
# Runs every fuzz target (or those named) for RUNS executions each; see fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")"
RUNS="${RUNS:-10000000}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config exposition zonefile dns_reply json_bodies)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none -a >/dev/null
mkdir -p results
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="results/$t.log"
    start=$(date +%s)
    status=0
    # Crashes found earlier (each also a regression test in the code) seed the corpus.
    seeds=(); [ -d "regressions/$t" ] && seeds=("regressions/$t")
    cargo fuzz run --sanitizer none -a "$t" "corpus/$t" "${seeds[@]}" -- -runs="$RUNS" -max_len=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
    seconds=$(($(date +%s) - start))
    execs=$(awk '/stat::number_of_executed_units/ { print $NF }' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    crashes=$(find "artifacts/$t" -type f -name "crash-*" 2>/dev/null | wc -l)
    slow=$(find "artifacts/$t" -type f -name "slow-unit-*" 2>/dev/null | wc -l)
    echo "fuzz $t: ${execs:-?} executions in ${seconds}s, coverage ${cov:-?} edges, exit $status, crashes: $crashes, slow units: $slow"
done
