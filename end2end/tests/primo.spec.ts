import { test, expect, hydrated } from "./fixtures";
import { test as bare, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// Kauko inside Primo (issue 20): stand-in Primo pages on another origin
// (end2end/primo-harness.mjs) load Kauko's widgets the way the classic
// Primo VE shim (custom.js) and the NDE add-on do.
const harness = `http://127.0.0.1:${process.env.KAUKO_E2E_PRIMO_PORT ?? 3941}`;
// A loopback port nothing listens on: Kauko "stopped".
const stopped = "http://127.0.0.1:3959";

// Aino's demo data that no other test changes, and Bertil's.
const ainoActive = "Sources of the self: the making of the modern identity";
const ainoLoan = "Rare maps of the Baltic";
const bertilLoan = "Library networks in the Nordic countries";

/** axe-core (WCAG 2.1 A/AA) inside one widget: no violations. */
async function accessibleInside(page: Page, selector: string) {
  const results = await new AxeBuilder({ page })
    .include(selector)
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(summary, `axe violations in ${selector}`).toEqual([]);
  // axe did look inside: the widget was there and passed rules.
  expect(results.passes.length, `axe checked ${selector}`).toBeGreaterThan(0);
}

test("classic Primo VE: the button on the record and Aino's ILL list in My Account, in Finnish", async ({ page }) => {
  await page.goto(`${harness}/classic.html?lang=fi&user=aino.virtanen&record=record_ve_thesis_utk`);
  const button = page.locator("prm-full-view-after kauko-ill-button").getByRole("link", { name: "Tilaa kaukolainana" });
  await expect(button).toBeVisible();
  const href = await button.getAttribute("href");
  expect(href).toContain("/primo/request?");
  expect(href).toContain("addata.btitle=STUDY+OF+THE+DYNAMIC+BEHAVIOR");
  const status = page.locator("prm-account-overview-after kauko-ill-status");
  await expect(status.getByRole("heading", { name: "Kaukolainat" })).toBeVisible();
  await expect(status.getByRole("link", { name: ainoActive })).toBeVisible();
  await expect(status.getByRole("link", { name: ainoLoan })).toBeVisible();
  await expect(status).toContainText("Eräpäivä");
  await expect(status).not.toContainText(bertilLoan);
  // Links go to Kauko.
  const link = await status.getByRole("link", { name: ainoActive }).getAttribute("href");
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/my\//);
  await accessibleInside(page, "kauko-ill-button");
  await accessibleInside(page, "kauko-ill-status");
});

test("NDE add-on: the button and Bertil's list, in Swedish; the button lands on Kauko's prefilled form", async ({ page }) => {
  await page.goto(`${harness}/nde.html?lang=sv&user=bertil.lind&record=record_cdi_article_doi_pmid_plos&show=always`);
  const status = page.locator("nde-account-overview-after kauko-ill-status");
  await expect(status.getByRole("heading", { name: "Fjärrlån" })).toBeVisible();
  await expect(status.getByRole("link", { name: bertilLoan })).toBeVisible();
  await expect(status).not.toContainText(ainoLoan);
  await accessibleInside(page, "kauko-ill-status");
  await accessibleInside(page, "kauko-ill-button");
  const button = page.locator("nde-full-display-service-container-after kauko-ill-button").getByRole("link", { name: "Beställ som fjärrlån" });
  await button.click();
  // Kauko asks who the patron is (its own sign-in), then shows the form.
  await expect(page.getByLabel(/username/i)).toBeVisible();
  await page.getByLabel(/username/i).fill("bertil");
  await page.getByLabel(/password/i).fill("bertil");
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page).toHaveURL(/\/request\?.*rft\.atitle=DNA/);
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "sv");
  await expect(page.locator("input[name=title], #title").first()).toHaveValue(/^DNA metabarcoding-based diet survey for the Eurasian otter/);
  await expect(page.locator("input[name=container_title], #container_title").first()).toHaveValue("PloS one");
  await expect(page.locator("input[name=volume], #volume").first()).toHaveValue("14");
});

test("the library's rule: no button when Primo shows the record available locally; a guest is asked to sign in", async ({ page }) => {
  await page.goto(`${harness}/classic.html?lang=en&user=guest&record=record_ve_book_isbn_umn`);
  const status = page.locator("kauko-ill-status");
  await expect(status.getByText("Sign in to see your interlibrary loans.")).toBeVisible();
  await expect(status.getByRole("link", { name: "Open Kauko" })).toBeVisible();
  await expect(page.locator("kauko-ill-button")).toBeAttached();
  await expect(page.locator("kauko-ill-button")).toBeHidden();
  await expect(page.getByRole("link", { name: "Request via interlibrary loan" })).toHaveCount(0);
});

// Kauko unreachable: the page itself logs the failed loads, so these use
// Playwright's own test (without the console-error check).
bare("classic Primo VE with Kauko stopped: plain 'Open Kauko' links, the page works", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(`${harness}/classic.html?lang=fi&user=aino.virtanen&kauko=${encodeURIComponent(stopped)}`);
  await expect(page.locator("prm-full-view-after a.kauko-fallback")).toHaveText("Avaa Kauko");
  await expect(page.locator("prm-account-overview-after a.kauko-fallback")).toHaveText("Avaa Kauko");
  expect(Date.now() - started).toBeLessThan(6000);
  await expect(page.getByRole("heading", { name: "Primo VE" })).toBeVisible();
  expect(errors).toEqual([]);
});

bare("NDE add-on hosted by the library with Kauko stopped: 'Öppna Kauko'", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${harness}/nde.html?lang=sv&user=aino.virtanen&addon=local&kauko=${encodeURIComponent(stopped)}`);
  await expect(page.locator("nde-account-overview-after a.kauko-fallback")).toHaveText("Öppna Kauko");
  await expect(page.locator("nde-full-display-service-container-after a.kauko-fallback")).toHaveText("Öppna Kauko");
  expect(errors).toEqual([]);
});

bare("Kauko too slow (no answer in 2 s): the status widget falls back to 'Open Kauko'", async ({ page }) => {
  await page.route("**/primo/status*", async (route) => {
    await new Promise((r) => setTimeout(r, 5000));
    await route.abort().catch(() => {});
  });
  await page.goto(`${harness}/nde.html?lang=en&user=aino.virtanen&show=always`);
  const status = page.locator("kauko-ill-status");
  await expect(status.getByText("Loading interlibrary loans…")).toBeVisible();
  const started = Date.now();
  await expect(status.getByRole("link", { name: "Open Kauko" })).toBeVisible({ timeout: 4000 });
  expect(Date.now() - started).toBeLessThan(3500);
  // The button does not wait for Kauko's data.
  await expect(page.getByRole("link", { name: "Request via interlibrary loan" })).toBeVisible();
  await page.unrouteAll({ behavior: "ignoreErrors" });
});
