import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Page, TestInfo } from "@playwright/test";

// Another library sends us a lending request from the public form, with no
// account. The desktop and phone projects run at the same time against one
// Kauko, so each uses its own titles and addresses.

function tag(info: TestInfo) {
  return info.project.name;
}

function signInAsStaff(page: Page, target: string) {
  return signIn(page, target, "staff");
}

/** Fills the general form for a book loan by post. */
async function fillBookLoan(page: Page, library: { name: string; id: string; email: string }, title: string) {
  await page.getByLabel(/^Library name/).fill(library.name);
  await page.getByLabel(/^ISIL or partner code/).fill(library.id);
  await page.getByLabel(/^Contact person/).fill("Kaisa Kaukopalvelu");
  await page.getByLabel(/^E-mail/).fill(library.email);
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByLabel(/^Book title/).fill(title);
  await page.getByLabel("Authors").fill("Kivi, Aleksis");
  await page.getByLabel("Loan", { exact: true }).check();
  await page.getByLabel("By post", { exact: true }).check();
  await page.getByLabel(/^Delivery address/).fill("Kalevantie 5\n33100 Tampere");
}

/** Sends the form; returns the reference number shown. */
async function send(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Send request" }).click();
  const heading = page.getByRole("heading", { name: "Thank you, request received" });
  await expect(heading).toBeVisible();
  await expect(heading).toBeFocused();
  const text = await page.getByText(/^Reference number: /).textContent();
  const reference = text!.replace("Reference number: ", "").trim();
  expect(reference).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  return reference;
}

test("a partner library sends a request, gets a reference and its confirmation e-mail", async ({ page }, info) => {
  const title = `Seitsemän veljestä (${tag(info)})`;
  // A colleague at the partner library (FI-TUNI, ISIL FI-Tay, has
  // ill@fi-tuni.example.org on record): the same mail domain fits.
  const email = `kaisa-${tag(info)}@fi-tuni.example.org`;
  // A lazy island's page loads the full chunk loader (preloaded:
  // scripts/split-loader.mjs) and the lending forms' strings.
  const fetched: string[] = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await page.goto("/lend?lang=en");
  await hydrated(page);
  expect(fetched.filter((u) => /^\/pkg\/__wasm_split\.[^/]*\.full\.js$/.test(u)).length, "the full chunk loader").toBeGreaterThan(0);
  expect([...new Set(fetched.filter((u) => u.startsWith("/i18n/")))]).toEqual(["/i18n/en.lend.json"]);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("For libraries");
  await expectAccessible(page);

  // Nothing filled: every problem is listed and tied to its field.
  await page.getByRole("button", { name: "Send request" }).click();
  const summary = page.getByRole("alert").filter({ hasText: "Library name" });
  await expect(summary).toBeVisible();
  await expect(page.getByLabel(/^E-mail/)).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page);

  // A wrong ISIL is explained.
  await fillBookLoan(page, { name: "Tampere University Library", id: "FI TAY", email }, title);
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByText(/An ISIL is a country prefix/).first()).toBeVisible();

  await page.getByLabel(/^ISIL or partner code/).fill("FI-Tay");
  const reference = await send(page);
  await expect(page.getByText("The request is in our library system")).toBeVisible();
  await expectAccessible(page);

  // The confirmation went out in Finnish and English, to the address on
  // the partner record (not the one typed); staff can read it.
  await signInAsStaff(page, "/staff/mail?lang=en");
  const mail = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: new RegExp(reference) }) });
  await expect(mail).toHaveCount(1);
  await expect(mail.getByText("ill@fi-tuni.example.org")).toBeVisible();
  await expect(mail.getByText(email)).toHaveCount(0);
  await mail.getByText("Show the message").click();
  const body = mail.locator("pre");
  await expect(body).toContainText(title);
  await expect(body).toContainText(`Viitenumero: ${reference}`);
  await expect(body).toContainText(`Reference number: ${reference}`);
  await expectAccessible(page);
});

test("a library that is not a partner is held for staff, who accept it", async ({ page, browser }, info) => {
  const title = `Tuntematon kirja (${tag(info)})`;
  await page.goto("/lend?lang=en");
  await hydrated(page);
  await fillBookLoan(
    page,
    { name: `Pieni kirjasto ${tag(info)}`, id: "", email: `small-${tag(info)}@example.fi` },
    title,
  );
  const reference = await send(page);
  await expect(page.getByText(/Staff will check the request before it is forwarded/)).toBeVisible();

  const staff = await (await browser.newContext()).newPage();
  await signInAsStaff(staff, "/staff/lending-review?lang=en");
  await expect(staff.getByRole("heading", { level: 1 })).toHaveText("Lending requests to review");
  const item = staff.getByRole("listitem").filter({ has: staff.getByRole("heading", { name: title }) });
  await expect(item.getByText(reference)).toBeVisible();
  await expect(item.getByText("No partner library has this code or ISIL.")).toBeVisible();
  await expectAccessible(staff);
  // A code that is no partner's is refused with what to do.
  await item.getByLabel("Partner code").fill("NO-SUCH");
  await item.getByRole("button", { name: "Accept and deliver" }).click();
  await expect(staff.getByText(/There is no partner with that code/)).toBeVisible();
  await item.getByLabel("Partner code").fill("FI-OULU");
  await item.getByRole("button", { name: "Accept and deliver" }).click();
  await expect(staff.getByRole("status").filter({ hasText: "Request accepted" })).toBeVisible();
  await expect(staff.getByRole("heading", { name: title })).toHaveCount(0);
  await staff.context().close();
});

test("a partner's own form shows its details locked, with its instructions", async ({ page }) => {
  await page.goto("/lend/FI-TUNI?lang=en");
  await hydrated(page);
  const card = page.getByRole("region", { name: "Requesting library" });
  await expect(card.getByText("Tampereen yliopiston kirjasto")).toBeVisible();
  await expect(card.getByRole("heading", { name: "Instructions for your library" })).toBeVisible();
  // Locked: the name and identifier are not fields here.
  await expect(page.getByLabel(/^Library name/)).toHaveCount(0);
  await expect(page.getByLabel(/^E-mail/)).not.toHaveValue("");
  await expectAccessible(page);

  await page.goto("/lend/NO-SUCH-PARTNER?lang=en");
  await expect(page.getByText("There is no partner library at this address")).toBeVisible();
  await page.getByRole("link", { name: "The general lending-request form" }).click();
  await expect(page).toHaveURL(/\/lend$/);
});

test("the form fits a 320 px screen and works in Finnish", async ({ page }, info) => {
  test.skip(info.project.name !== "phone", "a phone check");
  await page.setViewportSize({ width: 320, height: 640 });
  await page.goto("/lend?lang=fi");
  await hydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByRole("button", { name: "Lähetä pyyntö" }).click();
  await expect(page.getByRole("alert").first()).toBeVisible();
  await expectAccessible(page);
});
