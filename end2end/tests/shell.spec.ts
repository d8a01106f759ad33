import { test, expect, hydrated, expectAccessible } from "./fixtures";

// Public pages; /request, /my and /staff need sign-in (auth.spec.ts,
// requests.spec.ts).
const shellPaths = ["/", "/lend", "/accessibility"];

const homeHeading = { fi: "Kaukopalvelu", sv: "Fjärrlån", en: "Interlibrary loans" } as const;

for (const [lang, heading] of Object.entries(homeHeading)) {
  test(`home page in ${lang}`, async ({ page }) => {
    await page.goto(`/?lang=${lang}`);
    await expect(page.locator("html")).toHaveAttribute("lang", lang);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
    await expect(page).toHaveTitle(new RegExp(`^${heading} – Kauko`));
    await hydrated(page);
    await expectAccessible(page);
  });
}

test("switching language loads the page in that language and sticks", async ({ page }) => {
  await page.goto("/lend?lang=en");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("For libraries");

  await page.getByRole("link", { name: /^Svenska/ }).click();
  await expect(page).toHaveURL(/\/lend\?lang=sv$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "sv");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("För bibliotek");
  await expect(page.getByRole("navigation", { name: "Huvudmeny" })).toBeVisible();
  await expect(page).toHaveTitle(/^För bibliotek – Kauko/);
  await expect(page.getByRole("link", { name: /^Svenska/ })).toHaveAttribute("aria-current", "true");
  // The lending form's island hydrates in the new language.
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("För bibliotek");

  // The cookie remembers the choice for the next page load.
  await page.goto("/accessibility");
  await expect(page.locator("html")).toHaveAttribute("lang", "sv");
});

test("every shell page passes axe in every language", async ({ page }) => {
  test.setTimeout(90_000); // nine pages, each checked by axe
  for (const lang of ["fi", "sv", "en"]) {
    for (const path of shellPaths) {
      await page.goto(`${path}?lang=${lang}`);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expectAccessible(page);
    }
  }
});

test("the 404 page is translated and accessible", async ({ page }) => {
  const response = await page.goto("/no-such-page?lang=fi");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sivua ei löytynyt");
  await expect(page.getByRole("link", { name: "Siirry etusivulle" })).toBeVisible();
  await expectAccessible(page);
});

test("keyboard: the skip link comes first and moves focus to the content", async ({ page }) => {
  await page.goto("/?lang=en");
  await hydrated(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to main content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Request material" }).last()).toBeFocused();
});

test("navigation reaches each section, and the page fits a phone's width", async ({ page }) => {
  await page.goto("/?lang=en");
  await hydrated(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "For libraries" }).click();
  await expect(page).toHaveURL(/\/lend$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("For libraries");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "For libraries" })).toHaveAttribute("aria-current", "page");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, "no horizontal scrolling").toBeLessThanOrEqual(0);
});

test("pages hydrate under a Content-Security-Policy with a fresh nonce", async ({ page }) => {
  const nonces = new Set<string>();
  for (const path of shellPaths) {
    const response = await page.goto(`${path}?lang=en`);
    const csp = response?.headers()["content-security-policy"] ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce, `${path}: ${csp}`).toBeTruthy();
    expect(csp).not.toContain("unsafe-inline");
    expect(response?.headers()["cache-control"]).toBe("no-store");
    nonces.add(nonce!);
    // Every script Leptos wrote carries it; the app still comes alive.
    const scripts = page.locator("script:not([type='application/json'])");
    // (Chromium hides the attribute's value; the property keeps it.)
    for (const script of await scripts.all()) {
      expect(await script.evaluate((s) => (s as HTMLScriptElement).nonce)).toBe(nonce);
    }
    await hydrated(page);
  }
  expect(nonces.size, "a new nonce per response").toBe(shellPaths.length);
});
