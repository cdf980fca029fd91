#!/usr/bin/env bash
# Builds Crowsnest (release) and starts the console with the lab on its embedded defaults:
# SQLite under ./data, the demo estate from deploy/demo.toml, http://127.0.0.1:3000.
# Extra arguments go to `crowsnest serve`.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
cargo leptos build --release --cargo-locked
echo "Crowsnest: open http://127.0.0.1:3000 (lab control API on http://127.0.0.1:3100; Ctrl-C stops both)"
# The demo's config is named here on purpose: the binary never falls back to it by itself.
exec "$CARGO_TARGET_DIR/release/crowsnest" --config "$ROOT/deploy/demo.toml" serve --lab "$@"
