#!/usr/bin/env bash
# Starts the Kauko that `cargo leptos build` built, for the end2end tests:
# a fresh SQLite database with demo data, on the port given, signing in at
# the development identity provider on the second port given, and asking
# the citation services' stand-in (end2end/upstream.mjs) on the third.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${1:-3137}"
idp_port="${2:-3938}"
upstream_port="${3:-3939}"
target="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kauko/target}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
cd "$data"
export KAUKO_SERVER_BIND="127.0.0.1:$port"
export KAUKO_SERVER_SITE_ROOT="$root/target/site"
export KAUKO_DEMO_SEED=true
export KAUKO_AUTH_ISSUER_URL="http://127.0.0.1:$idp_port"
export KAUKO_AUTH_CLIENT_SECRET=kauko-dev-secret
upstream="http://127.0.0.1:$upstream_port"
export KAUKO_CROSSREF_URL="$upstream/crossref" KAUKO_DATACITE_URL="$upstream/datacite"
export KAUKO_NCBI_URL="$upstream/ncbi" KAUKO_OPENLIBRARY_URL="$upstream/openlibrary"
export KAUKO_UNPAYWALL_URL="$upstream/unpaywall" KAUKO_LOOKUP_CONTACT_EMAIL="ill-e2e@example.fi"
export KAUKO_LIBRARY_NAME="${KAUKO_LIBRARY_NAME:-Helsinki University Library}"
"$target/debug/kauko" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -rf "$data"' EXIT TERM INT
wait $pid
