#!/usr/bin/env bash
# Alert latency benchmark (not part of CI): the demo (`serve --lab`, probes every INTERVAL s)
# with one direct webhook receiver (bench/webhook_sink.py); CHANGES times, take lb2 down in the
# lab and time until the receiver holds the signed "firing" notice for it, then bring it up and
# time the "resolved" one. Prints median and p99 of each, against the goal of one interval +
# the rule's `for` (0 for HostDown) + 1 s, and the console's RSS at the end.
# Every load is bounded: CHANGES changes, each given at most TIMEOUT seconds; loopback only.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
CHANGES="${CHANGES:-10}"
INTERVAL="${INTERVAL:-5}"
TIMEOUT="${TIMEOUT:-60}"
PORT_CONSOLE=3430
PORT_SINK=3431
mkdir -p bench/results
out="bench/results/alert-latency-$(date -u +%Y%m%dT%H%M%SZ).txt"
if [ -z "${SKIP_BUILD:-}" ]; then
    "$ROOT/scripts/setup.sh" >/dev/null
    "$ROOT/scripts/build-site.sh" >/dev/null 2>&1
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
config="$work/bench.toml"
sed "s/^interval_seconds = 5$/interval_seconds = $INTERVAL/" deploy/demo.toml >"$config"
cat >>"$config" <<EOF

[[alerting.webhooks]]
name = "bench"
url = "http://127.0.0.1:$PORT_SINK/notices"
secret = "bench-secret-0123456789abcdef"
EOF
python3 bench/webhook_sink.py "127.0.0.1:$PORT_SINK" "$work/notices.jsonl" >"$work/sink.log" 2>&1 & pids+=($!)
"$CARGO_TARGET_DIR/release/crowsnest" --config "$config" serve --lab --listen "127.0.0.1:$PORT_CONSOLE" --data-dir "$work" >"$work/console.log" 2>&1 &
console=$!; pids+=($console)
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT_CONSOLE/healthz" && break; sleep 0.2; done
lab="http://127.0.0.1:3100"
# Until lb2 is shown up (the lab's first rounds).
sleep $((3 * INTERVAL))

now_ms() { date +%s%3N; }
# Waits for a notice saying `state` for lb2 that arrived after `since`; prints the arrival (ms).
arrival() {
    local state=$1 since=$2 deadline=$(( $(date +%s) + TIMEOUT ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        at=$(python3 - "$work/notices.jsonl" "$state" "$since" <<'PY'
import json, sys
path, state, since = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(path):
    n = json.loads(line)
    if n["at_ms"] < since:
        continue
    for a in n["notice"].get("alerts", []):
        if a.get("name") == "HostDown" and a.get("labels", {}).get("host") == "lb2" and a.get("state") == state and not a.get("repeat"):
            print(n["at_ms"]); sys.exit(0)
PY
)
        [ -n "$at" ] && { echo "$at"; return; }
        sleep 0.1
    done
    echo "timeout"
}
fired=() resolved=()
for i in $(seq "$CHANGES"); do
    t0=$(now_ms); curl -sf -o /dev/null -X POST -H 'content-type: application/json' -d '{"state":"down"}' "$lab/lab/hosts/lb2"
    at=$(arrival firing "$t0"); [ "$at" = timeout ] && { echo "bench: change $i: no firing notice within ${TIMEOUT}s" >&2; exit 1; }
    fired+=($((at - t0)))
    t0=$(now_ms); curl -sf -o /dev/null -X POST -H 'content-type: application/json' -d '{"state":"up"}' "$lab/lab/hosts/lb2"
    at=$(arrival resolved "$t0"); [ "$at" = timeout ] && { echo "bench: change $i: no resolved notice within ${TIMEOUT}s" >&2; exit 1; }
    resolved+=($((at - t0)))
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { p = int(NR * 0.99 + 0.999); m = int((NR + 1) / 2); printf "median=%d ms p99=%d ms (n=%d)", v[m], v[p], NR }'; }
goal=$(( INTERVAL * 1000 + 1000 ))
{
echo "# crowsnest alert latency $(date -u +%FT%TZ) on $(nproc) cores; probes every ${INTERVAL}s, HostDown for 0s, damping as in deploy/demo.toml"
echo "lab_change_to_firing_notice $(stats "${fired[@]}") goal<=${goal} ms (one interval + for + 1 s)"
echo "lab_change_to_resolved_notice $(stats "${resolved[@]}")"
echo "firing_ms ${fired[*]}"
echo "resolved_ms ${resolved[*]}"
echo "console_rss_kb $(awk '/VmRSS/ { print $2 }' /proc/$console/status)"
} | tee "$out"
echo "bench: written to $out"
