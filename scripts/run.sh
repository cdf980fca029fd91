#!/usr/bin/env bash
# Builds Crowsnest (release) and starts the console with the lab on its embedded defaults:
# SQLite under ./data, the demo estate from deploy/demo.toml, http://127.0.0.1:3000.
# Extra arguments go to `crowsnest serve`.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build-site.sh"
# The web balancer's nginx with the shipped config (deploy/nginx/), in front of the lab's web1,
# reading the console's edge directory: maintenance on `web` really changes what
# `curl -H 'Host: www.example.test' 127.0.0.1:8081/` answers.
edge_prefix=$(mktemp -d)
"$ROOT/scripts/edge-nginx.sh" 127.0.0.1:8081 127.0.1.3:8080 "$ROOT/data/edge" "$edge_prefix" &
nginx_pid=$!
trap 'kill "$nginx_pid" 2>/dev/null || true' EXIT
echo "Crowsnest: open http://127.0.0.1:3000 and log in as alice / alice-oncall (lab control API on"
echo "http://127.0.0.1:3100; www's nginx on 127.0.0.1:8081; Ctrl-C stops all)"
# The demo's config is named here on purpose: the binary never falls back to it by itself.
"$CARGO_TARGET_DIR/release/crowsnest" --config "$ROOT/deploy/demo.toml" serve --lab "$@"
