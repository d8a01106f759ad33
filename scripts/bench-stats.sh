#!/usr/bin/env bash
# Benchmark of the statistics page: a year with 200,000 history events
# (and the year before, as large) on SQLite and PostgreSQL (when it
# answers); prints p50, p99 and max of the page's call. Not a test: a
# script that prints figures. BENCH_REQUESTS_PER_YEAR and BENCH_RUNS change
# the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kauko/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-kauko}"
export KAUKO_TEST_POSTGRES_URL="${KAUKO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
exec cargo bench -p server --bench stats --profile "${BENCH_PROFILE:-release}" "$@"
