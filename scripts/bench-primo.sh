#!/usr/bin/env bash
# Kauko inside Primo: the widget bundle's size (gzipped) and the time from
# the Primo host's hook firing to the status widget's first paint, p50/p95,
# with Kauko warm. Starts Kauko (demo data, local backend) and the
# stand-in Primo pages with their JWKS (end2end/primo-harness.mjs) on free
# loopback ports, and measures in Debian's Chromium (end2end/perf/primo.mjs).
#   scripts/bench-primo.sh [runs]      (default 50 per page)
# Uses the release build when there is one (cargo leptos build --release,
# as scripts/test.sh makes), else builds and uses the debug binary;
# PRIMO_BENCH_BIN=/path/to/kauko picks another.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
runs="${1:-50}"
bin="${PRIMO_BENCH_BIN:-}"
if [ -z "$bin" ]; then
  if [ -x "$CARGO_TARGET_DIR/release/kauko" ]; then
    bin="$CARGO_TARGET_DIR/release/kauko"
  else
    echo "[primo] no release build: cargo build -p server --bin kauko (debug)" >&2
    cargo build -q -p server --bin kauko >&2
    bin="$CARGO_TARGET_DIR/debug/kauko"
  fi
fi
echo "[primo] Kauko: $bin" >&2
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
port=$(free_port) primo_port=$(free_port)
base="http://127.0.0.1:$port" primo="http://127.0.0.1:$primo_port"
(cd end2end && PRIMO_HARNESS_PORT="$primo_port" KAUKO_URL="$base" exec node primo-harness.mjs) >"$work/harness.log" 2>&1 &
harness=$!
KAUKO_SERVER_BIND="127.0.0.1:$port" KAUKO_SERVER_PUBLIC_URL="$base" \
  KAUKO_DATABASE_URL="sqlite://$work/kauko.db" KAUKO_SERVER_SITE_ROOT="$work" \
  KAUKO_DEMO_SEED=true KAUKO_LOG=warn \
  KAUKO_PRIMO_INSTITUTION=KAUKO_E2E KAUKO_PRIMO_ISSUER=Prima \
  KAUKO_PRIMO_JWKS_URL="$primo/auth/KAUKO_E2E/jwks.json" \
  KAUKO_PRIMO_ALLOWED_ORIGINS="[\"$primo\"]" \
  "$bin" >"$work/kauko.log" 2>&1 &
pid=$!
trap 'kill $pid $harness 2>/dev/null; wait $pid $harness 2>/dev/null; rm -rf "$work"' EXIT INT TERM
for _ in $(seq 1 600); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && curl -fs "$primo/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fs "$base/healthz" >/dev/null 2>&1; then echo "[primo] Kauko did not start:" >&2; tail -20 "$work/kauko.log" >&2; exit 1; fi
(cd end2end && node perf/primo.mjs "$base" "$primo" "$runs")
