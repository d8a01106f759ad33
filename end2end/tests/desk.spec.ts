import { test, expect, hydrated, expectAccessible, signIn } from "./fixtures";
import type { Browser, Page, TestInfo } from "@playwright/test";

// The staff desk in the embedded default. The desktop and phone projects
// run at once against one Kauko: each works on its own requests (its own
// patron's new request, its own seeded ones).

const patronOf = (info: TestInfo) => (info.project.name === "phone" ? "bertil" : "aino");

async function newPage(browser: Browser, info: TestInfo): Promise<Page> {
  const context = await browser.newContext({ ...info.project.use });
  return context.newPage();
}

/** The request page's current state (its stored code). */
function state(page: Page) {
  return page.locator("[data-state]").first();
}

/** Takes an action that needs only a click, and waits for its state. */
async function act(page: Page, name: string, expected: string) {
  await page.getByRole("button", { name, exact: true }).click();
  await expect(state(page)).toHaveAttribute("data-state", expected);
}

/** Takes an action behind a disclosure (its fields already prefilled or filled by `fill`). */
async function actWith(page: Page, name: string, expected: string, fill: (form: ReturnType<Page["locator"]>) => Promise<void> = async () => {}) {
  const detail = page.locator("details.action-detail").filter({ has: page.getByText(name, { exact: true }) });
  await detail.locator("summary").click();
  await fill(detail);
  await detail.getByRole("button", { name: "Confirm" }).click();
  await expect(state(page)).toHaveAttribute("data-state", expected);
}

test("staff run a borrowing request from submitted to closed; the patron follows each step and asks to renew", async ({ page, browser }, info) => {
  test.setTimeout(120_000);
  const title = `Desk flow ${info.project.name} ${Date.now()}`;
  // The patron asks for a book.
  await signIn(page, "/request?lang=en", patronOf(info));
  await page.getByLabel("Book", { exact: true }).check();
  await page.getByLabel(/^Book title/).fill(title);
  await page.getByLabel(/^Pickup location/).selectOption({ index: 1 });
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("heading", { name: "Request sent" })).toBeVisible();

  // Staff find it in the queue (search) and open it.
  const staff = await newPage(browser, info);
  await signIn(staff, "/staff/borrowing?lang=en", "staff");
  await expect(staff.getByRole("heading", { level: 1 })).toHaveText("Borrowing requests");
  await expectAccessible(staff);
  await staff.getByLabel(/^Search/).fill(title);
  await staff.getByRole("button", { name: "Filter" }).click();
  await expect(staff).toHaveURL(/q=Desk/);
  await hydrated(staff);
  await staff.getByRole("link", { name: title }).click();
  await expect(staff.getByRole("heading", { name: title })).toBeVisible();
  await hydrated(staff);
  await expect(state(staff)).toHaveAttribute("data-state", "REQUEST_CREATED_BOR");
  const requestUrl = staff.url();
  const id = requestUrl.split("/").pop()!.split("?")[0];

  // Sent to a partner chosen from the list.
  await actWith(staff, "Send to partner", "REQUEST_SENT", async (form) => {
    await form.getByLabel("Partner").selectOption({ label: "Tampereen yliopiston kirjasto (FI-TUNI)" });
  });
  await expectAccessible(staff);

  // The patron's page says it is in process, in their words.
  await page.goto(`/my/${id}?lang=en`);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: title })).toBeVisible();
  const timeline = page.locator("ol.timeline");
  await expect(timeline.getByText("Request received")).toBeVisible();
  await expect(timeline.getByText("In process")).toBeVisible();
  await expect(page.getByText("FI-TUNI")).toHaveCount(0);
  await expectAccessible(page);

  await act(staff, "Partner will supply", "WILL_SUPPLY");
  await act(staff, "Shipped", "SHIPPED_PHYSICALLY");
  // The lender's charge is recorded for the fee ledger (staff only).
  const charge = staff.locator("section").filter({ has: staff.getByRole("heading", { name: "Partner's charge" }) });
  await charge.getByLabel("Amount").fill("abc");
  await charge.getByRole("button", { name: "Record the amount" }).click();
  await expect(charge.getByRole("alert").filter({ hasText: "Give an amount greater than zero" })).toBeVisible();
  await charge.getByLabel("Amount").fill("12,50");
  await charge.getByLabel("Partner's invoice number").fill("INV-7");
  await charge.getByRole("button", { name: "Record the amount" }).click();
  await expect(staff.locator("ol.timeline").getByText("12,50 EUR · INV-7")).toBeVisible();
  await expect(staff.locator("ol.timeline").getByText("Partner's charge recorded")).toBeVisible();
  await expectAccessible(staff);
  await act(staff, "Mark received", "RECEIVED_PHYSICALLY");
  await page.reload();
  await expect(timeline.getByText("Ready for pickup")).toBeVisible();

  await actWith(staff, "Lend to the patron", "LOANED");

  // The patron asks to renew from My requests; the loan waits for the lender.
  await page.goto("/my?lang=en");
  await hydrated(page);
  const loan = page.getByRole("row").filter({ has: page.getByText(title, { exact: true }) }).filter({ has: page.getByRole("button", { name: "Renew" }) });
  await loan.getByRole("button", { name: "Renew" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Renewal asked of the lending library" })).toBeVisible();
  await expect(page.getByText("Renewal asked; waiting for the lending library's answer.")).toBeVisible();

  await staff.reload();
  await hydrated(staff);
  await expect(state(staff)).toHaveAttribute("data-state", "RENEW_REQUESTED");
  await actWith(staff, "Grant renewal", "LOANED");
  await staff.getByLabel("Note", { exact: true }).fill("Muistathan palauttaa ajoissa.");
  await staff.getByLabel(/Show to the patron/).check();
  await staff.getByRole("button", { name: "Add note" }).click();
  await expect(staff.locator("ol.timeline").getByText("Muistathan palauttaa ajoissa.")).toBeVisible();

  await page.goto(`/my/${id}?lang=en`);
  await hydrated(page);
  await expect(timeline.getByText("You asked for a renewal")).toBeVisible();
  await expect(timeline.getByText("Loan renewed")).toBeVisible();
  await expect(timeline.getByText("Muistathan palauttaa ajoissa.")).toBeVisible();
  await expect(page.getByText("INV-7")).toHaveCount(0);

  await act(staff, "Returned by the patron", "RETURNED_BY_PATRON");
  await act(staff, "Return to the partner", "RETURNED_TO_PARTNER");
  await act(staff, "Close", "REQUEST_COMPLETED_BOR");
  await expect(staff.getByText("This request has ended: no actions.")).toBeVisible();
  const history = staff.locator("ol.timeline > li");
  await expect(history).toHaveCount(13);

  // The patron sees it completed, in Finnish too.
  await page.goto(`/my/${id}?lang=fi`);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Vaiheet" })).toBeVisible();
  await expect(page.locator("dd .status")).toHaveText("Valmis");
  await expect(page.getByText("Pyyntö on päättynyt.")).toBeVisible();
  await expectAccessible(page);
  await staff.context().close();
});

test("staff answer another library's lending request", async ({ page }, info) => {
  await signIn(page, "/staff/lending?lang=en", "staff");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Lending requests");
  await expectAccessible(page);
  const phone = info.project.name === "phone";
  // Each project answers its own seeded request.
  const title = phone ? "Life is pretty meaningful" : "Maamme-kirja";
  await page.getByRole("link", { name: title }).click();
  // The request's page (a full page load; its island's code is a lazy chunk).
  await expect(page.getByRole("heading", { level: 2, name: title })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText(phone ? "Oulun yliopiston kirjasto" : "Tampereen yliopiston kirjasto", { exact: true })).toBeVisible();
  await expect(state(page)).toHaveAttribute("data-state", "RequestReceived");
  await act(page, "Accept: will supply", "WillSupply");
  if (phone) {
    // A copy: the link is required and must be a web address.
    const detail = page.locator("details.action-detail").filter({ has: page.getByText("Send a copy", { exact: true }) });
    await detail.locator("summary").click();
    await detail.getByLabel("Link to the copy").fill("not a link");
    await detail.getByRole("button", { name: "Confirm" }).click();
    await expect(detail.getByText("Give a link starting with https://")).toBeVisible();
    // Sent as a file instead: a plain form post that comes back here.
    await detail.getByLabel("The copy (PDF or image)").setInputFiles({
      name: "Artikkeli.pdf",
      mimeType: "application/pdf",
      buffer: Buffer.from("%PDF-1.4\n1 0 obj << >> endobj\ntrailer\n%%EOF\n"),
    });
    await detail.getByRole("button", { name: "Send the file" }).click();
    await expect(page.getByRole("status").filter({ hasText: "The copy was sent" })).toBeVisible();
    await expect(state(page)).toHaveAttribute("data-state", "CopyCompleted");
    // The download link is in the history, and the library can fetch it.
    const link = await page.locator(".timeline__note").filter({ hasText: "/copies/" }).last().textContent();
    const url = link!.trim().split(/\s+/).find((w) => w.includes("/copies/"))!;
    const file = await page.request.get(url, { headers: { cookie: "" } });
    expect(file.status()).toBe(200);
    expect(file.headers()["content-disposition"]).toContain("attachment");
    expect((await file.body()).toString()).toContain("%PDF-1.4");
  } else {
    await actWith(page, "Ship the loan", "Loaned");
    await act(page, "Returned", "LoanCompleted");
  }
  await expectAccessible(page);
  // In Finnish.
  await page.goto(page.url().split("?")[0] + "?lang=fi");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Historia" })).toBeVisible();
});

test("two staff members act on one request at once: the second is told what changed", async ({ page, browser }, info) => {
  // Two browsers, two sign-ins.
  test.setTimeout(60_000);
  const phone = info.project.name === "phone";
  // Seeded requests no other test moves: one per project.
  const title = phone ? "Sources of the self: the making of the modern identity" : "Suomen kielen historia";
  const first = phone ? ["Partner will supply", "WILL_SUPPLY"] : ["Return to the partner", "RETURNED_TO_PARTNER"];
  await signIn(page, "/staff/borrowing?lang=en", "staff");
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByRole("heading", { level: 2, name: title })).toBeVisible();
  await hydrated(page);
  const other = await newPage(browser, info);
  await signIn(other, "/staff/borrowing?lang=en", "staff2");
  await other.getByRole("link", { name: title }).click();
  await expect(other.getByRole("heading", { level: 2, name: title })).toBeVisible();
  await hydrated(other);

  await act(page, first[0], first[1]);
  // The second acts on what their page showed: refused, told what changed.
  await other.getByRole("button", { name: first[0], exact: true }).click();
  const alert = other.getByRole("alert").filter({ hasText: "Someone changed this request meanwhile" });
  await expect(alert).toBeVisible();
  await expect(alert.getByText("liisa.staff")).toBeVisible();
  await expect(state(other)).toHaveAttribute("data-state", first[1]);
  await expectAccessible(other);
  // One change, one event.
  await page.reload();
  await hydrated(page);
  await expect(page.locator("ol.timeline > li").filter({ hasText: first[0] })).toHaveCount(1);
  await other.context().close();
});
