#!/usr/bin/env bash
# Replication monitoring cost on the primary (not part of CI): a real primary and 3 standbys with
# pg_stat_statements, the replication engine at a 1 s interval for BENCH_SECONDS (default 60), then
# the primary's total statement time per minute. One line per figure; see bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
mkdir -p bench/results
cargo build --locked --release -p crowsnest --example replication_cost >/dev/null 2>&1
BENCH_SECONDS="${BENCH_SECONDS:-60}" "$CARGO_TARGET_DIR/release/examples/replication_cost" \
    | tee "bench/results/replication-cost-$(date -u +%Y%m%dT%H%M%SZ).txt"
