#!/usr/bin/env bash
# Live benchmarks (not part of CI) on the demo estate with its lab, wall display on:
#   1. time to detect (bench/detect.py): CHANGES changes (default 50) at the demo's 5 s
#      interval, from the lab's change to the event and to the page; median and p99
#   2. SSE fan-out (bench/fanout.py): CLIENTS streams (default 500) for SECONDS (default 600),
#      plus STALLED streams (default 5) that never read
# Both bounded in count and time; loopback only. Run one at a time with ONLY=detect|fanout.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
PORT=3430
mkdir -p bench/results
out="bench/results/live-$(date -u +%Y%m%dT%H%M%SZ).txt"
if [ -z "${SKIP_BUILD:-}" ]; then
    "$ROOT/scripts/setup.sh" >/dev/null
    "$ROOT/scripts/build-site.sh" >/dev/null 2>&1
fi
data=$(mktemp -d)
config="$data/live.toml"
sed "s/^# anonymous_role = 'viewer'.*/anonymous_role = 'viewer'/" deploy/demo.toml >"$config"
grep -q "^anonymous_role = 'viewer'" "$config" || { echo "bench: deploy/demo.toml no longer has the anonymous_role line" >&2; exit 1; }
"$CARGO_TARGET_DIR/release/crowsnest" --config "$config" serve --lab --listen "127.0.0.1:$PORT" --data-dir "$data" >"$data/log" 2>&1 &
console=$!
trap 'kill $console 2>/dev/null || true; wait $console 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$base/healthz" && break; sleep 0.2; done
lab="http://$(awk -F'"' '/^control_listen/ { print $2 }' "$config")"
{
echo "# live $(date -u +%FT%TZ) on $(nproc) cores: the demo estate, interval 5 s"
if [ "${ONLY:-detect}" = detect ]; then python3 bench/detect.py "$base" "$lab" --changes "${CHANGES:-50}"; fi
if [ "${ONLY:-fanout}" = fanout ]; then
    python3 bench/fanout.py "$base" "$console" --clients "${CLIENTS:-500}" --stalled "${STALLED:-5}" --seconds "${SECONDS_RUN:-600}"
fi
} | tee "$out"
echo "bench: written to $out"
