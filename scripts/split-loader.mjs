// Makes the chunk loader of a split release build lazy (issue 14).
//
//   node scripts/split-loader.mjs target/site/pkg
//
// cargo-leptos's split mode writes the chunk loader `__wasm_split.<hash>.js`
// (about 70 KB, 6 KB gzipped: one fetcher per chunk and the names of every
// export the chunks share with the main module), and the main module's js
// imports it, so every page with an island downloaded it, although only a
// page with a lazy island (the staff pages, the lending forms) ever calls
// it. This moves the loader to `__wasm_split.<hash>.full.js` (the same
// folder, so its relative URLs still hold) and leaves in its place a stub
// with the same exports, each of which imports the full loader the first
// time it is called and hands the call on. The main module still finds
// every function it imports; the request form's page no longer downloads
// the loader. Pages with lazy islands preload the full loader
// (app/src/hydration.rs), so they lose no round trip.
//
// The stub keeps the loader's content-hashed name, and the full loader is
// named after that hash too: the same build gives the same files. Run once
// per build, after cargo-leptos and before precompress.mjs; running it
// again changes nothing.
import fs from "node:fs";
import path from "node:path";

const MARK = "// Kauko: the chunk loader's stub (scripts/split-loader.mjs)";
const pkg = process.argv[2];
if (!pkg) {
  console.error("usage: node scripts/split-loader.mjs <pkg folder>");
  process.exit(2);
}
const loader = fs.readdirSync(pkg).find((f) => /^__wasm_split\.[A-Za-z0-9_-]{22}\.js$/.test(f));
if (!loader) {
  console.error("[split-loader] no chunk loader (not a split build): nothing to do");
  process.exit(0);
}
const file = path.join(pkg, loader);
const text = fs.readFileSync(file, "utf8");
if (text.startsWith(MARK)) process.exit(0);
const names = [...text.matchAll(/^export const ([A-Za-z0-9_$]+) = /gm)].map((m) => m[1]);
if (names.length === 0) {
  console.error(`[split-loader] ${loader} exports nothing this script knows: left as it is`);
  process.exit(1);
}
const full = loader.replace(/\.js$/, ".full.js");
fs.writeFileSync(path.join(pkg, full), text);
const stub = [
  MARK,
  "let full;",
  // A failed import (a dropped connection) is not kept: the next call tries again.
  `const loaded = () => (full ??= import("./${full}").catch((e) => { full = undefined; throw e; }));`,
  "const later = (name) => (...args) => loaded().then((m) => m[name](...args));",
  ...names.map((n) => `export const ${n} = later("${n}");`),
  "",
].join("\n");
fs.writeFileSync(file, stub);
console.error(`[split-loader] ${loader}: ${names.length} loaders, ${text.length} → ${stub.length} bytes (the rest in ${full})`);
