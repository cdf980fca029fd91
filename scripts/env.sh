# Sourced by the other scripts: one place for paths every command agrees on.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Outside the checkout, so a second run on the same machine (another clone, CI) reuses the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/crowsnest/target}"
# scripts/build-site.sh (or cargo-leptos) writes the site here (wasm, js, css, public/); the server serves it.
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$CARGO_TARGET_DIR/site}"
# wasm-opt (npm binaryen) and playwright live in end2end/node_modules.
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Two cores: keep builds from oversubscribing.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
