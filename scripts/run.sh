#!/usr/bin/env bash
# Runs Kauko on the embedded default (SQLite under ./data, the local
# backend, demo data) at http://127.0.0.1:3000. Installs what is missing
# first (see scripts/toolchain.sh). Extra arguments go to `kauko`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail

echo "[run] building Kauko (release)" >&2
kauko_release_build
# Demo data goes into Kauko's own database; on Alma it comes from Alma
# (for the simulator: kauko alma-sim --demo).
if [ "${KAUKO_BACKEND_KIND:-local}" = local ]; then
  export KAUKO_DEMO_SEED="${KAUKO_DEMO_SEED:-true}"
else
  export KAUKO_DEMO_SEED="${KAUKO_DEMO_SEED:-false}"
fi
# A demo library name, unless kauko.toml or the environment names one.
if [ -z "${KAUKO_LIBRARY_NAME:-}" ] && ! grep -qs '^name' kauko.toml; then
  export KAUKO_LIBRARY_NAME="Demo University Library"
fi
export KAUKO_SERVER_SITE_ROOT="${KAUKO_SERVER_SITE_ROOT:-target/site}"

# Sign-in: unless an identity provider is configured, start the development
# one (dev/idp, demo accounts aino/aino, bertil/bertil, staff/staff, staff2/staff2).
if [ -z "${KAUKO_AUTH_ISSUER_URL:-}" ] && ! grep -qs '^issuer_url' kauko.toml; then
  idp_port="${IDP_PORT:-3900}"
  kauko_url="${KAUKO_SERVER_PUBLIC_URL:-http://${KAUKO_SERVER_BIND:-127.0.0.1:3000}}"
  mkdir -p data
  echo "[run] starting the development identity provider on http://127.0.0.1:$idp_port" >&2
  IDP_PORT="$idp_port" IDP_KEY_FILE="$PWD/data/idp-key.json" \
    KAUKO_IDP_REDIRECT_URIS="$kauko_url/auth/callback" KAUKO_IDP_POST_LOGOUT_URIS="$kauko_url/" \
    node dev/idp/server.mjs >&2 &
  idp_pid=$!
  trap 'kill $idp_pid 2>/dev/null' EXIT INT TERM
  export KAUKO_AUTH_ISSUER_URL="http://127.0.0.1:$idp_port"
  export KAUKO_AUTH_CLIENT_SECRET="${KAUKO_AUTH_CLIENT_SECRET:-kauko-dev-secret}"
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$idp_port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
fi
# Citation lookup: when the real services (Crossref and the others) cannot
# be reached from this machine and the recorded payloads in ../shared are
# here, answer from them (end2end/upstream.mjs) so autofill can be tried.
pids=""
if [ -z "${KAUKO_CROSSREF_URL:-}" ] && [ -d ../shared/fixtures ] \
  && ! curl -fs -m 3 -o /dev/null "https://api.crossref.org/works?rows=0" 2>/dev/null; then
  up_port="${UPSTREAM_PORT:-3939}"
  echo "[run] Crossref is out of reach: answering lookups from the recorded payloads in ../shared/fixtures (port $up_port)" >&2
  UPSTREAM_PORT="$up_port" node end2end/upstream.mjs >&2 &
  pids="$pids $!"
  up="http://127.0.0.1:$up_port"
  export KAUKO_CROSSREF_URL="$up/crossref" KAUKO_DATACITE_URL="$up/datacite" KAUKO_NCBI_URL="$up/ncbi"
  export KAUKO_OPENLIBRARY_URL="$up/openlibrary" KAUKO_UNPAYWALL_URL="$up/unpaywall"
  export KAUKO_LOOKUP_CONTACT_EMAIL="${KAUKO_LOOKUP_CONTACT_EMAIL:-ill-demo@example.fi}"
fi
[ -n "${idp_pid:-}" ] && pids="$pids $idp_pid"
[ -n "$pids" ] && trap 'kill $pids 2>/dev/null' EXIT INT TERM
"$CARGO_TARGET_DIR/release/kauko" "$@"
