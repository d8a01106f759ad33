#!/usr/bin/env bash
# Starts the Kauko that `cargo leptos build` built (KAUKO_E2E_PROFILE=release:
# the release build, `kauko_release_build`), for the end2end tests:
# a fresh SQLite database with demo data, on the port given, signing in at
# the development identity provider on the second port given, and asking
# the citation services' stand-in (end2end/upstream.mjs) on the third.
# With a fourth argument, a port, it runs against Alma instead: it starts
# the Alma API simulator (`kauko alma-sim --demo`) on that port and points
# Kauko's Alma adapter at it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${1:-3137}"
idp_port="${2:-3938}"
upstream_port="${3:-3939}"
alma_port="${4:-}"
target="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kauko/target}"
kauko="$target/${KAUKO_E2E_PROFILE:-debug}/kauko"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
cd "$data"
export KAUKO_SERVER_BIND="127.0.0.1:$port"
export KAUKO_SERVER_SITE_ROOT="$root/target/site"
export KAUKO_DEMO_SEED=true
# Every browser here is 127.0.0.1: the lending form's per-address limit
# (tested over HTTP in server/tests/lend.rs) is raised so parallel tests
# are not counted as one library.
export KAUKO_LENDING_MAX_REQUESTS_PER_MINUTE=1000
sim_pid=
if [ -n "$alma_port" ]; then
  "$kauko" alma-sim --port "$alma_port" --api-key e2e-key --demo &
  sim_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$alma_port/sim/stats" >/dev/null 2>&1 && break
    sleep 0.1
  done
  export KAUKO_DEMO_SEED=false KAUKO_BACKEND_KIND=alma KAUKO_ALMA_URL="http://127.0.0.1:$alma_port"
  export KAUKO_ALMA_API_KEY=e2e-key KAUKO_ALMA_RS_LIBRARY=RES_SHARE
  # A failed delivery waits a minute before its next automatic try, so the
  # test of staff's "Retry now" (alma.spec.ts) is not raced by the worker.
  export KAUKO_OUTBOX_FIRST_BACKOFF_MILLISECONDS=60000
  # Every look at My requests finds the mirror stale and asks Alma again
  # (alma.spec.ts watches a change made in Alma arrive without a reload).
  export KAUKO_ALMA_MIRROR_STALE_SECONDS=0
fi
export KAUKO_AUTH_ISSUER_URL="http://127.0.0.1:$idp_port"
export KAUKO_AUTH_CLIENT_SECRET=kauko-dev-secret
upstream="http://127.0.0.1:$upstream_port"
export KAUKO_CROSSREF_URL="$upstream/crossref" KAUKO_DATACITE_URL="$upstream/datacite"
export KAUKO_NCBI_URL="$upstream/ncbi" KAUKO_OPENLIBRARY_URL="$upstream/openlibrary"
export KAUKO_UNPAYWALL_URL="$upstream/unpaywall" KAUKO_LOOKUP_CONTACT_EMAIL="ill-e2e@example.fi"
# Every end2end test is one client (127.0.0.1): lift the per-client limits
# (server/tests cover them).
export KAUKO_LOOKUP_MAX_LOOKUPS_PER_MINUTE=100000
# Kauko inside Primo: the stand-in Primo pages and their institution's JWKS
# (end2end/primo-harness.mjs) on KAUKO_E2E_PRIMO_PORT.
primo="http://127.0.0.1:${KAUKO_E2E_PRIMO_PORT:-3941}"
export KAUKO_PRIMO_INSTITUTION=KAUKO_E2E KAUKO_PRIMO_ISSUER=Prima
export KAUKO_PRIMO_JWKS_URL="$primo/auth/KAUKO_E2E/jwks.json"
export KAUKO_PRIMO_ALLOWED_ORIGINS="[\"$primo\"]"
export KAUKO_LIBRARY_NAME="${KAUKO_LIBRARY_NAME:-Helsinki University Library}"
"$kauko" &
pid=$!
trap 'kill -TERM $pid $sim_pid 2>/dev/null; wait $pid; rm -rf "$data"' EXIT TERM INT
wait $pid
