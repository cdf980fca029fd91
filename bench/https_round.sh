#!/usr/bin/env bash
# HTTPS health round benchmark (not part of CI, issue 21): COUNT (default 300) HTTPS checks, each
# with its own TLS handshake, against Debian's nginx on COUNT loopback addresses, ROUNDS times
# (default 5). Goal: a round fits in the probe interval (5 s by default) on two cores.
# Reports each round, the median and the process's resident memory. Loopback only, bounded.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
COUNT="${COUNT:-300}"
ROUNDS="${ROUNDS:-5}"
mkdir -p bench/results
out="bench/results/https-round-$(date -u +%Y%m%dT%H%M%SZ).txt"
[ -x /usr/sbin/nginx ] || "$ROOT/scripts/setup.sh" >/dev/null
cargo build --locked --release -p crowsnest --example https_round >/dev/null 2>&1
{
    echo "# crowsnest https round $(date -u +%FT%TZ) on $(nproc) cores"
    "$CARGO_TARGET_DIR/release/examples/https_round" "$COUNT" "$ROUNDS"
} | tee "$out"
echo "bench: written to $out"
