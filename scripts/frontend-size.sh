#!/usr/bin/env bash
# Builds the release front end and prints the size of what a browser
# downloads: wasm, js and css, raw and gzipped (gzip -9).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
if [ "${1:-}" != "--no-build" ]; then
  echo "[size] cargo leptos build --release" >&2
  cargo leptos build --release >&2
fi
pkg=target/site/pkg
printf '%-12s %12s %12s\n' file raw gzipped
total_raw=0 total_gz=0
for f in "$pkg"/kauko.wasm "$pkg"/kauko.js "$pkg"/kauko.css; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz))
  awk -v n="$(basename "$f")" -v r="$raw" -v g="$gz" 'BEGIN { printf "%-12s %10.1f KB %10.1f KB\n", n, r/1024, g/1024 }'
done
awk -v r="$total_raw" -v g="$total_gz" 'BEGIN { printf "%-12s %10.1f KB %10.1f KB\n", "total", r/1024, g/1024 }'
