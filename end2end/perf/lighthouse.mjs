// Lighthouse's mobile performance score for Kauko's patron pages: its
// default mobile profile (a Moto G Power's screen, 4x slower CPU, a
// simulated slow 4G of 1.6 Mbit/s and 150 ms), in the Chromium that
// perf/phone.mjs started, through its debugging port.
// A signed-in page gets the session's cookies as a request header.
import lighthouse from "lighthouse";

/**
 * Runs Lighthouse (performance only) on each `[name, url]` in the browser
 * at debugging `port` and returns `{ page, score, fcp, lcp, tbt, cls, si,
 * signedIn }` rows; `cookies` are Playwright cookies sent with every
 * request.
 */
export async function lighthouseScores(port, pages, cookies) {
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const rows = [];
  for (const [name, url] of pages) {
    // Whether the cookies sign the page in (its header then has the
    // sign-out form), so a signed-in page is not scored as the sign-in
    // notice.
    const html = await (await fetch(url, { headers: cookie ? { Cookie: cookie } : {} })).text();
    const signedIn = html.includes('action="/auth/logout"');
    const result = await lighthouse(url, {
      port,
      output: "json",
      logLevel: "error",
      onlyCategories: ["performance"],
      extraHeaders: cookie ? { Cookie: cookie } : undefined,
    });
    const lhr = result.lhr;
    const audit = (id) => lhr.audits[id]?.numericValue;
    rows.push({
      page: name,
      score: lhr.categories.performance.score,
      fcp: audit("first-contentful-paint"),
      lcp: audit("largest-contentful-paint"),
      tbt: audit("total-blocking-time"),
      cls: audit("cumulative-layout-shift"),
      si: audit("speed-index"),
      signedIn,
      error: lhr.runtimeError?.message,
    });
  }
  return rows;
}
