#!/usr/bin/env bash
# Benchmark of the staff desk: 100,000 borrowing requests and 1,000,000
# history events on SQLite and PostgreSQL (when it answers); prints p50,
# p99 and max of the queue page's and a request page's calls. Not a test:
# a script that prints figures. BENCH_REQUESTS, BENCH_EVENTS_PER_REQUEST
# and BENCH_RUNS change the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kauko/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-kauko}"
export KAUKO_TEST_POSTGRES_URL="${KAUKO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
exec cargo bench -p server --bench desk --profile "${BENCH_PROFILE:-release}" "$@"
