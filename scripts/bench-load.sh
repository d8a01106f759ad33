#!/usr/bin/env bash
# Load on loopback: Kauko (release build, embedded default, demo data) on a
# free port, driven by wrk with 200 concurrent connections: the home page,
# the lending form, a server function (the lending form's partner look-up,
# POST /api/lend/partner) and, for comparison, a static file served by the
# same server. Prints requests per second, p50 and p99 latency and the
# count of non-2xx answers (and socket errors) per target, then the panics
# Kauko logged. Bounded in time: KAUKO_LOAD_SECONDS per
# target (15, so 60 s in all), KAUKO_LOAD_CONNECTIONS (200).
#   scripts/bench-load.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
seconds="${KAUKO_LOAD_SECONDS:-15}"
connections="${KAUKO_LOAD_CONNECTIONS:-200}"
if ! command -v wrk >/dev/null; then
  echo "[load] apt-get install wrk" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get install -y -qq wrk >/dev/null
fi
if [ "${1:-}" != "--no-build" ]; then
  echo "[load] cargo leptos build --release" >&2
  kauko_release_build >&2
fi
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
KAUKO_SERVER_BIND="127.0.0.1:$port" KAUKO_SERVER_PUBLIC_URL="$base" \
  KAUKO_DATABASE_URL="sqlite://$work/kauko.db" KAUKO_SERVER_SITE_ROOT=target/site \
  KAUKO_DEMO_SEED=true KAUKO_LOG=warn \
  "$CARGO_TARGET_DIR/release/kauko" >"$work/kauko.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "code=FI-TUNI"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$base"
LUA

printf '%-34s %10s %10s %10s %9s %8s\n' target req/s p50 p99 non-2xx errors
run() { # $1 = label, $2 = path, $3... = extra wrk arguments
  local label="$1" path="$2"; shift 2
  local out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$base$path" 2>&1)
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
  printf '%-34s %10s %10s %10s %9s %8s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}" "${errors:-0}"
}
run "home page  GET /" "/"
run "lending form  GET /lend" "/lend"
run "server function  POST lend/partner" "/api/lend/partner" -s "$work/post.lua"
run "static file  GET /favicon.svg" "/favicon.svg"
echo
echo "panics logged: $(grep -c 'panicked' "$work/kauko.log" || true)"
grep -m3 'panicked' "$work/kauko.log" || true
