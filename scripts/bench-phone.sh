#!/usr/bin/env bash
# Time to interactive on an emulated phone (Fast 3G and 4G, CPU 4x slower,
# cold and warm cache) for the home page, the request form and My requests:
# a release Kauko (embedded default, demo data) and the development IdP on
# free loopback ports, measured by end2end/perf/phone.mjs in Debian's
# Chromium. Prints DOMContentLoaded and hydration times, then Lighthouse's
# mobile performance score for the same pages (end2end/perf/lighthouse.mjs).
#   scripts/bench-phone.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
if [ "${1:-}" != "--no-build" ]; then
  echo "[phone] cargo leptos build --release" >&2
  kauko_release_build >&2
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
port=$(free_port) idp_port=$(free_port)
base="http://127.0.0.1:$port"
IDP_PORT="$idp_port" KAUKO_IDP_REDIRECT_URIS="$base/auth/callback" KAUKO_IDP_POST_LOGOUT_URIS="$base/" \
  node dev/idp/server.mjs >"$work/idp.log" 2>&1 &
idp=$!
KAUKO_SERVER_BIND="127.0.0.1:$port" KAUKO_SERVER_PUBLIC_URL="$base" \
  KAUKO_DATABASE_URL="sqlite://$work/kauko.db" KAUKO_SERVER_SITE_ROOT=target/site \
  KAUKO_DEMO_SEED=true KAUKO_LOG=warn KAUKO_AUTH_ISSUER_URL="http://127.0.0.1:$idp_port" \
  KAUKO_AUTH_CLIENT_SECRET=kauko-dev-secret \
  "$CARGO_TARGET_DIR/release/kauko" >"$work/kauko.log" 2>&1 &
pid=$!
trap 'kill $pid $idp 2>/dev/null; wait $pid $idp 2>/dev/null; rm -rf "$work"' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$idp_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
(cd end2end && node perf/phone.mjs "$base" "$(free_port)")
