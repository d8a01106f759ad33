import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Page } from "@playwright/test";

// A second Kauko runs on the Alma adapter against the Alma API simulator
// (`kauko alma-sim --demo`, see scripts/serve-e2e.sh): the patron sees,
// renews and cancels what "Alma" holds, and the simulator's state shows it.
const simPort = Number(process.env.KAUKO_E2E_ALMA_SIM_PORT ?? 3940);
const sim = `http://127.0.0.1:${simPort}`;

function row(page: Page, title: RegExp) {
  return page.getByRole("row").filter({ has: page.getByText(title) });
}

// One simulator for the whole file, and the last test breaks it on
// purpose: run these one after another.
test.describe.configure({ mode: "serial" });

async function setFault(page: Page, fault: string) {
  const res = await page.request.put(`${sim}/sim/fault`, { data: { fault } });
  expect(res.ok()).toBeTruthy();
}

async function simState(page: Page) {
  const res = await page.request.get(`${sim}/sim/state`);
  expect(res.ok()).toBeTruthy();
  return res.json();
}

test("My requests from Alma: statuses, renew and cancel reach the library system", async ({ page }) => {
  await signIn(page, "/my?lang=en", "aino");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("My requests");
  // Requests placed in Alma, found through the patron's user requests.
  const created = row(page, /^Sources of the self : the making of the modern identity/);
  const shipped = row(page, /^Kalevala : the land of heroes/);
  await expect(created.getByText("Submitted")).toBeVisible();
  await expect(shipped.getByText("On its way")).toBeVisible();
  await expect(shipped.getByRole("button", { name: "Cancel request" })).toHaveCount(0);
  await expect(row(page, /^The particle play/).getByText("Cancelled")).toBeVisible();
  // Loans: one renewable, one the lender does not let renew.
  const fixed = row(page, /^Rare maps of the Baltic/);
  await expect(fixed.getByText(/does not allow renewing/)).toBeVisible();
  await expectAccessible(page);

  const loan = row(page, /^Seitsemän veljestä/);
  await loan.getByRole("button", { name: "Renew" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Loan renewed. The new due date is" })).toBeVisible();

  await created.getByRole("button", { name: "Cancel request" }).click();
  await created.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Request cancelled." })).toBeVisible();
  await expect(row(page, /^Sources of the self/).getByText("Cancelled")).toBeVisible();

  // The library system has it: cancelled there, the loan's due date moved.
  const state = await simState(page);
  const request = state.rs_requests.find((r: any) => r.title.startsWith("Sources of the self"));
  expect(request.status.value).toBe("CANCELED_BY_PATRON");
  const renewed = state.loans.find((l: any) => l.title === "Seitsemän veljestä");
  expect(new Date(renewed.due_date).getTime()).toBeGreaterThan(Date.now() + 21 * 24 * 3600 * 1000);
});

test("a change made in Alma behind Kauko's back arrives on My requests without a reload", async ({ page }) => {
  await signIn(page, "/my?lang=en", "aino");
  const kalevala = row(page, /^Kalevala : the land of heroes/);
  await expect(kalevala.getByText("On its way")).toBeVisible();
  // Alma staff receive the book (the simulator's control API).
  const request = (await simState(page)).rs_requests.find((r: any) => r.title.startsWith("Kalevala"));
  const moved = await page.request.post(`${sim}/sim/rs-requests/${request.request_id}/status`, {
    data: { status: "RECEIVED_PHYSICALLY" },
  });
  expect(moved.ok()).toBeTruthy();

  // The server renders Kauko's mirror at once, saying how old it is...
  const html = await (await page.request.get("/my?lang=en")).text();
  expect(html).toContain("Updated 0 minutes ago");
  // ... and the page asks Alma again and shows the change in place.
  await page.goto("/my?lang=en");
  await hydrated(page);
  await expect(kalevala.getByText("Ready for pickup")).toBeVisible();
  await expect(page.getByText(/^Updated \d+ minutes ago/)).toHaveCount(0);
  await expectAccessible(page);
});

test("a request sent from Kauko is created in Alma and shown in My requests", async ({ page }) => {
  await signIn(page, "/request?lang=en", "bertil");
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByLabel(/^Book title/).fill("Alma path demonstration");
  await page.getByLabel(/^Authors/).fill("Kauko, Testi");
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: /Request sent|received/i })).toBeVisible({ timeout: 20_000 });

  const state = await simState(page);
  const inAlma = state.rs_requests.filter((r: any) => r.title === "Alma path demonstration");
  expect(inAlma).toHaveLength(1);
  expect(inAlma[0].user_id).toBe("bertil.lind");

  await page.goto("/my?lang=en");
  await expect(row(page, /^Alma path demonstration/).getByText("Submitted")).toBeVisible();
});

test("another library's request from the lending form is created in Alma as a lending request", async ({ page }) => {
  const title = "Nordic interlending statistics 2026";
  await page.goto("/lend?lang=en");
  await hydrated(page);
  await page.getByLabel(/^Library name/).fill("Kungliga biblioteket");
  await page.getByLabel(/^ISIL or partner code/).fill("NLSE");
  await page.getByLabel(/^E-mail/).fill("fjarrlan@kb.example.se");
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByLabel(/^Book title/).fill(title);
  await page.getByLabel("Loan", { exact: true }).check();
  await page.getByLabel("By post", { exact: true }).check();
  await page.getByLabel(/^Delivery address/).fill("Box 5039\n102 41 Stockholm");
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: "Thank you, request received" })).toBeFocused();
  await expect(page.getByText("The request is in our library system")).toBeVisible();

  // In "Alma": one lending request of partner NLSE with Kauko's external id.
  const lending = (await simState(page)).lending_requests.filter((r: { title?: string }) => r.title === title);
  expect(lending).toHaveLength(1);
  expect(lending[0].partner.value).toBe("NLSE");
  expect(lending[0].external_id).toMatch(/\S/);
});

test("while Alma is down a request waits in the outbox; staff see why and retry it", async ({ page, browser }) => {
  const title = "Waiting for Alma to come back";
  await setFault(page, "unavailable");
  const staff = await (await browser.newContext()).newPage();
  try {
    await signIn(page, "/request?lang=en", "aino");
    await page.getByLabel("Book", { exact: true }).check();
    await page.getByLabel(/^Book title/).fill(title);
    await page.getByRole("button", { name: "Send request" }).click();
    await expect(page.getByRole("heading", { name: "Request received" })).toBeVisible({ timeout: 20_000 });
    await page.goto("/my?lang=en");
    await expect(row(page, new RegExp(`^${title}`)).getByText("Received, being forwarded")).toBeVisible();

    await signIn(staff, "/staff/outbox?lang=en", "staff");
    await expect(staff.getByRole("heading", { level: 1 })).toHaveText("Delivery queue");
    const queued = staff.getByRole("row").filter({ hasText: title });
    await expect(queued).toBeVisible();
    await expect(queued.locator(".outbox-error")).not.toHaveText("–");
    await expectAccessible(staff);
  } finally {
    await setFault(page, "none");
  }

  // Alma is back: staff do not wait for the next automatic try.
  await staff.getByRole("row").filter({ hasText: title }).getByRole("button", { name: /^Retry now/ }).click();
  await expect(staff.getByRole("status").filter({ hasText: "A new try has started." })).toBeVisible();
  await expect
    .poll(async () => (await simState(page)).rs_requests.filter((r: any) => r.title === title).length, { timeout: 15_000 })
    .toBe(1);
  await page.goto("/my?lang=en");
  await expect(row(page, new RegExp(`^${title}`)).getByText("Submitted")).toBeVisible();
  await staff.context().close();
});
