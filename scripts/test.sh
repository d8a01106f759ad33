#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (SQLite and PostgreSQL),
# then the end2end tests in Debian's Chromium against a built Kauko.
# Installs what is missing first (see scripts/toolchain.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail

# The real recorded payloads the tests read (shared/fixtures): beside this
# checkout, or, for a clone made elsewhere (e.g. /tmp), beside the
# repository it was cloned from; KAUKO_TEST_FIXTURES overrides both.
if [ -z "${KAUKO_TEST_FIXTURES:-}" ]; then
  origin="$(git config --get remote.origin.url 2>/dev/null || true)"
  origin="${origin#file://}"
  for dir in "$PWD/../shared/fixtures" "${origin:+$origin/../shared/fixtures}"; do
    if [ -n "$dir" ] && [ -d "$dir" ]; then
      KAUKO_TEST_FIXTURES="$(cd "$dir" && pwd)"
      break
    fi
  done
fi
if [ -z "${KAUKO_TEST_FIXTURES:-}" ] || [ ! -d "$KAUKO_TEST_FIXTURES/alma" ]; then
  echo "[test] the shared fixtures (shared/fixtures) are not beside this checkout" \
    "or its origin; clone Kauko beside shared/ or set KAUKO_TEST_FIXTURES=/path/to/shared/fixtures" >&2
  exit 2
fi
export KAUKO_TEST_FIXTURES
echo "[test] real payloads from $KAUKO_TEST_FIXTURES" >&2

# PostgreSQL for the multi-instance storage tests: this kind of machine
# starts it; make sure it is up (and start it if it is installed but down).
pg_url="${KAUKO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "[test] starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
if command -v psql >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  # Drop schemas earlier test runs left behind.
  psql "$pg_url" -Atqc "select 'drop schema ' || quote_ident(schema_name) || ' cascade;' from information_schema.schemata where schema_name like 'kauko\_test\_%'" \
    | psql "$pg_url" -q >/dev/null 2>&1 || true
fi
export KAUKO_TEST_POSTGRES_URL="$pg_url"
# This kind of machine has PostgreSQL: a PostgreSQL test that cannot reach
# it fails instead of skipping (KAUKO_TEST_REQUIRE_POSTGRES=0 to run without
# it; those tests are then reported as skipped). Likewise the fixtures,
# found above.
export KAUKO_TEST_REQUIRE_POSTGRES="${KAUKO_TEST_REQUIRE_POSTGRES:-1}"
export KAUKO_TEST_REQUIRE_FIXTURES=1
if [ "$KAUKO_TEST_REQUIRE_POSTGRES" = 1 ] && command -v psql >/dev/null \
  && ! psql "$pg_url" -Atqc 'select 1' >/dev/null 2>&1; then
  echo "[test] PostgreSQL is expected at $pg_url but does not answer; start it," \
    "or set KAUKO_TEST_REQUIRE_POSTGRES=0 to skip its tests (reported as skipped)" >&2
  exit 2
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# Tests that could not check what they name (a missing service or
# fixture) write a line here; the closing line counts them as skipped.
export KAUKO_TEST_SKIP_LOG="$logs/skipped.log"
: >"$KAUKO_TEST_SKIP_LOG"

echo "[test] cargo test (app, server)" >&2
cargo test -p app -p server 2>&1 | tee "$logs/cargo.log"

# The release build (split into chunks, as users get it): measured against
# the front end's budget (scripts/frontend-budget.env; over budget fails
# the run), then tested end to end.
echo "[test] building the release app (cargo leptos build --release --split)" >&2
kauko_release_build
echo "[test] front-end size budget" >&2
scripts/frontend-size.sh --check --no-build --no-template 2>&1 | tee "$logs/size.log"
echo "[test] end2end in Chromium (release build)" >&2
(cd end2end && KAUKO_E2E_PROFILE=release npx playwright test) 2>&1 | tee "$logs/e2e.log"

# One closing line for the whole run.
rust=$(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$logs/cargo.log" |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
e2e=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/e2e.log" | sed -n 's/^ *\([0-9]*\) passed.*/\1/p' | tail -1)
e2e_skipped=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/e2e.log" | sed -n 's/^ *\([0-9]*\) skipped.*/\1/p' | tail -1)
read -r rust_passed rust_failed <<<"$rust"
# A skipped Rust test returned early and cargo counted it as passed.
rust_skipped=$(sed 's/: .*//' "$KAUKO_TEST_SKIP_LOG" | sort -u | wc -l)
if [ "$rust_skipped" -gt 0 ]; then
  echo "[test] skipped (did not check what they name):" >&2
  sed 's/^/  /' "$KAUKO_TEST_SKIP_LOG" >&2
fi
skipped=$((rust_skipped + ${e2e_skipped:-0}))
echo "rust: $((rust_passed - rust_skipped)) passed, $rust_skipped skipped; end2end: ${e2e:-0} passed, ${e2e_skipped:-0} skipped"
echo "$((rust_passed - rust_skipped + ${e2e:-0})) passed, $rust_failed failed, $skipped skipped"
