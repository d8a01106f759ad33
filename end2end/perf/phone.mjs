// Time to interactive on a phone: Debian's Chromium through Playwright, a
// Pixel 7 viewport, the network shaped by CDP (Network.emulateNetworkConditions)
// and the CPU slowed 4x (as Lighthouse's mobile profile does). For each page
// and network, cold (empty cache) and warm (the same browser again): the
// moment DOMContentLoaded fired and the moment the WebAssembly front end
// finished hydrating (<html data-hydrated="true">), in ms from navigation;
// and for the cold load, the bytes that came over the network (all
// responses, as sent: compressed where the server compressed) and the
// encoding the wasm came in (Chromium asks for brotli on loopback as well
// as over HTTPS, so the server sends its brotli copy here too).
// Then Lighthouse's mobile performance score for the same pages
// (perf/lighthouse.mjs).
// Usage: node perf/phone.mjs <base-url> <debugging-port> [user]
//   (signs in at the dev IdP; Chromium's debugging port, a free one, is
//   where Lighthouse drives the same browser)
import { chromium, devices } from "@playwright/test";
import { lighthouseScores } from "./lighthouse.mjs";

const base = process.argv[2];
const debuggingPort = Number(process.argv[3]);
const user = process.argv[4] ?? "aino";
const networks = {
  // Chrome DevTools / Lighthouse "Fast 3G": 1.6 Mbit/s down, 750 kbit/s up, 150 ms.
  "Fast 3G": { latency: 150, downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9 },
  // "4G": 9 Mbit/s down, 1.5 Mbit/s up, 60 ms.
  "4G": { latency: 60, downloadThroughput: 9e6 / 8, uploadThroughput: 1.5e6 / 8 },
};
const pages = [
  ["home", "/?lang=en"],
  ["request form", "/request?lang=en"],
  ["My requests", "/my?lang=en"],
];

const browser = await chromium.launch({
  executablePath: process.env.KAUKO_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    `--remote-debugging-port=${debuggingPort}`],
});

async function signedInContext() {
  const context = await browser.newContext({ ...devices["Pixel 7"] });
  const page = await context.newPage();
  await page.goto(`${base}/my?lang=en`);
  await page.getByLabel(/username/i).fill(user);
  await page.getByLabel(/password/i).fill(user);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL(/\/my\?lang=en$/);
  const cookies = await context.cookies();
  await context.close();
  return cookies;
}

/** Counts what the network delivers to a page until `stop()`. */
function countBytes(cdp) {
  let bytes = 0;
  let wasm = "none";
  const onResponse = (e) => {
    if (e.response.mimeType === "application/wasm") {
      const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      wasm = h["content-encoding"] ?? "identity";
    }
  };
  const onFinished = (e) => { bytes += e.encodedDataLength; };
  cdp.on("Network.responseReceived", onResponse);
  cdp.on("Network.loadingFinished", onFinished);
  return () => {
    cdp.off("Network.responseReceived", onResponse);
    cdp.off("Network.loadingFinished", onFinished);
    return { bytes, wasm };
  };
}

async function measure(page, path) {
  await page.goto(`${base}${path}`, { waitUntil: "commit" });
  await page.waitForSelector("html[data-hydrated='true']", { timeout: 120_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { dcl: Math.round(nav.domContentLoadedEventEnd), hydrated: Math.round(performance.now()) };
  });
}

const cookies = await signedInContext();
const rows = [];
for (const [network, conditions] of Object.entries(networks)) {
  for (const [name, path] of pages) {
    const context = await browser.newContext({ ...devices["Pixel 7"] });
    await context.addCookies(cookies);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, ...conditions });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    const stop = countBytes(cdp);
    const cold = await measure(page, path);
    const { bytes, wasm } = stop();
    const warm = await measure(page, path);
    rows.push({ network, page: name, cold, warm, bytes, wasm });
    await context.close();
  }
}

const pad = (s, n) => String(s).padEnd(n);
const ms = (n) => `${(n / 1000).toFixed(2)} s`;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`${pad("network", 9)}${pad("page", 14)}${pad("cold DCL", 10)}${pad("cold hydrated", 15)}${pad("warm DCL", 10)}${pad("warm hydrated", 15)}${pad("cold bytes", 12)}wasm sent as`);
for (const r of rows) {
  console.log(`${pad(r.network, 9)}${pad(r.page, 14)}${pad(ms(r.cold.dcl), 10)}${pad(ms(r.cold.hydrated), 15)}${pad(ms(r.warm.dcl), 10)}${pad(ms(r.warm.hydrated), 15)}${pad(kb(r.bytes), 12)}${r.wasm}`);
}

console.log("\nLighthouse (mobile: 4x slower CPU, simulated slow 4G of 1.6 Mbit/s and 150 ms)");
console.log(`${pad("page", 14)}${pad("score", 7)}${pad("FCP", 9)}${pad("LCP", 9)}${pad("TBT", 9)}${pad("CLS", 7)}${pad("Speed Index", 13)}signed in`);
const scores = await lighthouseScores(debuggingPort, pages.map(([name, path]) => [name, `${base}${path}`]), cookies);
await browser.close();
for (const r of scores) {
  if (r.error) {
    console.log(`${pad(r.page, 14)}Lighthouse could not measure it: ${r.error}`);
    continue;
  }
  const secs = (n) => `${(n / 1000).toFixed(2)} s`;
  console.log(`${pad(r.page, 14)}${pad(Math.round(r.score * 100), 7)}${pad(secs(r.fcp), 9)}${pad(secs(r.lcp), 9)}${pad(`${Math.round(r.tbt)} ms`, 9)}${pad(r.cls.toFixed(3), 7)}${pad(secs(r.si), 13)}${r.signedIn ? "yes" : "no"}`);
}
