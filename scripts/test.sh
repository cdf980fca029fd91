#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (against this machine's PostgreSQL and real
# servers the tests start), then the Playwright suite in Chromium against a release build.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

echo "== Rust tests"
cargo test --workspace --locked

echo "== release build"
cargo leptos build --release --locked

echo "== Playwright (Chromium)"
cd end2end
npx playwright test
