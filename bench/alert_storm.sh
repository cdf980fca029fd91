#!/usr/bin/env bash
# Alert storm benchmark (not part of CI): the scale estate (bench/estate.py: RECORDS A records
# on 3 real Knot servers, 288 hosts) with one direct webhook receiver (bench/webhook_sink.py).
# Once every engine has run its rounds, every record is made to fail at once: the zone is
# rewritten so each name answers 192.0.2.1 (no host of the estate: `wrong_target`) and each
# Knot server reloads it. For ROUNDS probe intervals after that it prints:
#   - how many notices the receiver got, and the largest notice's bytes (goal: a bounded number
#     of messages however many records fail: one per round that changes, each at most 100
#     alerts listed and the rest counted)
#   - how many alerts /api/v1/alerts shows firing
#   - the console's RSS before the storm and its peak during it (goal: bounded)
#   - the alert engine's round duration
# Every load is bounded: ROUNDS intervals after the storm, a 300 s cap on waiting; loopback only.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
RECORDS="${RECORDS:-10000}"
INTERVAL="${INTERVAL:-5}"
ROUNDS="${ROUNDS:-12}"
PORT=3440
PORT_SINK=3441
mkdir -p bench/results
out="bench/results/alert-storm-$(date -u +%Y%m%dT%H%M%SZ).txt"

[ -x /usr/sbin/knotd ] || { echo "bench: installing knot"; apt-get install -y -qq knot >/dev/null; }
if [ -z "${SKIP_BUILD:-}" ]; then
    "$ROOT/scripts/setup.sh" >/dev/null
    "$ROOT/scripts/build-site.sh" >/dev/null 2>&1
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
python3 bench/estate.py "$work" --records "$RECORDS" --interval "$INTERVAL" --listen "127.0.0.1:$PORT" >/dev/null
python3 bench/hosts.py "$work/hosts.txt" >"$work/hosts.log" 2>&1 & pids+=($!)
for n in 1 2 3; do /usr/sbin/knotd -c "$work/knot-$n.conf" 2>"$work/knot-$n.log" & pids+=($!); done
cat >>"$work/estate.toml" <<EOF

[auth]
anonymous_role = "viewer"
public_metrics = true

[alerting]
group_wait_seconds = 0

[[alerting.webhooks]]
name = "bench"
url = "http://127.0.0.1:$PORT_SINK/notices"
secret = "bench-secret-0123456789abcdef"
EOF
python3 bench/webhook_sink.py "127.0.0.1:$PORT_SINK" "$work/notices.jsonl" >"$work/sink.log" 2>&1 & pids+=($!)
"$CARGO_TARGET_DIR/release/crowsnest" --config "$work/estate.toml" serve >"$work/console.log" 2>&1 &
console=$!; pids+=($console)
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$base/healthz" && break; sleep 0.2; done
rounds() { curl -s "$base/metrics" | awk '/^crowsnest_engine_rounds_total\{engine="dns"/ { print $2 }'; }
for _ in $(seq 300); do [ "$(rounds)" -ge 4 ] 2>/dev/null && break; sleep 1; done
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$console/status"; }
notices() { [ -f "$work/notices.jsonl" ] && wc -l <"$work/notices.jsonl" || echo 0; }
firing() { curl -s "$base/api/v1/alerts" | python3 -c 'import json,sys; print(sum(1 for a in json.load(sys.stdin)["alerts"] if a["state"] == "firing"))'; }
before_rss=$(rss_kb) before_notices=$(notices) before_firing=$(firing)

# The storm: every record answers an address no host has.
sed -i -E 's/^(@ IN SOA ns1 hostmaster) 1 /\1 2 /; s/^(h[0-9]+ 300 IN A) .*/\1 192.0.2.1/' "$work/zone"
for n in 1 2 3; do knotc -s "$work/knot-$n/knot.sock" zone-reload bench.test >/dev/null; done
storm=$(date +%s)
peak=0 most_firing=0
end=$((storm + ROUNDS * INTERVAL))
while [ "$(date +%s)" -lt "$end" ]; do
    r=$(rss_kb); [ "$r" -gt "$peak" ] && peak=$r
    f=$(firing); [ "$f" -gt "$most_firing" ] && most_firing=$f
    sleep 1
done
largest=$(python3 -c '
import json, sys
sizes = [len(json.dumps(json.loads(l)["notice"])) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else [0]
print(max(sizes or [0]))' "$work/notices.jsonl")
{
echo "# crowsnest alert storm $(date -u +%FT%TZ) on $(nproc) cores: $RECORDS records made to fail at once, probes every ${INTERVAL}s, $ROUNDS intervals watched"
echo "firing_before=$before_firing firing_during_max=$most_firing"
echo "notices_before=$before_notices notices_after_storm=$(( $(notices) - before_notices )) largest_notice_bytes=$largest"
echo "rss_before_kb=$before_rss rss_peak_during_kb=$peak"
curl -s "$base/metrics" | awk '/^crowsnest_engine_round_duration_seconds\{engine="(alerts|dns)"/ { printf "round_duration %s %.3fs\n", $1, $2 }'
} | tee "$out"
