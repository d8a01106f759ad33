import { test, expect, hydrated, expectAccessible } from "./fixtures";
import type { Page } from "@playwright/test";

/** Fills the identity provider's own login form (Kauko never sees it). */
async function signInAtIdp(page: Page, user: string) {
  await expect(page.getByLabel(/username/i)).toBeVisible();
  expect(new URL(page.url()).port, "the form is the IdP's, not Kauko's").not.toBe(new URL(test.info().project.use.baseURL!).port);
  await page.getByLabel(/username/i).fill(user);
  await page.getByLabel(/password/i).fill(user);
  await page.getByRole("button", { name: /sign in/i }).click();
}

test("sign in through the university IdP, see your name, open a protected page, sign out", async ({ page }) => {
  await page.goto("/my?lang=en");
  await signInAtIdp(page, "aino");

  await expect(page).toHaveURL(/\/my\?lang=en$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("My requests");
  await expect(page.getByText("Signed in as Aino Virtanen")).toBeVisible();
  // Her own demo data, rendered on the server for her session.
  await expect(page.getByText("Kalevala: kriittinen editio", { exact: true })).toBeVisible();
  await expect(page.getByText("Fjärrlånets historia")).toHaveCount(0);
  await hydrated(page);
  await expectAccessible(page);

  // A patron is not staff.
  const staff = await page.goto("/staff");
  expect(staff?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("No access");
  await expectAccessible(page);

  await page.goto("/");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/$/);
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page.getByText("Signed in as")).toHaveCount(0);

  // Signed out at the IdP too: the next sign-in asks for the password again.
  await page.goto("/my");
  await expect(page.getByLabel(/password/i)).toBeVisible();
});

test("staff reach the staff page", async ({ page }) => {
  await page.goto("/staff?lang=en");
  await signInAtIdp(page, "staff");
  await expect(page).toHaveURL(/\/staff\?lang=en$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Staff");
  await expect(page.getByText("Signed in as Liisa Kaukopalvelu")).toBeVisible();
  await expectAccessible(page);
});
