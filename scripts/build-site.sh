#!/usr/bin/env bash
# Builds the release site and server the way `cargo leptos build --release` does, with the tools
# setup already installs (cargo, wasm-bindgen-cli, wasm-opt) and nothing else: compiling
# cargo-leptos itself took a fresh machine about 14 minutes before any of Crowsnest was built.
# `cargo leptos watch` stays an optional convenience for development.
#
#   scripts/build-site.sh          # the wasm bundle, the site under $LEPTOS_SITE_ROOT, the server
#
# Steps (cargo-leptos 0.3.8's, read from its source): the `frontend` cdylib for wasm32 in the
# wasm-release profile; wasm-bindgen --target=web; wasm-opt -Oz; crowsnest_bg.wasm renamed
# crowsnest.wasm (leptos' hydration scripts ask for that name when LEPTOS_OUTPUT_NAME is set at
# compile time); style/main.css as pkg/crowsnest.css; public/ at the site root; then the server
# in release, with the same LEPTOS_* variables cargo-leptos sets.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

site="$LEPTOS_SITE_ROOT"
front="$CARGO_TARGET_DIR/front"
export LEPTOS_OUTPUT_NAME=crowsnest LEPTOS_SITE_ROOT="$site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
    LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false

echo "build-site: wasm bundle"
cargo build --locked --package=frontend --lib --target=wasm32-unknown-unknown --no-default-features \
    --profile=wasm-release --target-dir="$front"

# Made beside the live site and swapped in whole, so a running console never serves half a site.
next="$site.next"
rm -rf "$next"
mkdir -p "$next/pkg"
wasm-bindgen --target=web --no-typescript --out-name=crowsnest --out-dir="$next/pkg" \
    "$front/wasm32-unknown-unknown/wasm-release/frontend.wasm"
mv "$next/pkg/crowsnest_bg.wasm" "$next/pkg/crowsnest.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$next/pkg/crowsnest.wasm" -o "$next/pkg/crowsnest.wasm"
cp style/main.css "$next/pkg/crowsnest.css"
cp -r public/. "$next/"
rm -rf "$site.old"
[ -d "$site" ] && mv "$site" "$site.old"
mv "$next" "$site"
rm -rf "$site.old"

echo "build-site: server"
cargo build --locked --release --package=crowsnest --bin=crowsnest --no-default-features
echo "build-site: $site ($(du -sh "$site/pkg/crowsnest.wasm" | cut -f1) wasm) and $CARGO_TARGET_DIR/release/crowsnest"
