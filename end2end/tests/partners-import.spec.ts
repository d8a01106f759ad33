import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

// The project's own small sources: Alma library-type users (JSON) and a
// Latin-1, semicolon-separated legacy export with dirty rows and secrets.
const fixtures = path.resolve(__dirname, "../../server/tests/fixtures/partners");
const almaFile = path.join(fixtures, "alma_users.json");
const legacyFile = path.join(fixtures, "legacy_latin1.csv");

function signInAsStaff(page: Page, target: string) {
  return signIn(page, target, "staff");
}

async function dryRun(page: Page) {
  await page.getByLabel("Alma users (JSON or XML)").setInputFiles(almaFile);
  await page.getByLabel("Legacy ILL export (CSV)").setInputFiles(legacyFile);
  await page.getByRole("button", { name: "Dry run" }).click();
  await expect(page.getByRole("heading", { name: "Dry run: what would change" })).toBeVisible();
}

function reportRow(page: Page, code: string) {
  return page.getByRole("row").filter({ has: page.getByRole("cell", { name: code, exact: true }) });
}

test("a librarian runs the partner import from the staff page: dry run, report, CSV, apply", async ({ page }, info) => {
  test.skip(info.project.name !== "desktop", "applies once; the phone test below only reads");
  await signInAsStaff(page, "/staff?lang=en");
  await page.getByRole("link", { name: "Import partner records" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Import partner records");
  await hydrated(page);
  await expectAccessible(page);

  await dryRun(page);
  // A conflict is reported field by field, a row without a name is rejected.
  const kb = reportRow(page, "KB");
  await expect(kb.getByRole("cell", { name: "Conflict" })).toBeVisible();
  await expect(reportRow(page, "X1").getByText("No name")).toBeVisible();
  // Partner secrets never reach the browser.
  const html = await page.content();
  for (const secret of ["hunter2", "legacy-key-1"]) expect(html).not.toContain(secret);
  await expectAccessible(page);

  // The report as CSV.
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download the report (CSV)" }).click();
  const file = await (await download).path();
  const csv = fs.readFileSync(file, "utf8");
  expect(csv).toContain("outcome,code,name");
  expect(csv).toMatch(/conflict,KB,Kungliga biblioteket/);

  // Only the filter's rows are shown.
  await page.getByLabel("Show").selectOption({ label: "Rejected" });
  await expect(reportRow(page, "KB")).toHaveCount(0);
  await expect(reportRow(page, "X1")).toBeVisible();

  await page.getByRole("button", { name: "Apply these changes" }).click();
  await expect(page.getByRole("heading", { name: "Applied: what changed" })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole("button", { name: "Apply these changes" })).toHaveCount(0);
});

test("the import works on a 320 px wide screen", async ({ page }, info) => {
  test.skip(info.project.name !== "phone", "a phone layout check");
  await page.setViewportSize({ width: 320, height: 720 });
  await signInAsStaff(page, "/staff/partners/import?lang=en");
  await dryRun(page);
  await expect(reportRow(page, "KB")).toBeVisible();
  // The wide report scrolls inside its own region; the page itself does not.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const apply = page.getByRole("button", { name: "Apply these changes" });
  await apply.scrollIntoViewIfNeeded();
  // Nothing covers the button: a trial click checks it could be pressed.
  await apply.click({ trial: true });
  await expectAccessible(page);
});
