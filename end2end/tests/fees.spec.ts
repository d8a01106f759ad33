import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Page } from "@playwright/test";

// Fees and invoices: staff set a rule, another library's loan is shipped,
// its fee line appears, an invoice run makes the invoice and the SAP file,
// the invoice prints and goes out as Finvoice, and a credit note reverses
// it. Invoice runs gather every open line, so only the desktop project
// makes them (for SUB Göttingen, a partner no other test bills); the phone
// project checks the pages on a small screen.

function today() {
  return new Date().toISOString().slice(0, 10);
}

/** The request page's current state (its stored code). */
function state(page: Page) {
  return page.locator("[data-state]").first();
}

test("staff set a rule; a shipped loan is billed, invoiced, exported to SAP and credited", async ({ page }, info) => {
  test.skip(info.project.name !== "desktop", "invoice runs gather every open line: one project makes them");
  test.setTimeout(120_000);
  const title = `Faust ${Date.now()}`;

  // The rule: SUB Göttingen pays 12,50 € + VAT for a loan.
  await signIn(page, "/staff/fees?tab=rules&lang=en", "staff");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Fees and invoices");
  await expectAccessible(page);
  const form = page.locator("form").filter({ has: page.getByLabel("Rule name") });
  await form.getByLabel("Rule name").fill("Göttingen loans");
  await form.getByLabel("Billable event").selectOption("lending_loan");
  await form.getByLabel("Applies to").selectOption("partner");
  await form.getByLabel(/^Library code/).fill("DE-GBV:7");
  await form.getByLabel("Material").selectOption("book");
  await form.getByLabel("Net price").fill("-5");
  await form.getByLabel("Valid from").fill(today());
  await form.getByRole("button", { name: "Add the rule" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "A price cannot be negative." })).toBeVisible();
  await form.getByLabel("Net price").fill("12,50");
  await form.getByRole("button", { name: "Add the rule" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Rule \d+ was added/ })).toBeVisible();
  const ruleRow = page.getByRole("table", { name: "Fee rules and when they apply" }).getByRole("row").filter({ hasText: "Göttingen loans" });
  await expect(ruleRow).toBeVisible();
  await expect(ruleRow).toContainText("Book");
  // The same rule again overlaps.
  await form.getByRole("button", { name: "Add the rule" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /overlaps rule \d+ \(Göttingen loans\)/ })).toBeVisible();
  await expectAccessible(page);

  // Göttingen asks for a loan on the public form; staff ship it.
  await page.goto("/lend?lang=en");
  await hydrated(page);
  await page.getByLabel(/^Library name/).fill("SUB Göttingen");
  await page.getByLabel(/^ISIL or partner code/).fill("DE-7");
  await page.getByLabel(/^Contact person/).fill("Karl Fernleihe");
  await page.getByLabel(/^E-mail/).fill("ill@de-gbv-7.example.org");
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByLabel(/^Book title/).fill(title);
  await page.getByLabel("Loan", { exact: true }).check();
  await page.getByLabel("By post", { exact: true }).check();
  await page.getByLabel(/^Delivery address/).fill("Platz der Göttinger Sieben 1\n37073 Göttingen");
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: "Thank you, request received" })).toBeVisible();

  await expect(async () => {
    await page.goto(`/staff/lending?lang=en&q=${encodeURIComponent(title)}`);
    await expect(page.getByRole("link", { name: title })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByRole("heading", { level: 2, name: title })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "Accept: will supply", exact: true }).click();
  await expect(state(page)).toHaveAttribute("data-state", "WillSupply");
  const ship = page.locator("details.action-detail").filter({ has: page.getByText("Ship the loan", { exact: true }) });
  await ship.locator("summary").click();
  await ship.getByRole("button", { name: "Confirm" }).click();
  await expect(state(page)).toHaveAttribute("data-state", "Loaned");

  // The fee line appears (priced once the event has settled).
  const row = page.locator("tr").filter({ hasText: title });
  await expect(async () => {
    await page.goto("/staff/fees?lang=en");
    await expect(row).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(row).toContainText("DE-GBV:7");
  await expect(row).toContainText("12.50 EUR");
  await expect(row).toContainText("15.69 EUR");
  await expectAccessible(page);

  // The invoice run; the same period again gives the same run.
  await page.goto("/staff/fees?tab=invoices&lang=en");
  await hydrated(page);
  await page.getByLabel("From").fill(today());
  await page.getByLabel("To").fill(today());
  await page.getByRole("button", { name: "Make the invoices" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Invoice run RUN-.* is done/ })).toBeVisible();
  const run = page.locator("article[data-run]").first();
  const invoiceLink = run.getByRole("row").filter({ hasText: "SUB Göttingen" }).getByRole("link");
  await expect(invoiceLink).toBeVisible();
  await expectAccessible(page);

  // The SAP file: the line with its stable id, as CSV and XLSX.
  const csvHref = await run.getByRole("link", { name: "CSV" }).getAttribute("href");
  const csv = await page.request.get(csvHref!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-disposition"]).toContain("attachment");
  const text = await csv.text();
  expect(text).toContain("Laskun numero;Laskutyyppi");
  expect(text).toContain(title);
  expect(text).toMatch(/;FL-[0-9A-F]{16};/);
  expect(text).toContain(";12,50;");
  const xlsx = await page.request.get((await run.getByRole("link", { name: "Excel (XLSX)" }).getAttribute("href"))!);
  expect(xlsx.status()).toBe(200);
  expect((await xlsx.body()).subarray(0, 2).toString()).toBe("PK");

  // Both downloads are on record: when, who, which run, which file.
  await page.goto("/staff/fees?tab=invoices&lang=en");
  const downloads = page.getByRole("table", { name: /Who downloaded which invoice file/ });
  for (const file of ["sap.csv", "sap.xlsx"]) {
    await expect(downloads.getByRole("row").filter({ hasText: file }).first()).toContainText(`${today()} – ${today()}`);
  }

  // The invoice: printable in Swedish, Finvoice, then a credit note.
  await invoiceLink.click();
  await expect(page.getByRole("heading", { name: /^Invoice \d+/ })).toBeVisible();
  await hydrated(page);
  await expectAccessible(page);
  const finvoice = await page.request.get((await page.getByRole("link", { name: "E-invoice (Finvoice 3.0)" }).getAttribute("href"))!);
  expect(finvoice.status()).toBe(200);
  const xml = await finvoice.text();
  expect(xml).toContain("<InvoiceTypeCode>INV01</InvoiceTypeCode>");
  expect(xml).toContain("<RowAmount AmountCurrencyIdentifier=\"EUR\">15,69</RowAmount>");
  const printHref = await page.getByRole("link", { name: "på svenska" }).getAttribute("href");
  const print = await page.context().newPage();
  await print.goto(printHref!);
  await expect(print.getByRole("heading", { level: 1 })).toContainText("Faktura");
  await expect(print.getByText(title)).toBeVisible();
  await expectAccessible(print);
  await print.close();

  await page.locator("table input[type=checkbox]").first().check();
  await page.getByLabel("Reason for the credit").fill("Returned unread");
  await page.getByRole("button", { name: "Make a credit note for the chosen lines" }).click();
  await expect(page.getByRole("status").filter({ hasText: "The credit note was made" })).toBeVisible();

  // Reconciliation: every billable event explained.
  await page.goto(`/staff/fees?tab=reconcile&from=${today()}&to=${today()}&lang=en`);
  await expect(page.getByText("Every event is explained.")).toBeVisible();
  await expectAccessible(page);
});

test("the fee pages fit a phone and read in Finnish", async ({ page }, info) => {
  test.skip(info.project.name !== "phone", "the phone's own check");
  await signIn(page, "/staff/fees?lang=fi", "staff");
  for (const tab of ["lines", "rules", "customers", "invoices", "reconcile"]) {
    await page.goto(`/staff/fees?tab=${tab}&lang=fi`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Maksut ja laskut");
    await expectAccessible(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, tab).toBeLessThanOrEqual(0);
  }
  // A business id that fails its check digit is refused, in Finnish.
  await page.goto("/staff/fees?tab=customers&lang=fi");
  await hydrated(page);
  await page.getByLabel(/^Asiakastunnus/).fill("FI-OULU");
  await page.getByLabel("Nimi", { exact: true }).fill("Oulun yliopisto");
  await page.getByLabel("Y-tunnus").fill("1234567-8");
  await page.getByRole("button", { name: "Tallenna", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Y-tunnus ei kelpaa" })).toBeVisible();
  await page.getByLabel("Y-tunnus").fill("1234567-1");
  await page.getByRole("button", { name: "Tallenna", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "FI-OULU" })).toBeVisible();
});
