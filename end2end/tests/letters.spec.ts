import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Browser, Page, TestInfo } from "@playwright/test";

// Letters: staff edit a letter and preview it in Swedish, a change to a
// request sends it, and the patron reads it on the request's page. The
// desktop and phone projects run at once against one Kauko; both write
// the same edit, so either order leaves the same template.

const patronOf = (info: TestInfo) => (info.project.name === "phone" ? "bertil" : "aino");
const MARK = "Kauko e2e:";

async function newPage(browser: Browser, info: TestInfo): Promise<Page> {
  const context = await browser.newContext({ ...info.project.use });
  return context.newPage();
}

test("staff edit a letter, preview it in Swedish; a question to the patron sends it and the patron reads it", async ({ page, browser }, info) => {
  test.setTimeout(120_000);
  const staff = await newPage(browser, info);
  await signIn(staff, "/staff/letters?lang=en", "staff");
  await expect(staff.getByRole("heading", { level: 1 })).toHaveText("Letters");
  await expect(staff.getByRole("table", { name: "Letters and what sends them" })).toBeVisible();
  await expectAccessible(staff);

  // The letter in Swedish: edit, preview (not saved).
  await staff.getByRole("link", { name: "Question to the patron" }).click();
  await expect(staff).toHaveURL(/kind=patron_query/);
  await staff.getByRole("navigation", { name: "The letter's languages" }).getByRole("link", { name: "Svenska" }).click();
  await expect(staff).toHaveURL(/letter_lang=sv/);
  // Only the letter's language changes: the page stays in English.
  await expect(staff.locator("html")).toHaveAttribute("lang", "en");
  await hydrated(staff);
  const body = staff.getByLabel("Text", { exact: true });
  await expect(body).toHaveValue(/Vår personal har en fråga/);
  await body.fill(`${MARK} ${await body.inputValue()}`);
  await staff.getByRole("button", { name: "Preview", exact: true }).click();
  await expect(staff.locator("[data-preview-text]")).toContainText(`${MARK} Hej Maija Meikäläinen`);
  await expect(staff.locator("[data-preview-subject]")).toHaveText(/^En fråga om din fjärrlånebeställning/);
  // The page around the preview; the preview's sandboxed frame has a name
  // and its document a title (what axe checked of it before it hung in CI).
  await expectAccessible(staff, ["iframe.letter-preview"]);
  const preview = staff.locator("iframe.letter-preview");
  await expect(preview).toHaveAttribute("title", /.+/);
  expect(await preview.getAttribute("srcdoc")).toMatch(/<title>En fråga om din fjärrlånebeställning/);

  // A placeholder the letter does not have is refused with its line.
  await body.fill("Hej {{ recipient_name }}\n\nNouda {{ pickup_location }}");
  await staff.getByRole("button", { name: "Save", exact: true }).click();
  await expect(staff.getByRole("alert").filter({ hasText: "line 3" })).toContainText("pickup_location");

  // In English: edit and save; the patron signed in in English.
  await staff.goto("/staff/letters?kind=patron_query&lang=en");
  await hydrated(staff);
  const en = staff.getByLabel("Text", { exact: true });
  await expect(en).toHaveValue(/Our staff have a question/);
  const current = await en.inputValue();
  if (!current.startsWith(MARK)) await en.fill(`${MARK} ${current}`);
  await staff.getByRole("button", { name: "Save", exact: true }).click();
  await expect(staff.getByRole("status").filter({ hasText: "Saved as version" })).toBeVisible();
  await expect(staff.getByRole("heading", { name: "Difference from the default" })).toBeVisible();
  await expect(staff.locator("pre.letter__diff")).toContainText(`+${MARK}`);

  // The patron asks for a book; staff ask them a question on the desk.
  const title = `Letters ${info.project.name} ${Date.now()}`;
  await signIn(page, "/request?lang=en", patronOf(info));
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByLabel(/^Book title/).fill(title);
  await page.getByLabel(/^Pickup location/).selectOption({ index: 1 });
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: "Request sent" })).toBeVisible();

  await staff.goto(`/staff/borrowing?lang=en&q=${encodeURIComponent(title)}`);
  await hydrated(staff);
  await staff.getByRole("link", { name: title }).click();
  await expect(staff.getByRole("heading", { name: title })).toBeVisible();
  await hydrated(staff);
  const id = staff.url().split("/").pop()!.split("?")[0];
  await staff.getByLabel("Note", { exact: true }).fill("Would the 2019 edition do?");
  await staff.getByLabel(/Show to the patron/).check();
  await staff.getByRole("button", { name: "Add note" }).click();
  await expect(staff.locator("ol.timeline").getByText("Would the 2019 edition do?")).toBeVisible();

  // The patron reads both letters on the request's page (the worker sends
  // within seconds).
  await expect(async () => {
    await page.goto(`/my/${id}?lang=en`);
    await expect(page.getByRole("heading", { name: "Letters sent to you" })).toBeVisible({ timeout: 1000 });
    await expect(page.locator("ul.letters li")).toHaveCount(2, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await hydrated(page);
  // The letter is in the patron's own language, which other tests may
  // have changed (Bertil uses Kauko in Swedish in primo.spec.ts); staff
  // edited the English text only.
  const question = page.locator("ul.letters details").filter({
    hasText: /A question about your interlibrary loan request|En fråga om din fjärrlånebeställning|Kysymys kaukolainatilauksestasi/,
  });
  await question.locator("summary").click();
  await expect(question.locator("pre")).toContainText("Would the 2019 edition do?");
  if ((await question.locator("summary").textContent())?.includes("A question about")) {
    await expect(question.locator("pre")).toContainText(MARK);
  }
  await expectAccessible(page);

  // Staff see both in the delivery log.
  await staff.goto("/staff/letters?lang=en");
  await hydrated(staff);
  await expect(staff.locator("tr[data-letter-id]").filter({ hasText: title }).first()).toBeVisible();
  await expectAccessible(staff);
});
