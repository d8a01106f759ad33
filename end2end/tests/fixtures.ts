import { test as base, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

/** Every test fails if the page logs a console error or throws. */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        // Chromium logs a page's own 403/404 status as an error; tests that
        // visit such a page expect that. A missing asset still fails.
        const url = msg.location().url;
        const documentNotFound =
          /status of 40[34]\b/.test(msg.text()) && !url.includes("/pkg/") && !url.endsWith(".svg");
        if (!documentNotFound) errors.push(`${msg.text()} (${url})`);
      });
      page.on("pageerror", (err) => errors.push(String(err)));
      // Anything the Content-Security-Policy blocks fails the test too.
      await page.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (e) =>
          console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
        );
      });
      await use(errors);
      expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the WebAssembly front end has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/**
 * Signs in at the development identity provider (password = user name) on
 * the way to `target`, and waits for the page there to hydrate.
 */
export async function signIn(page: Page, target: string, user: string) {
  await page.goto(target);
  await expect(page.getByLabel(/username/i)).toBeVisible();
  await page.getByLabel(/username/i).fill(user);
  await page.getByLabel(/password/i).fill(user);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page).toHaveURL(new RegExp(target.replace(/[?.]/g, "\\$&") + "$"));
  await hydrated(page);
}

/**
 * axe-core against WCAG 2.1 A and AA: no violations allowed. `exclude`
 * leaves out parts (a sandboxed preview frame, which axe cannot enter
 * reliably: its run once hung until the test timed out).
 */
export async function expectAccessible(page: Page, exclude: string[] = []) {
  let builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]);
  for (const selector of exclude) builder = builder.exclude(selector);
  const results = await builder.analyze();
  const summary = results.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
  expect(summary, "axe violations").toEqual([]);
}
