#!/usr/bin/env bash
# Runs Debian's nginx in the foreground with the shipped deploy/nginx/crowsnest-site.conf, as a
# region's web balancer on loopback: unprivileged, under its own prefix, nothing in /etc or /var.
#
#   scripts/edge-nginx.sh LISTEN UPSTREAM EDGE_DIR PREFIX
#   e.g. scripts/edge-nginx.sh 127.0.1.2:8081 127.0.1.3:8080 data/edge /tmp/edge-nginx
#
# Only the listen address, the upstream and the edge directory are replaced; each must still be
# in the shipped file, or this stops with an error rather than running something else.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 LISTEN UPSTREAM EDGE_DIR PREFIX" >&2; exit 2; }
listen=$1 upstream=$2 edge=$3 prefix=$4
shipped="$(cd "$(dirname "$0")/.." && pwd)/deploy/nginx/crowsnest-site.conf"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "$0: nginx is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$edge" "$prefix/conf" "$prefix/logs" "$prefix/tmp"
edge=$(cd "$edge" && pwd)
prefix=$(cd "$prefix" && pwd)

site="$prefix/conf/crowsnest-site.conf"
cp "$shipped" "$site"
replace() {
    grep -qF -- "$1" "$site" || { echo "$0: the shipped config no longer contains: $1" >&2; exit 1; }
    local from to
    from=$(printf '%s' "$1" | sed 's/[][\/.*^$]/\\&/g')
    to=$(printf '%s' "$2" | sed 's/[\/&]/\\&/g')
    sed -i "s/$from/$to/g" "$site"
}
replace "/var/lib/crowsnest/edge" "$edge"
replace "server 127.0.0.1:8080;" "server $upstream;"
replace "listen 80 default_server;" "listen $listen default_server;"
replace "listen 80;" "listen $listen;"

{
    # One process: stopping it (even with SIGKILL) leaves no orphaned worker holding the port,
    # and it never drops to `nobody` (who could not read a 0700 temp dir when run as root).
    echo "master_process off;"
    echo "worker_processes 1;"
    echo "pid $prefix/nginx.pid;"
    echo "error_log $prefix/logs/error.log;"
    echo "events { worker_connections 256; }"
    echo "http {"
    echo "    access_log off;"
    for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $prefix/tmp/$t;"; done
    echo "    include $site;"
    echo "}"
} >"$prefix/conf/nginx.conf"
exec "$nginx" -p "$prefix/" -c conf/nginx.conf -e stderr -g 'daemon off;'
