#!/usr/bin/env bash
# Runs Kauko on the embedded default (SQLite under ./data, the local
# backend, demo data) at http://127.0.0.1:3000. Installs what is missing
# first (see scripts/toolchain.sh). Extra arguments go to `kauko`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail

echo "[run] building Kauko (release)" >&2
cargo leptos build --release
export KAUKO_DEMO_SEED="${KAUKO_DEMO_SEED:-true}"
export KAUKO_SERVER_SITE_ROOT="${KAUKO_SERVER_SITE_ROOT:-target/site}"
exec "$CARGO_TARGET_DIR/release/kauko" "$@"
