// Compresses the front end's files once, at build time, so the server can
// send them as they are instead of compressing each answer on the fly
// (it does that at brotli level 5 to spare its CPU; a phone then downloads
// the wasm about a fifth larger than brotli's best). For every .wasm, .js,
// .css and .json file in the pkg folder whose name carries its content hash
// (cargo-leptos's `hash-files`: such a name never stands for other bytes,
// so a copy can never be stale): `<file>.br` (brotli, quality 11) and
// `<file>.gz` (gzip, level 9) in a folder of their own beside pkg (pkg keeps
// exactly what cargo-leptos built), each written through a temporary name
// so a server reading the folder never sees half a file. A copy that exists
// is kept (its name says its bytes); copies whose file is gone are removed.
// The server's /pkg service (server/src/web/assets.rs) sends the one the
// browser accepts, or pkg's file.
//   node scripts/precompress.mjs target/site/pkg target/site/pkg-precompressed
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";

const [dir, outDir] = process.argv.slice(2);
if (!dir || !outDir) {
  console.error("usage: node scripts/precompress.mjs <pkg folder> <output folder>");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
// The hash is a dot-separated part of 22 base64url characters, not all `_`
// (server/src/web/assets.rs, is_fingerprinted).
const fingerprinted = (name) =>
  name.split(".").some((p) => /^[A-Za-z0-9_-]{22}$/.test(p) && /[A-Za-z0-9]/.test(p));
const compressible = /\.(wasm|js|css|json)$/;
const names = readdirSync(dir).filter((n) => compressible.test(n) && fingerprinted(n));
const wanted = new Set(names.flatMap((n) => [`${n}.br`, `${n}.gz`]));
for (const name of readdirSync(outDir)) {
  if (!wanted.has(name)) unlinkSync(join(outDir, name));
}
let made = 0;
let kept = 0;
let before = 0;
let after = 0;
for (const name of names) {
  const data = readFileSync(join(dir, name));
  before += data.length;
  for (const [ext, compress] of [
    [".br", (b) => zlib.brotliCompressSync(b, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length,
      },
    })],
    [".gz", (b) => zlib.gzipSync(b, { level: 9 })],
  ]) {
    const target = join(outDir, name + ext);
    if (existsSync(target)) {
      kept++;
      if (ext === ".br") after += statSync(target).size;
      continue;
    }
    const out = compress(data);
    if (ext === ".br") after += out.length;
    writeFileSync(`${target}.tmp`, out);
    renameSync(`${target}.tmp`, target);
    made++;
  }
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.error(`[precompress] ${outDir}: ${made} made, ${kept} already current; ${kb(before)} -> ${kb(after)} as brotli`);
