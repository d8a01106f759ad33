// Kauko inside Primo, measured in Debian's Chromium (scripts/bench-primo.sh):
// the widget files' sizes as Kauko sends them (gzip) and gzip -9, and, on
// the stand-in Primo pages (primo-harness.mjs), the time from the host's
// hook firing (the shim's performance mark "kauko-hook-status") to the
// status widget's first paint (its heading and "Loading…":
// "kauko-status-paint") and to its list shown ("kauko-status-rendered",
// and the next animation frame, "kauko-status-painted"). Kauko warm: the
// first runs are not counted; the browser keeps the bundle (max-age).
//   node perf/primo.mjs <kauko-url> <harness-url> [runs]
import { chromium } from "@playwright/test";
import { gzipSync } from "node:zlib";
import { get } from "node:http";

/** The bytes Kauko sends for a URL when the browser accepts gzip. */
const sentBytes = (url) => new Promise((resolve, reject) => {
  get(url, { headers: { "accept-encoding": "gzip" } }, (res) => {
    let n = 0;
    res.on("data", (c) => { n += c.length; });
    res.on("end", () => resolve([n, res.headers["content-encoding"] ?? "identity"]));
  }).on("error", reject);
});

const [kauko, harness, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 50);
const warmup = 5;

let total = 0, total9 = 0;
for (const file of ["kauko-primo.js", "kauko-primo-classic.js", "kauko-primo-nde.js"]) {
  const raw = Buffer.from(await (await fetch(`${kauko}/widgets/${file}`)).arrayBuffer());
  const [wire, encoding] = await sentBytes(`${kauko}/widgets/${file}`);
  const gz9 = gzipSync(raw, { level: 9 }).length;
  total9 += gz9;
  total += wire;
  console.log(`${file.padEnd(24)} ${String(raw.length).padStart(6)} B raw  ${String(wire).padStart(6)} B as Kauko sends it (${encoding})  ${String(gz9).padStart(6)} B gzip -9`);
}
console.log(`widgets together: ${(total / 1024).toFixed(1)} KB as sent, ${(total9 / 1024).toFixed(1)} KB gzip -9 (budget 20 KB)`);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const browser = await chromium.launch({
  executablePath: process.env.KAUKO_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const context = await browser.newContext();
for (const [name, path] of [["classic VE", "classic.html"], ["NDE", "nde.html"]]) {
  const first = [], shown = [], painted = [];
  for (let i = 0; i < runs + warmup; i++) {
    const page = await context.newPage();
    await page.goto(`${harness}/${path}?lang=fi&user=aino.virtanen`);
    await page.waitForFunction(() => performance.getEntriesByName("kauko-status-painted").length > 0, null, { timeout: 10_000 });
    const m = await page.evaluate(() => {
      const at = (n) => performance.getEntriesByName(n)[0].startTime;
      const hook = at("kauko-hook-status");
      return [at("kauko-status-paint") - hook, at("kauko-status-rendered") - hook, at("kauko-status-painted") - hook];
    });
    await page.close();
    if (i < warmup) continue;
    first.push(m[0]); shown.push(m[1]); painted.push(m[2]);
  }
  const f = (xs) => `p50 ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms`;
  console.log(`${name} (${runs} runs): hook → first paint ${f(first)}; hook → list shown ${f(shown)}; → next frame ${f(painted)}`);
}
await browser.close();
