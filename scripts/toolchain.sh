#!/usr/bin/env bash
# Installs what building and testing Kauko needs, idempotently, saying what it
# does. Source it (`. scripts/toolchain.sh`) so that the PATH it sets stays.
#
# Route (see README "Toolchain"): if the active rustc already has the
# wasm32-unknown-unknown standard library (a normal developer laptop with
# `rustup target add wasm32-unknown-unknown`), use it. Otherwise use Debian's
# rustc-web (1.96) and build the wasm32 std for it once from rust-web-src.
set -euo pipefail

KAUKO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
. "$KAUKO_ROOT/scripts/versions.env"
say() { printf '\033[1m[toolchain]\033[0m %s\n' "$*" >&2; }

has_wasm_std() { # $1 = rustc
  local sysroot
  sysroot="$("$1" --print sysroot 2>/dev/null)" || return 1
  compgen -G "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null
}

apt_install() { # installs the Debian packages named, only those missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

if command -v rustc >/dev/null && has_wasm_std "$(command -v rustc)"; then
  say "using $(rustc --version) with its wasm32 target"
else
  apt_install rustc-web cargo-web rust-web-src lld-22
  export PATH="/usr/bin:$PATH"
  if ! has_wasm_std /usr/bin/rustc; then
    say "building the wasm32 standard library for $(/usr/bin/rustc --version) (about 1 minute, once per machine)"
    scratch="$(mktemp -d)"
    mkdir -p "$scratch/src"
    printf '[package]\nname = "wasmstd"\nversion = "0.0.0"\nedition = "2021"\n[lib]\ncrate-type = ["cdylib"]\n' >"$scratch/Cargo.toml"
    : >"$scratch/src/lib.rs"
    (cd "$scratch" && RUSTC_BOOTSTRAP=1 /usr/bin/cargo build -q --release -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown)
    dest="$(/usr/bin/rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown/lib"
    mkdir -p "$dest"
    find "$scratch/target/wasm32-unknown-unknown/release/deps" -name 'lib*.rlib' ! -name 'libwasmstd*' -exec cp {} "$dest/" \;
    rm -rf "$scratch"
    has_wasm_std /usr/bin/rustc || { say "wasm32 std install failed"; exit 1; }
  fi
  say "using $(/usr/bin/rustc --version) (Debian rustc-web) with a locally built wasm32 std"
fi
export PATH="$HOME/.cargo/bin:$PATH"
# Debian's cargo first again when we chose it (the line above put rustup's first).
if ! has_wasm_std "$(command -v rustc)"; then export PATH="/usr/bin:$PATH"; fi

# Browser for end2end tests.
[ -x /usr/bin/chromium ] || apt_install chromium
# xmllint: the tests validate Finvoice invoices (server/tests/fees.rs) and
# every ISO 18626 message Kauko writes (server/tests/iso18626.rs) against
# their schemas.
command -v xmllint >/dev/null || apt_install libxml2-utils

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes, once per machine)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install -q cargo-leptos --version "=$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$KAUKO_ROOT/Cargo.lock" 2>/dev/null || true)"
if [ -n "$WASM_BINDGEN_VERSION" ] && ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes, once per machine)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi

# npm packages: wasm-opt (binaryen), the end2end runner and Lighthouse
# (scripts/bench-phone.sh) in end2end/, the
# development identity provider in dev/idp/, the loopback SMTP server in
# dev/smtp/.
npm_ci() { # $1 = folder with a package-lock.json
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    say "npm ci in ${1#"$KAUKO_ROOT"/}"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci "$KAUKO_ROOT/end2end"
npm_ci "$KAUKO_ROOT/dev/idp"
npm_ci "$KAUKO_ROOT/dev/smtp"
export PATH="$KAUKO_ROOT/end2end/node_modules/.bin:$PATH"

# Share compiled dependencies between clones of the project on this machine
# (CI clones afresh each run); override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kauko/target}"
mkdir -p "$CARGO_TARGET_DIR"
# The release build's content hashes, which cargo-leptos writes beside the
# server's executable and the server reads there (app::hydration::built_hash).
KAUKO_HASH_FILE="$CARGO_TARGET_DIR/release/hash.txt"
# cargo-leptos compiles the server with this set (Leptos reads it at compile
# time); set it for plain cargo too, so both reuse the same compiled crates.
export LEPTOS_OUTPUT_NAME=kauko
# The release build, for every script that makes one: Leptos's type-erased
# components (`--cfg erase_components`) for the server and the wasm alike
# (they must match, or hydration fails), which makes the release wasm about
# a quarter smaller; and split mode (`--split`): every lazy island's code
# (the staff pages and the lending form, app/src/hydration.rs) goes into
# chunks loaded when such a page is shown, so a patron's page does not
# carry them. Debug builds and `cargo test` keep their own flags and share
# compiled crates; a debug build for the browser needs `--split` too
# (`cargo leptos build --split`), or its lazy islands cannot load.
#
# The wasm alone is also compiled without panic locations
# (`-Zlocation-detail=none`: no file names and line numbers in the
# browser's code) and with `Debug` formatting compiled out
# (`-Zfmt-debug=none`): about 4 % of the gzipped wasm (issue 14). Nothing a
# page shows may come from `Debug` (a test in app::domain::status guards the
# one place that did). Both are rustc options not yet stable, allowed by
# RUSTC_BOOTSTRAP=1 for this build only; the server's flags stay as they
# were, so its logs keep their detail. Flags go per target
# (CARGO_TARGET_<triple>_RUSTFLAGS, which cargo-leptos reads too), so
# RUSTFLAGS itself must be unset while building.
#
# And the wasm's standard library is compiled with it, from the
# toolchain's source (`-Zbuild-std`; Debian's rust-web-src, or rustup's
# rust-src component), so the flags above and the wasm-release profile
# (opt-level "z", one LTO unit) reach std, core and alloc too, and a panic
# in the browser stops the wasm at once (`-Cpanic=immediate-abort`): no
# panic hook, no panic message formatting in the download. A panic there
# shows in the browser's console as "unreachable executed" with its stack
# (debug builds keep the message; `--cfg kauko_immediate_abort` leaves the
# then useless panic hook out, frontend/src/lib.rs). A toolchain without the source builds
# with its prebuilt std and the ordinary abort.
kauko_leptos_release() { # cargo leptos build --release "$@", with the flags above
  local host extra="${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components" wasm lib=()
  host="$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z.-' 'A-Z__')"
  wasm="$extra -Zlocation-detail=none -Zfmt-debug=none"
  if [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]; then
    wasm="$wasm -Zunstable-options -Cpanic=immediate-abort --cfg kauko_immediate_abort"
    lib=(--lib-cargo-args=-Zbuild-std) # cargo-leptos passes it to the wasm's build only
  fi
  env -u RUSTFLAGS RUSTC_BOOTSTRAP=1 \
    "CARGO_TARGET_${host}_RUSTFLAGS=$extra" \
    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=$wasm" \
    cargo leptos build --release "${lib[@]}" "$@"
}
# The patron's module (app/src/hydration.rs, `Module::Patron`): the front
# end once more, without the lazy islands (the lending forms and the staff
# pages: the `lazy-islands` feature; `patron-module` only stands in for
# it, as cargo-leptos replaces the configured lib-features with those
# given). Split mode moved the lazy islands' code into chunks but left
# their strings, tables and imports in the full module; this one has none
# of them, and patrons' pages load it. Built into a site folder of its own
# (cargo-leptos empties the one it builds into), then its js and wasm
# (content-hashed, so never the full module's names) go beside the full
# module's, and their hashes into hash.txt as `patron-js` and
# `patron-wasm`, where the server reads them.
kauko_patron_module() {
  local pkg="$KAUKO_ROOT/target/site/pkg" ppkg="$KAUKO_ROOT/target/site-patron/pkg"
  local phashes="${KAUKO_HASH_FILE%/*}/hash-patron.txt"
  local js wasm
  (cd "$KAUKO_ROOT" && LEPTOS_SITE_ROOT=target/site-patron LEPTOS_HASH_FILE_NAME=hash-patron.txt \
    kauko_leptos_release --frontend-only --lib-features patron-module) || return
  js="$(sed -n 's/^js: *//p' "$phashes")"
  wasm="$(sed -n 's/^wasm: *//p' "$phashes")"
  if [ -z "$js" ] || [ -z "$wasm" ] || [ ! -f "$ppkg/$LEPTOS_OUTPUT_NAME.$js.js" ] || [ ! -f "$ppkg/$LEPTOS_OUTPUT_NAME.$wasm.wasm" ]; then
    say "the patron's module was not built as expected ($phashes)"
    return 1
  fi
  cp "$ppkg/$LEPTOS_OUTPUT_NAME.$js.js" "$ppkg/$LEPTOS_OUTPUT_NAME.$wasm.wasm" "$pkg/"
  printf 'patron-js: %s\npatron-wasm: %s\n' "$js" "$wasm" >>"$KAUKO_HASH_FILE"
  rm -f "$phashes"
}
kauko_release_build() {
  kauko_leptos_release --split "$@" || return
  kauko_patron_module || return
  # wasm-bindgen's TypeScript declarations (kauko.d.<hash>.ts and the
  # like) are for TypeScript callers, never fetched by a browser: not
  # shipped.
  find "$KAUKO_ROOT/target/site/pkg" -maxdepth 1 -type f \( -name '*.d.ts' -o -name '*.d.*.ts' \) -delete
  # The chunk loader fetched only by pages with lazy islands (the script
  # says how).
  node "$KAUKO_ROOT/scripts/split-loader.mjs" "$KAUKO_ROOT/target/site/pkg" || return
  # The front end's files compressed once, at their best (brotli 11, gzip
  # 9), for the server to send as they are (scripts/precompress.mjs).
  node "$KAUKO_ROOT/scripts/precompress.mjs" "$KAUKO_ROOT/target/site/pkg" "$KAUKO_ROOT/target/site/pkg-precompressed"
}
set +euo pipefail
