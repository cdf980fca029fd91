#!/usr/bin/env bash
# Runs every test: the lint gate (rustfmt, clippy), Rust unit and integration tests (against this machine's PostgreSQL and real
# servers the tests start), then the attack suite and the Playwright suite in Chromium against a release build.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

echo "== lint gate"
# One format and no clippy warnings (lints are declared once, in Cargo.toml's [workspace.lints]).
cargo fmt --check
cargo clippy --locked -p app -p crowsnest --all-targets -- -D warnings
# The browser's side too: app's hydrate-only code compiles only for wasm.
cargo clippy --locked -p frontend --target wasm32-unknown-unknown -- -D warnings
# No server module imports one that imports it back.
python3 "$ROOT/scripts/import-cycles.py"

echo "== Rust tests"
# app and crowsnest only: building frontend natively would unify the ssr and hydrate features.
cargo test --locked -p app -p crowsnest

echo "== release build"
"$ROOT/scripts/build-site.sh"

echo "== attack suite (the release binary, attacked over loopback)"
python3 "$ROOT/scripts/attack.py" "$CARGO_TARGET_DIR/release/crowsnest"

echo "== Playwright (Chromium)"
cd end2end
npx playwright test
