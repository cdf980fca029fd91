#!/usr/bin/env bash
# Scale benchmark (not part of CI): the console, lab off, watching a big estate from
# bench/estate.py (288 hosts in 3 regions, RECORDS A records, 3 real Knot servers, 3 loaders,
# 2 replicas) at INTERVAL seconds. Prints:
#   1. page size and render time of /dns (first and last page, a filter, a search),
#      /topology and the overview, at RECORDS records: bytes, and median/p99 of RENDERS full
#      renders (a query string bypasses the page cache) and of the cached page
#   2. the engines' round durations from /metrics (the DNS sweep must fit in the interval)
#   3. the console's RSS every 10 s for MINUTES minutes: at 1, 10 and MINUTES minutes, and the
#      growth from minute 10 to the end (goal: <= 60 MB steady, no growth)
# Every load is bounded (RENDERS requests a page, MINUTES of sampling), loopback only.
# WRAP runs the console under a tool (WRAP="heaptrack -o /tmp/console"); its RSS is then the tool's.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
RECORDS="${RECORDS:-10000}"
INTERVAL="${INTERVAL:-5}"
MINUTES="${MINUTES:-30}"
# RSS counts as steady from this minute on (the issue says 10; shorter runs for quick comparisons).
STEADY="${STEADY:-10}"
SCRAPE="${SCRAPE:-1}"
RENDERS="${RENDERS:-50}"
PORT=3420
mkdir -p bench/results
out="bench/results/scale-$(date -u +%Y%m%dT%H%M%SZ).txt"

[ -x /usr/sbin/knotd ] || { echo "bench: installing knot"; apt-get install -y -qq knot >/dev/null; }
if [ -z "${SKIP_BUILD:-}" ]; then
    "$ROOT/scripts/setup.sh" >/dev/null
    "$ROOT/scripts/build-site.sh" >/dev/null 2>&1
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
python3 bench/estate.py "$work" --records "$RECORDS" --interval "$INTERVAL" --listen "127.0.0.1:$PORT"
python3 bench/hosts.py "$work/hosts.txt" >"$work/hosts.log" 2>&1 & pids+=($!)
for n in 1 2 3; do /usr/sbin/knotd -c "$work/knot-$n.conf" 2>"$work/knot-$n.log" & pids+=($!); done
printf '[auth]\nanonymous_role = "viewer"\npublic_metrics = true\n' >>"$work/estate.toml"
${WRAP:-} "$CARGO_TARGET_DIR/release/crowsnest" --config "$work/estate.toml" serve >"$work/console.log" 2>&1 &
console=$!; pids+=($console)
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$base/healthz" && break; sleep 0.2; done
# Until every engine has finished two rounds: the pages then show real answers.
for _ in $(seq 300); do
    rounds=$(curl -s "$base/metrics" | awk '/^crowsnest_engine_rounds_total\{engine="dns"/ { print $2 }')
    [ "${rounds:-0}" -ge 2 ] && break; sleep 1
done

# Median and p99 of a list of seconds on stdin, in milliseconds.
stats() { sort -n | awk '{ v[NR] = $1 * 1000 } END { m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.99 + 0.999)]; printf "median=%.1fms p99=%.1fms n=%d", m, p, NR }'; }
page() {
    local label=$1 path=$2 sep
    sep=$([[ $path == *\?* ]] && echo '&' || echo '?')
    local bytes status
    bytes=$(curl -s -o "$work/page" -w '%{size_download}' "$base$path")
    status=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
    local rendered cached
    rendered=$(for i in $(seq "$RENDERS"); do curl -s -o /dev/null -w '%{time_total}\n' "$base$path${sep}r=$i"; done | stats)
    cached=$(for _ in $(seq "$RENDERS"); do curl -s -o /dev/null -w '%{time_total}\n' "$base$path"; done | stats)
    echo "page $label status=$status bytes=$bytes rendered[$rendered] as_served[$cached]"
}

{
echo "# scale $(date -u +%FT%TZ) on $(nproc) cores, scrape=$SCRAPE: $(grep -c '^\[\[hosts\]\]' "$work/estate.toml") hosts, $RECORDS+2 records x 3 Knot servers, interval ${INTERVAL}s"
page dns_first "/dns"
last=$(( (RECORDS + 2 + 99) / 100 ))
page dns_last "/dns?page=$last"
page dns_filter_ok "/dns?status=ok"
page dns_search "/dns?name=h4242"
page topology "/topology"
page overview "/"
curl -s "$base/metrics" | awk '/^crowsnest_engine_round_duration_seconds/ { printf "round_duration %s %.3fs\n", $1, $2 }'
curl -s "$base/metrics" | awk '/^crowsnest_dns_queries_per_round/ { print "dns_queries_per_round", $2 }'
curl -s "$base/metrics" | awk '/^crowsnest_dns_records\{/ { print "dns_records", $1, $2 }'

start=$(date +%s)
end=$((start + MINUTES * 60))
declare -A at
while [ "$(date +%s)" -lt "$end" ]; do
    kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$console/status")
    minute=$(( ($(date +%s) - start) / 60 ))
    at[$minute]=$kb
    echo "$(( $(date +%s) - start )) $kb" >>"$work/rss"
    # As a watched console is used: Prometheus scrapes, someone opens a DNS page (past the
    # page cache) and a record's history. SCRAPE=0 measures the console left alone.
    if [ "$SCRAPE" = 1 ]; then
        curl -s -o /dev/null "$base/metrics"
        curl -s -o /dev/null "$base/dns?page=$(( RANDOM % last + 1 ))&r=$RANDOM"
        curl -s -o /dev/null "$base/dns/record?key=h$(( RANDOM % RECORDS )).bench.test.%20A"
    fi
    sleep 10
done
kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$console/status")
echo "rss_kb minute1=${at[1]:-?} minute10=${at[10]:-?} end=$kb (after $MINUTES min)"
# From minute 10: first to last, min/mean/max, and the least-squares trend (MiB a minute),
# which a single sample's swing does not move the way last - first does.
awk -v from="$STEADY" '$1 >= from * 60 { if (!n++) { first = $2; min = $2 } last = $2; if ($2 > max) max = $2; if ($2 < min) min = $2
        x = $1 / 60; y = $2 / 1024; sx += x; sy += y; sxx += x * x; sxy += x * y }
    END { if (n > 1) printf "rss_from_minute%d growth=%d kB min=%.1f MiB mean=%.1f MiB max=%.1f MiB trend=%+.3f MiB/min n=%d\n",
            from, last - first, min / 1024, sy / n, max / 1024, (n * sxy - sx * sy) / (n * sxx - sx * sx), n
          else print "rss_steady n/a (run MINUTES > STEADY)" }' "$work/rss"
curl -s "$base/metrics" | awk '/^crowsnest_engine_round_duration_seconds/ { printf "round_duration_at_end %s %.3fs\n", $1, $2 }'
curl -s "$base/metrics" | awk '/^crowsnest_engine_panics_total/ { print "panics", $1, $2 }'
} | tee "$out"
cp "$work/rss" "${out%.txt}.rss"
echo "bench: written to $out"
