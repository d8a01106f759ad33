import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Page, TestInfo } from "@playwright/test";

// The desktop and phone projects run at the same time against one Kauko, so
// each signs in as its own demo patron and changes only that patron's data.
const patrons = {
  desktop: {
    user: "aino",
    name: "Aino Virtanen",
    cancellable: "Life is pretty meaningful",
    notCancellable: "Sources of the self: the making of the modern identity",
    past: "Resource sharing in the age of Alma",
    renewable: "Kalevala: kriittinen editio",
    notRenewable: "Rare maps of the Baltic",
  },
  phone: {
    user: "bertil",
    name: "Bertil Lind",
    cancellable: "Fjärrlånets historia",
    notCancellable: null,
    past: "The Interlibrary Loan Practices Handbook",
    renewable: "Library networks in the Nordic countries",
    notRenewable: null,
  },
} as const;

function patronFor(info: TestInfo) {
  return patrons[info.project.name as keyof typeof patrons];
}

/** The row (desktop) or card (phone) of an item: the same element. */
function row(page: Page, title: string) {
  return page.getByRole("row").filter({ has: page.getByText(title, { exact: true }) });
}

test("My requests: statuses, why an action is not offered, renew and cancel", async ({ page }, info) => {
  const p = patronFor(info);
  await signIn(page, "/my?lang=en", p.user);
  // The page is rendered on the server only: its forms need no
  // WebAssembly, and none is fetched (app/src/pages/my.rs).
  const wasm: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes(".wasm")) wasm.push(r.url());
  });
  await page.reload();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("My requests");
  await expect(page.getByRole("heading", { name: "Active requests" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Past requests" })).toBeVisible();
  await expect(row(page, p.past)).toBeVisible();
  await expectAccessible(page);

  if (p.notCancellable) {
    const started = row(page, p.notCancellable);
    await expect(started.getByText("In process")).toBeVisible();
    await expect(started.getByText(/can no longer be cancelled here/)).toBeVisible();
    await expect(started.getByRole("button", { name: "Cancel request" })).toHaveCount(0);
  }
  if (p.notRenewable) {
    const fixed = row(page, p.notRenewable);
    await expect(fixed.getByText(/does not allow renewing/)).toBeVisible();
    await expect(fixed.getByRole("button", { name: "Renew" })).toHaveCount(0);
  }

  // Renew: the new due date is announced.
  const loan = row(page, p.renewable);
  await loan.getByRole("button", { name: "Renew" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Loan renewed. The new due date is" })).toBeVisible();

  // Cancel asks first, then moves the request to the history.
  const request = row(page, p.cancellable);
  await request.getByRole("button", { name: "Cancel request" }).click();
  await expect(request.getByText("Cancel this request?")).toBeVisible();
  await request.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Request cancelled." })).toBeVisible();
  // The result is focused, so a screen reader reads it out.
  await expect(page.getByRole("status").filter({ hasText: "Request cancelled." })).toBeFocused();
  const history = page.locator("section", { has: page.getByRole("heading", { name: "Past requests" }) });
  await expect(row(page, p.cancellable).getByText("Cancelled")).toBeVisible();
  await expect(history.getByText(p.cancellable, { exact: true })).toBeVisible();
  await expectAccessible(page);
  expect(wasm, "My requests fetched WebAssembly").toEqual([]);

  // The page in Finnish, rendered on the server with the data.
  await page.goto("/my?lang=fi");
  await expect(page.getByRole("heading", { name: "Aiemmat pyynnöt" })).toBeVisible();
  await expect(row(page, p.cancellable).getByText("Peruttu")).toBeVisible();
});

test("the request form: errors are tied to their fields and stay until fixed", async ({ page }, info) => {
  const p = patronFor(info);
  await signIn(page, "/request?lang=en", p.user);
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByRole("button", { name: "Send request" }).click();
  const summary = page.getByRole("alert").filter({ hasText: "Please check these" });
  await expect(summary).toBeVisible();
  await expect(summary).toBeFocused();
  const title = page.getByLabel(/^Book title/);
  await expect(title).toHaveAttribute("aria-invalid", "true");
  await expect(title).toHaveAccessibleDescription(/This field is required/);
  await expectAccessible(page);
  // The error link moves focus to its field.
  await summary.getByRole("link", { name: /Title: This field is required/ }).click();
  await expect(title).toBeFocused();

  // A wrong ISBN check digit is said at once, in the browser.
  await page.getByLabel("DOI, PubMed ID or ISBN").fill("978-0-14-134683-1");
  await expect(page.getByText("This ISBN's check digit does not match")).toBeVisible();
  await expect(page.getByLabel("DOI, PubMed ID or ISBN")).toHaveAttribute("aria-invalid", "true");
});

test("opening an OpenURL link while signed out: sign in, land on the prefilled form", async ({ page }, info) => {
  const p = patronFor(info);
  const openurl =
    "/request?lang=en&url_ver=Z39.88-2004&rft.genre=article&rft.atitle=Life%20is%20pretty%20meaningful&rft.jtitle=American%20Psychologist&rft.date=2014&rft.volume=69";
  await signIn(page, openurl, p.user);
  await expect(page.getByText(`Signed in as ${p.name}`)).toBeVisible();
  await expect(page.getByLabel(/^Article title/)).toHaveValue("Life is pretty meaningful");
  await expect(page.getByLabel(/^Journal title/)).toHaveValue("American Psychologist");
  await expect(page.getByLabel("Year")).toHaveValue("2014");
  await expect(page.getByLabel("Volume")).toHaveValue("69");
  await expectAccessible(page);

  // The language switcher loads the same address in Finnish: the
  // citation from the OpenURL is still there.
  await page.getByRole("link", { name: /^Suomi/ }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "fi");
  await expect(page).toHaveURL(/rft\.atitle=Life/);
  await expect(page.locator('input[name="title"]')).toHaveValue("Life is pretty meaningful");
  await expect(page.locator('input[name="container_title"]')).toHaveValue("American Psychologist");
});

test("nothing overflows at 320 px", async ({ page }, info) => {
  const p = patronFor(info);
  await page.setViewportSize({ width: 320, height: 640 });
  await signIn(page, "/my?lang=fi", p.user);
  for (const path of ["/my?lang=fi", "/request?lang=fi"]) {
    await page.goto(path);
    await hydrated(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
});

test("paste a DOI, the fields fill, submit, see the confirmation and the request", async ({ page }, info) => {
  const p = patronFor(info);
  await signIn(page, "/request?lang=en", p.user);
  // The form is the main module's one island: the page loads no split
  // chunk and not the full chunk loader (scripts/split-loader.mjs), and
  // only the request form's strings (app/locales/parts.json).
  const fetched: string[] = [];
  page.on("request", (r) => fetched.push(r.url()));
  await page.reload();
  await hydrated(page);
  const box = page.getByLabel("DOI, PubMed ID or ISBN");
  await box.fill("https://doi.org/10.1021/ACS.ORGLETT.9B00971");
  await page.getByRole("button", { name: "Fill in" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Filled in from Crossref" })).toBeVisible();
  const title = "A General Copper-Catalyzed Synthesis of Ynamides from 1,2-Dichloroenamides";
  await expect(page.getByLabel(/^Article title/)).toHaveValue(title);
  await expect(page.getByLabel(/^Journal title/)).toHaveValue("Organic Letters");
  await expect(page.getByLabel("Pages")).toHaveValue("2918-2922");
  await expect(page.getByLabel("Authors")).toHaveValue(/^Mansfield, /);
  // The patron can correct anything before sending.
  await page.getByLabel("Note to the interlibrary loan staff").fill("Only the supporting information, please <b>thanks</b>");
  await page.getByLabel(/I declare that the copy/).check();
  await page.getByRole("button", { name: "Send request" }).click();
  const done = page.getByRole("heading", { name: "Request sent" });
  await expect(done).toBeVisible();
  await expect(done).toBeFocused();
  await expect(page.getByText(/^Your request number is \S+\.$/)).toBeVisible();
  await expectAccessible(page);

  // Asking again for the same DOI warns before a second request is made.
  await page.getByRole("button", { name: "Make another request" }).click();
  await page.getByLabel("DOI, PubMed ID or ISBN").fill("10.1021/acs.orglett.9b00971");
  await page.getByLabel("DOI, PubMed ID or ISBN").press("Enter");
  await expect(page.getByRole("heading", { name: "You have already requested this" })).toBeVisible();
  await expect(page.getByText(/ – Submitted – /)).toBeVisible();
  const pkg = fetched.filter((u) => u.includes("/pkg/")).map((u) => new URL(u).pathname);
  expect([...new Set(pkg.filter((u) => /\.wasm$/.test(u)))]).toEqual([expect.stringMatching(/^\/pkg\/kauko\.[^/]*\.wasm$/)]);
  expect(pkg.filter((u) => /\.full\.js$/.test(u)), "the full chunk loader").toEqual([]);
  // The release build gives patrons' pages a module of their own, without
  // the lazy islands (app/src/hydration.rs, Module::Patron): not the one
  // the lending form loads, and no chunk loader at all.
  if (process.env.KAUKO_E2E_PROFILE === "release") {
    expect(pkg.filter((u) => u.includes("__wasm_split")), "the chunk loader").toEqual([]);
    const lend = await (await page.request.get("/lend?lang=en")).text();
    const lendWasm = lend.match(/\/pkg\/kauko\.[^"]*\.wasm/)?.[0];
    expect(lendWasm, "the lending form's module").toBeTruthy();
    expect(pkg, "the patron's module, not the full one").not.toContain(lendWasm);
  }
  expect([...new Set(fetched.filter((u) => u.includes("/i18n/")).map((u) => new URL(u).pathname))]).toEqual(["/i18n/en.request.json"]);

  await page.getByRole("link", { name: "See my requests" }).click();
  await expect(row(page, title).getByText("Submitted")).toBeVisible();
});

test("a DOI Crossref does not know: the patron is told, and a free copy is offered", async ({ page }, info) => {
  const p = patronFor(info);
  await signIn(page, "/request?lang=en", p.user);
  await page.getByLabel("DOI, PubMed ID or ISBN").fill("doi:10.1080/21645515.2017.1330236");
  await page.getByRole("button", { name: "Fill in" }).click();
  await expect(page.getByText("Crossref does not know this identifier")).toBeVisible();
  const oa = page.getByRole("region", { name: "A free copy is available" });
  await expect(oa).toBeVisible();
  await expect(oa.getByRole("link", { name: /Open the free copy/ })).toHaveAttribute("href", /europepmc\.org/);
  await expectAccessible(page);
});
