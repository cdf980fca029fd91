import { test, expect, Browser, Page } from "@playwright/test";
import { logIn, consoleJson } from "./login";
import * as http from "http";

// www's nginx (playwright.config.ts starts it with the shipped config).
const BALANCER_PORT = 8081;
// deploy/demo.toml probes (and looks through the balancer) every 5 s.
const ONE_INTERVAL_MS = 5_000 + 2_000;

/** Asks www's balancer as a user's browser would (Host: www.example.test). */
function throughBalancer(method: string, path = "/checkout"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: BALANCER_PORT, path, method, headers: { host: "www.example.test" } },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

// Guarded actions in Chromium: login, typed confirmation, the two-person rule, what a viewer
// sees, and the Audit page. Each flow runs with JavaScript and again without it: every form is
// plain HTML.

/** A fresh browser context with nobody logged in. */
async function anonymous(browser: Browser, javaScriptEnabled: boolean): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, javaScriptEnabled });
  return context.newPage();
}

async function siteState(baseURL: string, site: string): Promise<boolean> {
  const board = await consoleJson(baseURL, "/api/v1/actions");
  return board.sites.find((s: { name: string }) => s.name === site).maintenance;
}

/** Fills a site's form and submits it. */
async function act(page: Page, site: string, reason: string, message?: string) {
  await page.goto("/actions");
  if (message !== undefined) await page.locator(`#${site}-message`).fill(message);
  await page.locator(`#${site}-reason`).fill(reason);
  await page.locator(`#${site}-confirmation`).fill(site);
  await page.locator(`#${site}-form button[type=submit]`).click();
}

for (const js of [true, false]) {
  const mode = js ? "with JavaScript" : "without JavaScript";

  test(`an anonymous visitor is asked to log in (${mode})`, async ({ browser }) => {
    const page = await anonymous(browser, js);
    const r = await page.goto("/topology");
    expect(r?.status()).toBe(401);
    await page.locator("#login-link").click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    await page.getByLabel("Name").fill("alice");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.locator("#login-error")).toHaveText("Wrong name or password.");
    await page.context().close();
  });

  test(`on-call turns maintenance on and off for web, seen on Actions and Audit (${mode})`, async ({ browser, baseURL }) => {
    const page = await anonymous(browser, js);
    await logIn(page, "alice");
    await expect(page.locator("#who-role")).toHaveText("oncall");

    // A wrong confirmation is refused next to its field and changes nothing.
    await page.goto("/actions");
    await page.locator("#web-message").fill("Back soon: <b>database move</b>");
    await page.locator("#web-reason").fill("primary datacenter unreachable");
    await page.locator("#web-confirmation").fill("www");
    await page.locator("#web-form button[type=submit]").click();
    await expect(page.locator("#web-confirmation-error")).toContainText("type the site's name, web, exactly");
    await expect(page.locator("#web-reason")).toHaveValue("primary datacenter unreachable");
    expect(await siteState(baseURL!, "web")).toBe(false);

    // The preview says what will happen before the click.
    await expect(page.locator("#web-preview")).toContainText("www.example.test and every page under it will answer 503");
    await act(page, "web", "primary datacenter unreachable", "Back soon: <b>database move</b>");
    await expect(page.locator("#notice")).toContainText("maintenance on for web is executed");
    const card = page.locator("#site-web");
    await expect(card).toHaveAttribute("data-maintenance", "on");
    // The message is shown as text, never as markup.
    await expect(card.locator(".maintenance-message")).toHaveText("Back soon: <b>database move</b>");
    expect(await siteState(baseURL!, "web")).toBe(true);
    await expect(page.locator("#requests tr[data-state=executed]").first()).toContainText("alice");

    // Users of www really get the maintenance page from nginx, for every method.
    for (const method of ["GET", "POST", "HEAD"]) {
      const seen = await throughBalancer(method);
      expect(seen.status, method).toBe(503);
      expect(seen.headers["retry-after"], method).toBe("300");
      expect(seen.headers["cache-control"], method).toBe("no-store");
      if (method !== "HEAD") expect(seen.body).toContain("Back soon: &lt;b&gt;database move&lt;/b&gt;");
    }
    // And the console says so: requested = observed.
    await expect(async () => {
      await page.goto("/actions");
      await expect(page.locator("#site-web [data-observed]")).toHaveAttribute("data-observed", "agree", { timeout: 500 });
    }).toPass({ timeout: 2 * ONE_INTERVAL_MS });
    await expect(page.locator("#site-web [data-observed]")).toContainText("users see the maintenance page (answers 503)");

    await page.goto("/audit?action=maintenance_on");
    await expect(page.locator("#audit tbody tr").first()).toHaveAttribute("data-action", "maintenance_on.executed");
    await expect(page.locator("#audit tbody tr").first()).toContainText("primary datacenter unreachable");

    await act(page, "web", "primary is back and healthy");
    await expect(page.locator("#notice")).toContainText("maintenance off for web is executed");
    expect(await siteState(baseURL!, "web")).toBe(false);
    // Served by the web tier again (the lab's web1 answers GET /), with no nginx reload.
    expect((await throughBalancer("GET", "/")).status).toBe(200);

    // Logging out ends the session.
    await page.locator("#logout").click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    expect((await page.goto("/actions"))?.status()).toBe(401);
    await page.context().close();
  });

  test(`api needs a second person: alice asks, carol approves (${mode})`, async ({ browser, baseURL }) => {
    const alice = await anonymous(browser, js);
    const carol = await anonymous(browser, js);
    await logIn(alice, "alice");
    await logIn(carol, "carol");
    await act(alice, "api", "fail over the API while the primary is down", "The API is in maintenance.");
    await expect(alice.locator("#notice")).toContainText("is pending");
    expect(await siteState(baseURL!, "api")).toBe(false);
    const pending = alice.locator("#requests tr[data-state=pending]").first();
    const id = await pending.getAttribute("data-request");
    // The requester cannot approve their own request; the button says why.
    await expect(alice.locator(`#approve-${id}`)).toBeDisabled();
    await expect(pending).toContainText("a different person must approve it");

    await carol.goto("/actions");
    await carol.locator(`#approve-${id}`).click();
    await expect(carol.locator("#notice")).toContainText(`Request ${id}: maintenance on for api is executed`);
    expect(await siteState(baseURL!, "api")).toBe(true);
    // Alice's page shows it executed (live with JavaScript; on her next load without).
    if (!js) await alice.reload();
    await expect(alice.locator(`#requests tr[data-request="${id}"]`)).toHaveAttribute("data-state", "executed", { timeout: 10_000 });

    // Off again, also through the second person.
    await act(carol, "api", "primary is back, API returns to lb1");
    const off = carol.locator("#requests tr[data-state=pending]").first();
    const offId = await off.getAttribute("data-request");
    await alice.goto("/actions");
    await alice.locator(`#approve-${offId}`).click();
    await expect(alice.locator("#notice")).toContainText("maintenance off for api is executed");
    expect(await siteState(baseURL!, "api")).toBe(false);
    await alice.context().close();
    await carol.context().close();
  });

  test(`a viewer sees the controls disabled, with the reason (${mode})`, async ({ browser }) => {
    const page = await anonymous(browser, js);
    await logIn(page, "bob");
    await page.goto("/actions");
    await expect(page.locator("#web-form button[type=submit]")).toBeDisabled();
    await expect(page.locator("#web-reason")).toBeDisabled();
    await expect(page.locator("#web-denied")).toHaveText("viewers cannot change maintenance; ask an on-call");
    await page.context().close();
  });
}
