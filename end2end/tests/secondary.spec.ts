import { test, expect, Browser, Page } from "@playwright/test";
import { csrfIn } from "./login";
import * as http from "http";
import { execFileSync } from "child_process";
import * as fs from "fs";

// The read-only secondary in Chromium, against scripts/regions.sh (started by
// playwright.config.ts): sin-1 on Singapore's streaming standby of the control store, sjc-1 on
// the primary, Singapore's nginx with the shipped config. Each flow runs with JavaScript and
// without it.
export const SJC = "http://127.0.0.1:3400";
export const SIN = "http://127.0.0.1:3401";
export const SIN_NGINX_PORT = 8082;

/** Asks Singapore's balancer for www, as a user's browser would. */
function wwwInSingapore(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: SIN_NGINX_PORT, path: "/", method: "GET", headers: { host: "www.example.test" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Stops or starts San Jose's control database (scripts/regions.sh builds it under
 * end2end/.run-regions): the primary region's database lost, then back. */
function primaryDatabase(action: "stop" | "start") {
  const pgBin = fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b)).pop();
  const pgCtl = `/usr/lib/postgresql/${pgBin}/bin/pg_ctl`;
  // A link to the clusters' own directory, which postgres can enter (scripts/regions.sh).
  const dir = fs.realpathSync(`${process.cwd()}/.run-regions/pg`);
  const args = action === "stop" ? ["-D", `${dir}/primary`, "-m", "fast", "-w", "stop"] : ["-D", `${dir}/primary`, "-l", `${dir}/primary.log`, "-w", "start"];
  const asRoot = process.getuid?.() === 0;
  execFileSync(asRoot ? "runuser" : pgCtl, asRoot ? ["-u", "postgres", "--", pgCtl, ...args] : args, { stdio: "ignore" });
}

/** alice, logged in at `base` through the form, in a fresh context. */
async function aliceAt(browser: Browser, base: string, javaScriptEnabled: boolean): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, javaScriptEnabled, baseURL: base });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Name").fill("alice");
  await page.getByLabel("Password").fill("alice-oncall");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#who-name")).toHaveText("alice");
  return page;
}

for (const js of [true, false]) {
  const mode = js ? "with JavaScript" : "without JavaScript";

  test(`a secondary says so on every page and refuses an ordinary write (${mode})`, async ({ browser }) => {
    const page = await aliceAt(browser, SIN, js);
    for (const path of ["/", "/topology", "/replication", "/actions", "/audit"]) {
      const r = await page.goto(path);
      expect(r?.status(), path).toBe(200);
      const banner = page.locator("#read-only-notice");
      await expect(banner).toContainText("read-only replica");
      await expect(banner).toContainText("This is a replica of a healthy primary, db-sjc.");
      await expect(banner).toContainText("Replica lag:");
      await expect(page.locator("#instance-banner [data-mode]")).toHaveAttribute("data-mode", "secondary");
    }
    // The peers table: Singapore reaches San Jose, and compares what each region sees.
    await page.goto("/topology");
    await expect(page.locator('#peer-table tr[data-peer="sjc-1"]')).toHaveAttribute("data-reachable", "true");
    await expect(page.locator("#vantage-hostnames thead")).toContainText("Singapore (sin-1)");
    await expect(page.locator("#vantage-hostnames thead")).toContainText("San Jose (sjc-1)");

    // The Actions page offers break-glass only, and says why.
    await page.goto("/actions");
    await expect(page.locator("#web-form button[type=submit]")).toContainText("Break glass");
    await expect(page.locator("#web-form")).toHaveAttribute("action", "/actions/break-glass");

    // An ordinary write, as a form from this session, is refused in front of the routes.
    const csrf = csrfIn(await page.content());
    const r = await page.request.post("/actions", {
      form: { csrf, kind: "maintenance_on", site: "web", reason: "r", confirmation: "web", message: "m", idempotency_key: `refused-${js}` },
      headers: { accept: "text/html" },
      maxRedirects: 0,
    });
    expect(r.status()).toBe(503);
    expect(r.headers()["retry-after"]).toBe("30");
    expect(await r.text()).toContain("This instance is a read-only secondary");
    await page.context().close();
  });

  test(`break-glass is closed while the primary answers, opens when it is lost: Singapore's nginx serves it, the primary gets it once (${mode})`, async ({ browser }) => {
    const page = await aliceAt(browser, SIN, js);
    await page.goto("/actions");
    // The primary answers: one on-call on a secondary cannot go around it.
    const denied = page.locator("#web-denied");
    await expect(denied).toContainText("Break-glass is closed: the primary db-sjc accepts writes");
    await expect(denied).toContainText(`${SJC}/actions`);
    await expect(page.locator("#web-form button[type=submit]")).toBeDisabled();

    // San Jose's database is lost: after break_glass_after_seconds the form opens.
    primaryDatabase("stop");
    try {
      await expect
        .poll(
          async () => {
            await page.goto("/actions");
            return page.locator("#web-form button[type=submit]").isEnabled();
          },
          { timeout: 20_000 },
        )
        .toBe(true);
      const card = page.locator("#site-web");
      const on = (await card.getAttribute("data-maintenance")) === "on";
      if (!on) await page.locator("#web-message").fill(`Back soon (${mode}).`);
      await page.locator("#web-reason").fill(`primary unreachable drill (${mode})`);
      await page.locator("#web-confirmation").fill("web");
      await page.locator("#web-form button[type=submit]").click();
      await expect(page.locator("#notice")).toContainText("Break-glass");
      await expect(page.locator("#notice")).toContainText("pending replay");
      // This region's edge, at once.
      await expect.poll(wwwInSingapore, { timeout: 5_000 }).toBe(on ? 502 : 503);
    } finally {
      primaryDatabase("start");
    }
    const on = (await page.locator("#site-web").getAttribute("data-maintenance")) !== "on";

    // The primary answers, so the journal is replayed into it within an interval or two, and
    // its Audit page says where and when it really happened.
    const primary = await aliceAt(browser, SJC, js);
    const kind = on ? "maintenance_off" : "maintenance_on";
    await expect
      .poll(
        async () => {
          await primary.goto(`/audit?action=${kind}`);
          return primary.locator("table.audit tbody tr", { hasText: `primary unreachable drill (${mode})` }).count();
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    await expect(primary.locator("table.audit tbody tr", { hasText: `primary unreachable drill (${mode})` })).toContainText("break-glass on sin-1");
    // Singapore's Actions page says what became of it.
    await expect
      .poll(
        async () => {
          await page.goto("/actions");
          return page.locator("#break-glass tbody tr", { hasText: `primary unreachable drill (${mode})` }).getAttribute("data-outcome");
        },
        { timeout: 10_000 },
      )
      .toBe("replayed");
    // Once only, however often the secondary looks again.
    await primary.waitForTimeout(2_500);
    await primary.reload();
    await expect(primary.locator("table.audit tbody tr", { hasText: `primary unreachable drill (${mode})` })).toHaveCount(1);
    await page.context().close();
    await primary.context().close();
  });
}
