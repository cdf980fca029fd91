#!/usr/bin/env bash
# Two regions on loopback, for Playwright and for trying the secondary by hand: a PostgreSQL
# control primary and a streaming standby (built here, in DIR), Crowsnest sjc-1 on the primary
# and sin-1 on the standby (peers of each other), and Singapore's nginx with the shipped config.
# Runs in the foreground; SIGTERM or Ctrl-C stops everything it started.
#
#   scripts/regions.sh DIR SJC_PORT SIN_PORT SIN_NGINX_PORT
#   e.g. scripts/regions.sh /tmp/regions 3400 3401 8082   (alice / alice-oncall on both)
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 DIR SJC_PORT SIN_PORT SIN_NGINX_PORT" >&2; exit 2; }
source "$(dirname "$0")/env.sh"
dir=$(realpath -m "$1") sjc_port=$2 sin_port=$3 nginx_port=$4
crowsnest="$CARGO_TARGET_DIR/release/crowsnest"
[ -x "$crowsnest" ] || { echo "$0: build first: scripts/build-site.sh" >&2; exit 1; }
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The clusters live in a directory of their own under /tmp, owned by postgres when run as root:
# the checkout may sit under a directory postgres cannot enter (a mktemp -d is 0700). $dir/pg
# links to it; `realpath` gives the real path to whoever needs it (secondary.spec.ts).
stop_clusters() {
    for node in primary standby; do
        [ -f "$1/$node/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$1/$node" -m immediate -w stop >/dev/null 2>&1 || true
    done
}
pids=()
pg=""
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "$pg" ]; then stop_clusters "$pg"; rm -rf "$pg"; fi
}
trap cleanup EXIT
trap 'exit 0' TERM INT

# A previous run's clusters, if it was killed before it could stop them.
if [ -e "$dir/pg" ]; then
    old=$(realpath "$dir/pg")
    stop_clusters "$old"
    case "$old" in /tmp/crowsnest-regions-pg.*) rm -rf "$old" ;; esac
fi
rm -rf "$dir" && mkdir -p "$dir/sjc-1/edge" "$dir/sin-1/edge"
pg=$(mktemp -d /tmp/crowsnest-regions-pg.XXXXXX)
chmod 755 "$pg"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$pg"
ln -s "$pg" "$dir/pg"
primary_port=$(free_port) standby_port=$(free_port)
settings() {
    printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = ''\nfsync = off\nwal_retrieve_retry_interval = '1s'\n" "$1"
}
as_pg "$pg_bin/initdb" -D "$pg/primary" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
settings "$primary_port" | as_pg tee -a "$pg/primary/postgresql.conf" >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg/primary" -l "$pg/primary.log" -w start >/dev/null
as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$pg/standby" -R -X stream -c fast -C -S db_sin --no-sync
settings "$standby_port" | as_pg tee -a "$pg/standby/postgresql.conf" >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg/standby" -l "$pg/standby.log" -w start >/dev/null

hash=$(printf %s alice-oncall | "$crowsnest" hash-password)
# One audit key for both regions: they share one PostgreSQL control store.
head -c 32 /dev/urandom | base64 > "$dir/audit.key" && chmod 600 "$dir/audit.key"
# Both configs come from the typed builder the integration tests use (config/example.rs).
"$crowsnest" example-config regions --dir "$dir" --sjc-port "$sjc_port" --sin-port "$sin_port" \
    --nginx-port "$nginx_port" --primary-port "$primary_port" --standby-port "$standby_port" --password-hash "$hash"

site_root=${LEPTOS_SITE_ROOT}
"$crowsnest" --config "$dir/sjc-1.toml" serve --site-root "$site_root" 2> "$dir/sjc-1.log" &
pids+=($!)
# The secondary starts once the replica has the primary's schema and users.
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$sjc_port/healthz" >/dev/null && break
    sleep 0.2
done
"$crowsnest" --config "$dir/sin-1.toml" serve --site-root "$site_root" 2> "$dir/sin-1.log" &
pids+=($!)
# Nothing listens upstream: out of maintenance www answers 502 here, in maintenance 503.
"$ROOT/scripts/edge-nginx.sh" "127.0.0.1:$nginx_port" "127.0.0.1:9" "$dir/sin-1/edge" "$dir/sin-1/nginx" &
pids+=($!)
echo "sjc-1 (primary): http://127.0.0.1:$sjc_port  sin-1 (secondary): http://127.0.0.1:$sin_port  Singapore's nginx: 127.0.0.1:$nginx_port"
wait -n "${pids[@]}"
echo "$0: a process stopped; see $dir/*.log" >&2
exit 1
