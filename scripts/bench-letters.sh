#!/usr/bin/env bash
# Benchmark of the letters: rendering throughput (letters per second) and
# the staff page's preview latency p50/p99 for a letter with a long
# citation, on SQLite and PostgreSQL (when it answers). Not a test: a script
# that prints figures. BENCH_RENDERS and BENCH_RUNS change the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kauko/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-kauko}"
export KAUKO_TEST_POSTGRES_URL="${KAUKO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
exec cargo bench -p server --bench letters --profile "${BENCH_PROFILE:-release}" "$@"
