import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";

// The statistics page on the demo data: charts drawn on the server, each
// with a table behind "Show as table" and its numbers as CSV; in English
// and Finnish, on a desktop and a phone, with axe.

test("staff read the year's figures as charts, as tables and as CSV", async ({ page }) => {
  await signIn(page, "/staff/statistics?lang=en", "staff");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Statistics");
  const borrowing = page.locator("section#borrowing");
  await expect(borrowing.getByRole("heading", { level: 2 })).toContainText("Borrowing");
  // The charts are images with a name (their title) and a description.
  const months = borrowing.getByRole("img", { name: /Requests per month/ });
  await expect(months).toBeVisible();
  await expectAccessible(page);
  await hydrated(page);
  // The table alternative.
  const figure = page.locator("#borrowing-months");
  await figure.getByText("Show as table").click();
  const table = figure.getByRole("table");
  await expect(table).toBeVisible();
  await expect(table.getByRole("rowheader", { name: "January" })).toBeVisible();
  await expectAccessible(page);
  // Its numbers as CSV.
  const href = await figure.getByRole("link", { name: "Download the numbers (CSV)" }).getAttribute("href");
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  const text = await csv.text();
  expect(text).toContain("Item,This year,Year before,Change");
  expect(text).toContain("January,");
  // No sideways scroll, also on a phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // In Finnish: the words and the number format.
  await page.goto("/staff/statistics?lang=fi");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tilastot");
  await expect(page.locator("section#lending").getByRole("img", { name: /Pyynnöt kuukausittain/ })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Määritelmät" })).toBeVisible();
  await expectAccessible(page);
});

test("staff import the years before Kauko from an Analytics export; they are shown apart", async ({ page }) => {
  await signIn(page, "/staff/statistics?lang=en", "staff");
  await page.getByText("Import an Analytics export (XML or CSV)").click();
  await page.getByLabel("The exported report").setInputFiles({
    name: "ill-per-year.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("Year,Lending Num of Requests,Lending Num of Requests Filled\n2021,3286,2950\n2022,3122,2800\n"),
  });
  await page.getByRole("button", { name: "Import the file" }).click();
  await expect(page.getByRole("status").filter({ hasText: "4 figures imported." })).toBeVisible();
  const imported = page.locator("section#imported");
  await expect(imported.getByRole("img", { name: /From Alma Analytics/ })).toBeVisible();
  await expect(imported.getByText("ill-per-year.csv")).toBeVisible();
  await expectAccessible(page);
});
