#!/usr/bin/env bash
# Citation lookup latency through Kauko's HTTP API (GET /api/v1/citation)
# against a loopback fake of Crossref and Unpaywall, uncached and cached:
# prints p50, p99 and counts. KAUKO_BENCH_LOOKUPS sets the lookups per pass
# (default 500). Not a timed test; installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
exec cargo bench -p server --bench lookup "$@"
