#!/usr/bin/env bash
# Builds the release front end and prints what a browser downloads: every
# file in target/site/pkg (wasm, js, css, the split chunks), raw, gzip -9
# and brotli (quality 11), and the first load of each page (the main
# module, the page's own chunks, its strings). Then the same for the empty
# cargo-leptos starter app (scripts/size-template), built the same way, so
# the ratio is visible.
#
#   scripts/frontend-size.sh            build both, print
#   scripts/frontend-size.sh --check    also fail when the largest first
#                                       load of a patron page (gzipped) is
#                                       over its budget
#                                       (scripts/frontend-budget.env)
#   --no-build                          measure what is built
#   --no-template                       skip the starter app
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
set -euo pipefail
build=1 check=0 template=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --check) check=1 ;;
    --no-template) template=0 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done

# What a browser downloads, measured by node (no extra tool): every file
# in a pkg folder, raw, gzip -9 and brotli 11; then the first load of each
# page: the main wasm + js + css (content-hashed names are read from
# hash.txt; a patron's page the patron's module, built without the lazy
# islands, scripts/toolchain.sh), with split builds the chunk loader (the main js imports it,
# or its stub, so every page with islands loads it; a page with a lazy
# island loads the full loader too) and the chunks the page preloads (from
# __wasm_split_manifest*.json, by its lazy island's name),
# and the page's strings (the largest language's catalogue, fetched beside
# the wasm). Prints "FIRST_GZ <bytes>": the largest first load of a patron
# page, gzipped.
report() { # $1 = label, $2 = pkg folder, $3 = output name, $4 = hash.txt, $5 = catalogues folder
  node - "$@" <<'NODE'
const fs = require("fs"), zlib = require("zlib"), path = require("path");
const [label, pkg, name, hashFile, locales] = process.argv.slice(2);
const sizes = (file) => {
  const b = fs.readFileSync(file);
  const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
  return { raw: b.length, gz: zlib.gzipSync(b, { level: 9 }).length, br: br.length };
};
const kb = (n) => (n / 1024).toFixed(1).padStart(8) + " KB";
const row = (n, s) => console.log(`${n.padEnd(40)} ${kb(s.raw)} ${kb(s.gz)} ${kb(s.br)}`);
const hashes = {};
if (hashFile && fs.existsSync(hashFile)) {
  for (const line of fs.readFileSync(hashFile, "utf8").split("\n")) {
    const [k, v] = line.split(":").map((x) => x && x.trim());
    if (k && v) hashes[k] = v;
  }
}
const named = (ext) => (hashes[ext] ? `${name}.${hashes[ext]}.${ext}` : `${name}.${ext}`);
console.log(`\n${label} (${pkg})`);
console.log(`${"file".padEnd(40)} ${"raw".padStart(11)} ${"gzip".padStart(11)} ${"brotli".padStart(11)}`);
const files = fs.readdirSync(pkg).filter((f) => fs.statSync(path.join(pkg, f)).isFile() && !/\.(br|gz)$|\.d(\.[^.]+)?\.ts$/.test(f)).sort();
const size = {};
// The split's shared chunks (chunk_N.wasm) and the lazy islands' own
// modules (split_….wasm) are summed in a line each.
let shared = { raw: 0, gz: 0, br: 0 }, sharedCount = 0;
let own = { raw: 0, gz: 0, br: 0 }, ownCount = 0;
for (const f of files) {
  size[f] = sizes(path.join(pkg, f));
  if (/^chunk_\d+\.(.*\.)?wasm$/.test(f)) {
    shared = { raw: shared.raw + size[f].raw, gz: shared.gz + size[f].gz, br: shared.br + size[f].br };
    sharedCount++;
  } else if (/^split_.*\.wasm$/.test(f)) {
    own = { raw: own.raw + size[f].raw, gz: own.gz + size[f].gz, br: own.br + size[f].br };
    ownCount++;
  } else row(f, size[f]);
}
if (ownCount) row(`lazy islands (${ownCount} split_….wasm)`, own);
if (sharedCount) row(`shared chunks (${sharedCount} chunk_N.wasm)`, shared);
const add = (a, b) => ({ raw: a.raw + b.raw, gz: a.gz + b.gz, br: a.br + b.br });
const zero = { raw: 0, gz: 0, br: 0 };
let base = [named("wasm"), named("js"), named("css")].filter((f) => size[f]).reduce((t, f) => add(t, size[f]), zero);
// The patron's module (hash.txt's patron-js and patron-wasm; app/src/
// hydration.rs, Module::Patron): what a patron's page loads instead of
// the full module, when the build made it. Not split, so no chunk loader.
const patronFiles = hashes["patron-wasm"] && hashes["patron-js"]
  ? [`${name}.${hashes["patron-wasm"]}.wasm`, `${name}.${hashes["patron-js"]}.js`, named("css")] : null;
const patronBase = patronFiles ? patronFiles.filter((f) => size[f]).reduce((t, f) => add(t, size[f]), zero) : null;
const manifestFile = files.find((f) => /^__wasm_split_manifest.*\.json$/.test(f));
// The chunk loader: the main js imports it, and after
// scripts/split-loader.mjs it is a stub that imports the full loader
// (`….full.js`) only on a page with a lazy island.
const loader = files.find((f) => /^__wasm_split\.[^.]+\.js$/.test(f));
const fullLoader = files.find((f) => /^__wasm_split\..*\.full\.js$/.test(f));
// A page with islands fetches the part of its language's strings that its
// islands show (app::i18n::Part: the request form's, the lending forms',
// or all of them on a staff page; the parts' key prefixes are in
// app/locales/parts.json). The largest language's counts.
const measure = (text) => {
  const b = Buffer.from(text);
  const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
  return { raw: b.length, gz: zlib.gzipSync(b, { level: 9 }).length, br: br.length };
};
const strings = { request: zero, lend: zero, all: zero };
if (locales) {
  const parts = JSON.parse(fs.readFileSync(path.join(locales, "parts.json"), "utf8"));
  for (const l of ["fi", "sv", "en"]) {
    const all = JSON.parse(fs.readFileSync(path.join(locales, `${l}.json`), "utf8"));
    for (const part of Object.keys(strings)) {
      const held = part === "all" ? all : Object.fromEntries(Object.entries(all).filter(([k]) => parts[part].some((p) => k.startsWith(p))));
      const s = measure(JSON.stringify(held));
      if (s.gz > strings[part].gz) strings[part] = s;
    }
  }
  row("strings of one language: request form", strings.request);
  row("strings of one language: lending forms", strings.lend);
  row("strings of one language: all (staff)", strings.all);
}
row(patronBase ? "first load: full module wasm + js + css" : "first load: wasm + js + css", base);
if (patronBase) {
  console.log(`  (patron's module: ${patronFiles.slice(0, 2).join(", ")})`);
  row("first load: patron module wasm + js + css", patronBase);
}
if (!manifestFile) {
  const first = add(base, strings.request);
  row("first load with the strings", first);
  console.log(`FIRST_GZ ${first.gz}`);
  process.exit(0);
}
const manifest = JSON.parse(fs.readFileSync(path.join(pkg, manifestFile), "utf8"));
// [page, its lazy island (none: only the main module), its strings
// (app::i18n::Part), counted against the patron budget]
const pages = [
  // The request form is the patron pages' one island, in the main module
  // (app/src/hydration.rs); a page without islands (the home page, My
  // requests and a request's page) loads only the css.
  ["patron request form (/request)", null, "request", true],
  // The lending form is for partner libraries' staff: split off, its own line.
  ["/lend (libraries)", "LendPage", "lend", false], ["/lend/:code (libraries)", "LendPartnerPage", "lend", false],
  ["/staff/borrowing (staff)", "BorrowingQueuePage", "all", false], ["/staff/borrowing/:id (staff)", "BorrowingRequestPage", "all", false],
  ["/staff/partners/import (staff)", "StaffImportPage", "all", false], ["/staff/fees (staff)", "FeesPage", "all", false],
];
const loaderSize = loader ? size[loader] : zero;
const fullLoaderSize = fullLoader ? size[fullLoader] : zero;
console.log(`\nfirst load of each page (main wasm + js + css + chunk loader + the page's chunks + strings)`);
console.log(`${"page".padEnd(40)} ${"raw".padStart(11)} ${"gzip".padStart(11)} ${"brotli".padStart(11)}`);
row("pages without islands (/, /my, /my/:id)", size[named("css")] || zero);
let worst = 0;
for (const [page, route, part, patron] of pages) {
  // A lazy island's split point is `{island in snake case}_loader_{hash}`:
  // its own module (`split_{key}.….wasm`) and the shared chunks the
  // manifest lists for it.
  const snake = route && route.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  const keys = route ? Object.keys(manifest).filter((k) => k.replace(/^_+/, "").startsWith(`${snake}_loader_`)) : [];
  const own = keys.flatMap((k) => files.filter((f) => f.startsWith(`split_${k}.`) && f.endsWith(".wasm")).map((f) => f.slice(0, -5)));
  const chunks = [...new Set([...own, ...keys.flatMap((k) => manifest[k])])];
  // A patron's page loads the patron's module when there is one (no
  // chunk loader). Otherwise the full module's js imports the chunk
  // loader (or its stub), so every page with islands loads it; a lazy
  // island's page the full one too.
  let total = patron && patronBase ? add(patronBase, strings[part]) : add(add(base, strings[part]), loaderSize);
  if (route) total = add(total, fullLoaderSize);
  for (const c of chunks) total = add(total, size[`${c}.wasm`] || sizes(path.join(pkg, `${c}.wasm`)));
  row(page, total);
  if (route && keys.length === 0) console.log(`  (no chunk found for ${route}: is it a lazy island?)`);
  if (patron && total.gz > worst) worst = total.gz;
}
console.log(`FIRST_GZ ${worst}`);
NODE
}

if [ "$build" = 1 ]; then
  echo "[size] cargo leptos build --release --split" >&2
  kauko_release_build >&2
fi
out="$(report "Kauko" target/site/pkg kauko "$KAUKO_HASH_FILE" app/locales)"
printf '%s\n' "$out" | grep -v '^FIRST_GZ'
kauko_gz="$(printf '%s\n' "$out" | sed -n 's/^FIRST_GZ //p')"

if [ "$template" = 1 ]; then
  # Its own target folder, so Kauko's compiled crates are not disturbed.
  template_target="${XDG_CACHE_HOME:-$HOME/.cache}/kauko/template-target"
  if [ "$build" = 1 ] || [ ! -d scripts/size-template/target/site/pkg ]; then
    echo "[size] the cargo-leptos starter app, built the same way" >&2
    (cd scripts/size-template \
      && CARGO_TARGET_DIR="$template_target" LEPTOS_OUTPUT_NAME=template kauko_leptos_release >&2)
  fi
  out="$(report "The empty cargo-leptos starter app" scripts/size-template/target/site/pkg template "$template_target/release/hash.txt" "")"
  printf '%s\n' "$out" | grep -v '^FIRST_GZ'
  template_gz="$(printf '%s\n' "$out" | sed -n 's/^FIRST_GZ //p')"
  awk -v k="$kauko_gz" -v t="$template_gz" 'BEGIN { printf "\nKauko / starter app (largest first load of a patron page, gzipped): %.1fx\n", k / t }'
fi

if [ "$check" = 1 ]; then
  # shellcheck source=frontend-budget.env
  . scripts/frontend-budget.env
  budget=$((FRONTEND_BUDGET_GZ_KB * 1024))
  if [ "$kauko_gz" -gt "$budget" ]; then
    awk -v k="$kauko_gz" -v b="$FRONTEND_BUDGET_GZ_KB" 'BEGIN { printf "[size] OVER BUDGET: the first load is %.1f KB gzipped, the budget %d KB (scripts/frontend-budget.env)\n", k/1024, b }' >&2
    exit 1
  fi
  awk -v k="$kauko_gz" -v b="$FRONTEND_BUDGET_GZ_KB" 'BEGIN { printf "[size] within budget: %.1f KB of %d KB gzipped\n", k/1024, b }' >&2
fi
