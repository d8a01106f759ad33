#!/usr/bin/env bash
# Benchmark of the Alma path: KAUKO_BENCH_PATRONS (default 20) patrons load
# My requests at once, KAUKO_BENCH_ROUNDS (default 3) times, from a Kauko on
# the Alma adapter against the Alma API simulator on loopback. Prints calls
# per second to Alma against the threshold, page latency p50/p99 and the
# cache hit rate. Not a timed test; installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
exec cargo bench -p server --bench alma_my_requests "$@"
