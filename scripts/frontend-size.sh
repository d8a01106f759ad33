#!/usr/bin/env bash
# Builds the release front end and prints what a browser downloads: every
# file in target/site/pkg (wasm, js, css, and split chunks when there are
# any), raw, gzip -9 and brotli (quality 11), and the first load of a
# patron page (kauko.wasm + kauko.js + kauko.css). Then the same for the
# empty cargo-leptos starter app (scripts/size-template), built the same
# way, so the ratio is visible.
#
#   scripts/frontend-size.sh            build both, print
#   scripts/frontend-size.sh --check    also fail when Kauko's first load
#                                       (gzipped) is over its budget
#                                       (scripts/frontend-budget.env)
#   --no-build                          measure what is built
#   --no-template                       skip the starter app
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
build=1 check=0 template=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --check) check=1 ;;
    --no-template) template=0 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done

# Sizes of one file: raw, gzip -9, brotli 11 (node's zlib: no extra tool).
sizes() {
  node -e '
    const fs = require("fs"), zlib = require("zlib");
    const b = fs.readFileSync(process.argv[1]);
    const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
    const gz = zlib.gzipSync(b, { level: 9 });
    console.log(b.length, gz.length, br.length);
  ' "$1"
}

# Prints a table for a pkg folder; sets FIRST_GZ to the first load's
# gzipped bytes (name.wasm + name.js + name.css).
report() { # $1 = label, $2 = pkg folder, $3 = output name
  local label="$1" pkg="$2" name="$3" raw gz br
  local t_raw=0 t_gz=0 t_br=0
  printf '\n%s (%s)\n' "$label" "$pkg"
  printf '%-28s %11s %11s %11s\n' file raw gzip brotli
  for f in "$pkg"/*; do
    [ -f "$f" ] || continue
    case "$f" in *.br|*.gz|*.d.ts) continue ;; esac
    read -r raw gz br < <(sizes "$f")
    awk -v n="$(basename "$f")" -v r="$raw" -v g="$gz" -v b="$br" \
      'BEGIN { printf "%-28s %8.1f KB %8.1f KB %8.1f KB\n", n, r/1024, g/1024, b/1024 }'
    case "$(basename "$f")" in
      "$name.wasm"|"$name.js"|"$name.css")
        t_raw=$((t_raw + raw)) t_gz=$((t_gz + gz)) t_br=$((t_br + br)) ;;
    esac
  done
  awk -v r="$t_raw" -v g="$t_gz" -v b="$t_br" \
    'BEGIN { printf "%-28s %8.1f KB %8.1f KB %8.1f KB\n", "first load (wasm+js+css)", r/1024, g/1024, b/1024 }'
  FIRST_GZ=$t_gz
}

if [ "$build" = 1 ]; then
  echo "[size] cargo leptos build --release" >&2
  kauko_release_build >&2
fi
report "Kauko" target/site/pkg kauko
kauko_gz=$FIRST_GZ

if [ "$template" = 1 ]; then
  # Its own target folder, so Kauko's compiled crates are not disturbed.
  if [ "$build" = 1 ] || [ ! -d scripts/size-template/target/site/pkg ]; then
    echo "[size] the cargo-leptos starter app, built the same way" >&2
    (cd scripts/size-template \
      && CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/kauko/template-target" LEPTOS_OUTPUT_NAME=template \
        kauko_release_build >&2)
  fi
  report "The empty cargo-leptos starter app" scripts/size-template/target/site/pkg template
  awk -v k="$kauko_gz" -v t="$FIRST_GZ" 'BEGIN { printf "\nKauko / starter app (first load, gzipped): %.1fx\n", k / t }'
fi

if [ "$check" = 1 ]; then
  # shellcheck source=frontend-budget.env
  . scripts/frontend-budget.env
  budget=$((FRONTEND_BUDGET_GZ_KB * 1024))
  if [ "$kauko_gz" -gt "$budget" ]; then
    awk -v k="$kauko_gz" -v b="$FRONTEND_BUDGET_GZ_KB" 'BEGIN { printf "[size] OVER BUDGET: the first load is %.1f KB gzipped, the budget %d KB (scripts/frontend-budget.env)\n", k/1024, b }' >&2
    exit 1
  fi
  awk -v k="$kauko_gz" -v b="$FRONTEND_BUDGET_GZ_KB" 'BEGIN { printf "[size] within budget: %.1f KB of %d KB gzipped\n", k/1024, b }' >&2
fi
