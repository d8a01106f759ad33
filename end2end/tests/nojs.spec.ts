import { test, expect } from "./fixtures";
import type { Page, TestInfo } from "@playwright/test";

// The main forms before and without JavaScript (a slow phone, a blocked
// script): each is a plain HTML form the server answers with a page. A
// mistake comes back with what was typed and the error at its field; a
// sent form shows its confirmation, once. (axe needs JavaScript in the
// page; the same pages are checked with it in the other specs.)
test.use({ javaScriptEnabled: false });

function tag(info: TestInfo) {
  return info.project.name;
}

/** Signs in at the development identity provider (plain forms there too). */
async function signInPlain(page: Page, target: string, user: string) {
  await page.goto(target);
  await page.getByLabel(/username/i).fill(user);
  await page.getByLabel(/password/i).fill(user);
  await page.getByRole("button", { name: /sign in/i }).click();
  // The provider's consent step, where it asks.
  const allow = page.getByRole("button", { name: /continue|allow|authorize/i });
  if (await allow.isVisible().catch(() => false)) await allow.click();
  await expect(page).toHaveURL(new RegExp(target.replace(/[?.]/g, "\\$&") + "$"));
}

test("without JavaScript a library sends a lending request: errors per field, then the confirmation", async ({ page }, info) => {
  const title = `Rautatie (no script, ${tag(info)})`;
  await page.goto("/lend?lang=en");
  await page.getByLabel(/^Library name/).fill("Tampere University Library");
  await page.getByLabel(/^ISIL or partner code/).fill("FI-Tay");
  await page.getByLabel(/^Book title/).fill(title);
  await page.getByLabel(/^Delivery address/).fill("Kalevantie 5\n33100 Tampere");
  await page.getByLabel(/^Note/).fill("No script here");
  // No e-mail: the form comes back with it marked and the rest kept.
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page).toHaveURL(/\/lend\?posted=1/);
  await expect(page.getByLabel(/^E-mail/)).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#email-error")).toHaveText(/This field is required/);
  await expect(page.getByLabel(/^Book title/)).toHaveValue(title);
  await expect(page.getByLabel(/^Note/)).toHaveValue("No script here");
  await expect(page.getByRole("alert").filter({ hasText: "E-mail" })).toBeVisible();
  await page.getByLabel(/^E-mail/).fill(`kaisa-nojs-${tag(info)}@fi-tuni.example.org`);
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: "Thank you, request received" })).toBeVisible();
  await expect(page.getByText(/^Reference number: [A-Z0-9]{4}-[A-Z0-9]{4}$/)).toBeVisible();
  // Reloading the confirmation sends nothing again (it is a GET).
  await page.reload();
  await expect(page.getByRole("heading", { name: "Thank you, request received" })).toBeVisible();
});

test("without JavaScript a patron requests an article and cancels it", async ({ page }, info) => {
  const title = `Fjärrlån utan skript (${tag(info)})`;
  await signInPlain(page, "/request?lang=en", "bertil");
  await page.getByLabel(/^Article title/).fill(title);
  await page.getByLabel(/^Journal/).fill("Nordisk bibliotekstidskrift");
  await page.getByLabel(/^Year/).fill("2024");
  // The copyright declaration is missing: back with the error and the text kept.
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page).toHaveURL(/\/request\?posted=1/);
  await expect(page.getByText("Copies need your copyright declaration").first()).toBeVisible();
  await expect(page.getByLabel(/^Article title/)).toHaveValue(title);
  await page.getByLabel(/for my own study or research/).check();
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: "Request sent" })).toBeVisible();
  const number = (await page.getByText(/^Your request number is /).textContent())!
    .replace("Your request number is ", "")
    .replace(/\.$/, "");

  // My requests, rendered with its data: cancel asks first, then cancels.
  await page.goto("/my?lang=en");
  const row = page.getByRole("row").filter({ has: page.getByText(title, { exact: true }) });
  await row.getByRole("button", { name: "Cancel request" }).click();
  await expect(page).toHaveURL(new RegExp(`cancel=${number}`));
  await page.getByRole("row").filter({ has: page.getByText(title, { exact: true }) })
    .getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Request cancelled." })).toBeVisible();
  await expect(page.getByRole("row").filter({ has: page.getByText(title, { exact: true }) }).getByText("Cancelled")).toBeVisible();
});
