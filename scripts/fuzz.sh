#!/usr/bin/env bash
# Fuzzes the parsers that take outside input (OpenURL, identifiers, Alma's
# JSON and XML envelopes, the legacy CSV and Alma users imports, ISO 18626 messages, the
# citation services' JSON) for KAUKO_FUZZ_SECONDS each (default 600), with
# the mutational fuzzer in server/benches/fuzz.rs. Not part of CI: a
# benchmark-style run that prints executions and crashes per target.
# Crashing inputs land in server/tests/fuzz_found/<target>/, which
# `cargo test` replays (tests/fuzz_regressions.rs): fix, then commit them.
# KAUKO_FUZZ_TARGETS=openurl,identifiers limits the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
export KAUKO_TEST_FIXTURES="${KAUKO_TEST_FIXTURES:-$(cd ../shared/fixtures 2>/dev/null && pwd || true)}"
# The dev profile: it shares the test build, and its overflow and debug
# checks turn more mistakes into findings.
cargo bench -p server --bench fuzz --profile dev
