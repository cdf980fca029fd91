#!/usr/bin/env bash
# Crowsnest benchmarks (not part of CI). Prints one line per figure; see bench/README.md.
#
#  1. size of the shipped wasm + js (+ css) gzipped (goal: wasm + js <= 100 KB)
#  2. SSR throughput of /topology under wrk at 64 connections: every request rendered (goal:
#     >= 2,500 a second) and served as the page cache serves it, against a bare axum handler
#     returning the same bytes in the same run (goal: >= 50 % of the bare rate)
#  3. the same page logged in (a session cookie: session lookup, gate, the banner's who-slot),
#     against the anonymous wall display in the same run (goal: >= 50 %)
#
# Every load is bounded: wrk runs for DURATION seconds (default 10) against loopback only.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
PORT_CONSOLE=3410
PORT_BARE=3411
mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).txt"

command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
"$ROOT/scripts/setup.sh" >/dev/null
"$ROOT/scripts/build-site.sh" >/dev/null 2>&1
cargo build --release -p crowsnest --example bare_page >/dev/null 2>&1

{
echo "# crowsnest bench $(date -u +%FT%TZ) on $(nproc) cores, rustc $(rustc --version | awk '{print $2}')"

pkg="$LEPTOS_SITE_ROOT/pkg"
gz() { gzip -9c "$1" | wc -c; }
wasm=$(gz "$pkg/crowsnest.wasm"); js=$(gz "$pkg/crowsnest.js"); css=$(gz "$pkg/crowsnest.css")
echo "bundle_gzip_bytes wasm=$wasm js=$js css=$css wasm+js=$((wasm + js)) goal<=100000 $([ $((wasm + js)) -le 100000 ] && echo MET || echo NOT-MET)"

data=$(mktemp -d)
# The demo with its wall display on, so the same server answers anonymous and logged-in requests.
config="$data/bench.toml"
sed "s/^# anonymous_role = 'viewer'.*/anonymous_role = 'viewer'/" deploy/demo.toml >"$config"
grep -q "^anonymous_role = 'viewer'" "$config" || { echo "bench: deploy/demo.toml no longer has the anonymous_role line" >&2; exit 1; }
"$CARGO_TARGET_DIR/release/crowsnest" --config "$config" serve --lab --listen "127.0.0.1:$PORT_CONSOLE" --data-dir "$data" >"$data/log" 2>&1 &
console=$!
trap 'kill $console ${bare:-} 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT_CONSOLE/healthz" >/dev/null && break; sleep 0.2; done
"$CARGO_TARGET_DIR/release/examples/bare_page" "http://127.0.0.1:$PORT_CONSOLE/topology" "127.0.0.1:$PORT_BARE" 2>/dev/null &
bare=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT_BARE/" >/dev/null && break; sleep 0.2; done
bytes=$(curl -s "http://127.0.0.1:$PORT_CONSOLE/topology" | wc -c)
# Log bob (viewer) in through the form, as a browser would.
jar="$data/cookies"
base="http://127.0.0.1:$PORT_CONSOLE"
token=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf=$token" --data-urlencode name=bob \
    --data-urlencode password=bob-viewer --data-urlencode next=/ "$base/login"
session=$(awk '$6 == "crowsnest_session" { print $6 "=" $7 }' "$jar")
[ -n "$session" ] || { echo "bench: could not log in as bob" >&2; exit 1; }
curl -s -H "Cookie: $session" "$base/topology" | grep -q 'id="who-name">bob<' || { echo "bench: the logged-in page does not name bob" >&2; exit 1; }

rate() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${@:3}" "$1" | tee "$data/wrk.$2" | awk '/Requests\/sec/ {print $2}'; }
p99() { awk '/ 99%/ {print $2}' "$data/wrk.$1"; }
# A query string bypasses the page cache: every request is a full Leptos render.
render=$(rate "http://127.0.0.1:$PORT_CONSOLE/topology?uncached" render)
served=$(rate "http://127.0.0.1:$PORT_CONSOLE/topology" served)
logged_in=$(rate "http://127.0.0.1:$PORT_CONSOLE/topology" logged_in -H "Cookie: $session")
raw=$(rate "http://127.0.0.1:$PORT_BARE/topology" bare)
echo "topology_page_bytes $bytes"
echo "ssr_topology_rendered_every_request_rps $render p99=$(p99 render) (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s) goal>=2500 $(awk -v r="$render" 'BEGIN { print (r >= 2500 ? "MET" : "NOT-MET") }')"
echo "ssr_topology_served_rps $served p99=$(p99 served) (page cache: one render per probe round and second)"
echo "bare_axum_same_bytes_rps $raw p99=$(p99 bare)"
awk -v a="$render" -v b="$raw" 'BEGIN { printf "rendered_vs_bare_percent %.1f\n", 100 * a / b }'
echo "ssr_topology_logged_in_rps $logged_in p99=$(p99 logged_in) (session cookie: gate, session lookup, who-slot)"
awk -v a="$served" -v b="$raw" 'BEGIN { r = 100 * a / b; printf "served_vs_bare_percent %.1f goal>=50 %s\n", r, (r >= 50 ? "MET" : "NOT-MET") }'
awk -v a="$logged_in" -v b="$served" 'BEGIN { r = 100 * a / b; printf "logged_in_vs_anonymous_percent %.1f goal>=50 %s\n", r, (r >= 50 ? "MET" : "NOT-MET") }'
} | tee "$out"
echo "bench: written to $out"
