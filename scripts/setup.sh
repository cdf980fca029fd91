#!/usr/bin/env bash
# Installs exactly what is missing to build, run and test Crowsnest, and nothing that downloads
# at build time. Idempotent: a second run only checks and takes seconds.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

say() { printf 'setup: %s\n' "$*"; }

# Debian packages: Chromium for the Playwright suite, Knot DNS for the DNS end-to-end test,
# nginx for the maintenance-mode test (the tests start it themselves, unprivileged), unbound as
# the lab's caching resolver (the lab starts its own on loopback), Prometheus for the test that
# scrapes /metrics with the real thing, Alertmanager for the alerting tests (two clustered on
# loopback), aiosmtpd as the mail server the email receiver's test talks to, feedparser as the
# real feed parser the status page's Atom feed is read with, curl for scripts.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/sbin/knotd ] || missing+=(knot)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/sbin/unbound ] || missing+=(unbound)
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
/usr/bin/python3 -c 'import feedparser' 2>/dev/null || missing+=(python3-feedparser)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# No cargo-leptos: scripts/build-site.sh builds the site with wasm-bindgen and wasm-opt below
# (compiling cargo-leptos took a fresh machine about 14 minutes). For `cargo leptos watch` while
# developing: cargo install cargo-leptos --version 0.3.8 --locked --features no_downloads

# wasm-bindgen-cli must equal the wasm-bindgen version in Cargo.lock exactly.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${bindgen_version}\$"; then
    say "installing wasm-bindgen-cli ${bindgen_version}"
    cargo install wasm-bindgen-cli --version "${bindgen_version}"
fi

# npm packages: Playwright (no browser download: it drives Debian's Chromium) and binaryen
# (wasm-opt >= 117 for release builds; Debian's is too old).
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
    || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing npm packages for end2end"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

say "ready: wasm-bindgen $bindgen_version, wasm-opt $(wasm-opt --version | awk '{print $3}'), $(chromium --version 2>/dev/null | head -1)"
