#!/usr/bin/env bash
# Benchmark of the partner import: a dry run of the generated 603-library
# set, timed over several runs (BENCH_RUNS, default 15); prints min and
# median. Uses the same toolchain set-up and target directory as the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kauko/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-kauko}"
exec cargo bench -p server --bench partners_import "$@"
