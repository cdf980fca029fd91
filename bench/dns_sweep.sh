#!/usr/bin/env bash
# DNS sweep benchmark (not part of CI): a zone of COUNT A records (default 10000) served by
# three real Knot DNS servers on 127.0.0.1-3, port 53. In the same run:
#   1. Crowsnest's engine sweeps every record at every server, SWEEPS times (default 5), and
#      reports the median sweep (server/examples/dns_sweep.rs)
#   2. octodns-report (PyPI octodns) asks the same records of the same servers
#   3. dnsperf (Debian) measures one server's ceiling for the same queries, for DURATION seconds
# Goals (issue 4): Crowsnest >= 50x octodns-report's rate and >= 50 % of dnsperf's.
# Every load is bounded: SWEEPS sweeps and one octodns-report run, dnsperf for DURATION
# seconds, loopback only.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
COUNT="${COUNT:-10000}"
CONCURRENCY="${CONCURRENCY:-64}"
DURATION="${DURATION:-10}"
ORIGIN="bench.test"
mkdir -p bench/results
out="bench/results/dns-sweep-$(date -u +%Y%m%dT%H%M%SZ).txt"

[ -x /usr/sbin/knotd ] || { echo "bench: installing knot"; apt-get install -y -qq knot >/dev/null; }
command -v dnsperf >/dev/null || { echo "bench: installing dnsperf"; apt-get install -y -qq dnsperf >/dev/null; }
command -v octodns-report >/dev/null || { echo "bench: installing octodns"; pip install -q octodns==1.22.0; }
cargo build --locked --release -p crowsnest --example dns_sweep >/dev/null 2>&1

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The zone, octodns' YAML of the same records, and dnsperf's query file.
python3 - "$work" "$ORIGIN" "$COUNT" <<'PY'
import sys, os
work, origin, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
addr = lambda i: f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"
with open(f"{work}/zone", "w") as z:
    z.write(f"$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n")
    for i in range(count):
        z.write(f"h{i} 300 IN A {addr(i)}\n")
os.makedirs(f"{work}/octodns", exist_ok=True)
with open(f"{work}/octodns/{origin}.yaml", "w") as y:
    y.write("---\n")
    for i in sorted(range(count), key=lambda i: f"h{i}"):
        y.write(f"h{i}:\n  ttl: 300\n  type: A\n  value: {addr(i)}\n")
with open(f"{work}/octodns.yaml", "w") as c:
    c.write(f"providers:\n  config:\n    class: octodns.provider.yaml.YamlProvider\n    directory: {work}/octodns\n"
            f"    enforce_order: false\nzones:\n  {origin}.:\n    sources:\n      - config\n    targets:\n      - config\n")
with open(f"{work}/queries", "w") as q:
    for i in range(count):
        q.write(f"h{i}.{origin} A\n")
PY

for n in 1 2 3; do
    d="$work/knot$n"; mkdir -p "$d/db"; cp "$work/zone" "$d/$ORIGIN.zone"
    printf 'server:\n    rundir: "%s"\n    listen: 127.0.0.%s@53\ndatabase:\n    storage: "%s/db"\ncontrol:\n    listen: "%s/knot.sock"\nlog:\n  - target: stderr\n    any: warning\nzone:\n  - domain: %s\n    storage: "%s"\n    file: %s.zone\n' \
        "$d" "$n" "$d" "$d" "$ORIGIN" "$d" "$ORIGIN" > "$d/knot.conf"
    /usr/sbin/knotd -c "$d/knot.conf" 2>"$d/log" & pids+=($!)
done
for n in 1 2 3; do
    for _ in $(seq 100); do dig +short +time=1 +tries=1 @"127.0.0.$n" "h0.$ORIGIN" A >/dev/null 2>&1 && break; sleep 0.1; done
done

{
echo "# dns sweep $(date -u +%FT%TZ) on $(nproc) cores: $COUNT A records x 3 Knot servers, concurrency $CONCURRENCY"
"$CARGO_TARGET_DIR/release/examples/dns_sweep" "$ORIGIN" "$COUNT" "$CONCURRENCY" 127.0.0.1:53 127.0.0.2:53 127.0.0.3:53

start=$(date +%s.%N)
octodns-report --config-file "$work/octodns.yaml" --zone "$ORIGIN." --source config \
    --concurrency "$CONCURRENCY" --quiet 127.0.0.1 127.0.0.2 127.0.0.3 > "$work/octodns.csv" 2>"$work/octodns.err" || {
    echo "octodns-report failed:"; tail -5 "$work/octodns.err"; }
end=$(date +%s.%N)
rows=$(($(wc -l < "$work/octodns.csv") - 1))
python3 -c "s=$end-$start; print(f'octodns_report_seconds {s:.3f}'); print('octodns_report_records $rows'); print(f'octodns_report_queries_per_second {3*$COUNT/s:.0f}')"

dnsperf -s 127.0.0.1 -p 53 -d "$work/queries" -l "$DURATION" -c 8 -T 2 -q 200 2>&1 \
    | awk '/Queries per second/ { printf "dnsperf_queries_per_second %d\n", $4 }'
} | tee "$out"

python3 - "$out" <<'PY'
import sys, re
text = open(sys.argv[1]).read()
get = lambda k: float(re.search(rf"^{k} (\S+)", text, re.M).group(1))
ours, octo, perf = get("crowsnest_queries_per_second"), get("octodns_report_queries_per_second"), get("dnsperf_queries_per_second")
print(f"crowsnest_vs_octodns_report {ours / octo:.1f}x goal>=50x {'MET' if ours / octo >= 50 else 'NOT-MET'}")
print(f"crowsnest_vs_dnsperf_percent {100 * ours / perf:.1f} goal>=50 {'MET' if ours / perf >= 0.5 else 'NOT-MET'}")
PY
