import { test, expect, chromium, Browser, BrowserContextOptions, Page } from "@playwright/test";
import * as path from "path";
import { logIn } from "./login";

// The public status page as the public gets it: written by the console into its edge
// directory, served by www's nginx (the shipped config's status.example.test server), read in
// Chromium with and without JavaScript, in dark mode, on a phone, and checked by axe-core.
const BALANCER_PORT = 8081;
const STATUS_URL = `http://status.example.test:${BALANCER_PORT}/`;
// The console under test (playwright.config.ts).
const CONSOLE = "http://127.0.0.1:3300";
const AXE = path.join(__dirname, "..", "node_modules", "axe-core", "axe.min.js");
// deploy/demo.toml probes every 5 s: a component is judged after two of three rounds agree, and
// a test before may have left DNS settling back (the lab's cache keeps answers up to 10 s).
const ROUNDS_MS = 3 * 5_000 + 10_000 + 2_000 + 15_000;

test.describe.configure({ timeout: 120_000 });

let browser: Browser;

test.beforeAll(async () => {
  // The page's own hostname, resolved to the balancer on loopback (nginx picks the server by Host).
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP status.example.test 127.0.0.1"],
  });
});

test.afterAll(async () => {
  await browser.close();
});

async function open(options: BrowserContextOptions = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  // Until the lab's first rounds have judged the Website component.
  await expect(async () => {
    await page.goto(STATUS_URL);
    await expect(page.locator("li[data-status]").filter({ hasText: "Website" })).toHaveAttribute("data-status", "operational", {
      timeout: 500,
    });
  }).toPass({ timeout: ROUNDS_MS });
  return { context, page };
}

test("without JavaScript the page says what is up, as of when and from where", async () => {
  const { context, page } = await open({ javaScriptEnabled: false });
  await expect(page.locator("h1")).toHaveText("Example status");
  await expect(page.locator("li[data-status] .name")).toHaveText(["Website", "API", "Data freshness", "Support desk"]);
  await expect(page.locator("li[data-status]").filter({ hasText: "Website" }).locator(".word")).toHaveText("Operational");
  await expect(page.locator("footer")).toContainText("from San Jose (sjc-1)");
  await expect(page.locator("#stale")).toBeHidden();
  // Through the browser (the page's hostname resolves only there).
  const summary = (await page.goto(`${STATUS_URL}api/v2/summary.json`))!;
  expect(summary.headers()["content-type"]).toBe("application/json");
  const json = JSON.parse(await summary.text());
  expect(json.page.name).toBe("Example status");
  expect(json.components.map((c: any) => c.name)).toEqual(["Public", "Website", "API", "Data freshness", "Support desk"]);
  await context.close();
});

test("a page older than its limit turns every component unknown by the reader's clock", async () => {
  const { context, page } = await open();
  // An hour later, the same page (nginx keeps serving it after every console has died).
  await page.clock.setFixedTime(Date.now() + 3_600_000);
  await page.reload();
  await expect(page.locator("#stale")).toBeVisible();
  const words = await page.locator("li[data-status] .word").allTextContents();
  expect(words).toEqual(["Status unknown", "Status unknown", "Status unknown", "Status unknown"]);
  await expect(page.locator("li[data-status='operational']")).toHaveCount(0);
  await context.close();
});

for (const scheme of ["light", "dark"] as const) {
  test(`no WCAG 2 AA violations in ${scheme} mode, and nothing sideways at 390 px`, async () => {
    // axe is a script of the test's own: the page's CSP (rightly) allows only its own.
    const { context, page } = await open({ colorScheme: scheme, viewport: { width: 390, height: 844 }, bypassCSP: true });
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(async () => {
      const axe = (window as any).axe;
      return await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    });
    expect(result.violations.map((v: any) => `${v.id}: ${v.help}`)).toEqual([]);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(wide).toBeLessThanOrEqual(390);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe(scheme === "dark" ? "rgb(18, 18, 18)" : "rgb(250, 250, 250)");
    await context.close();
  });
}

async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    const axe = (window as any).axe;
    return await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
  });
  return result.violations.map((v: any) => `${v.id}: ${v.help}`);
}

test("an incident posted on the console without JavaScript is told on the public page until resolved", async () => {
  // On-call, in a browser without JavaScript, on the console's Incidents page.
  const console_ = await browser.newContext({ javaScriptEnabled: false, baseURL: CONSOLE });
  const oncall = await console_.newPage();
  await logIn(oncall, "alice");
  await oncall.goto("/incidents");
  await oncall.locator("#new-title").fill("Support mail is not answered");
  await oncall.getByLabel("Support desk").check();
  await oncall.locator("#new-state").selectOption("identified");
  await oncall.locator("#new-impact").selectOption("partial_outage");
  await oncall.locator("#new-body").fill("Mail to support@example.test queues; we are moving it to the Amsterdam relay.");
  await oncall.locator("#new-submit").click();
  await expect(oncall.locator("#notice")).toContainText("Posted: Identified");
  const card = oncall.locator("section.incident").filter({ hasText: "Support mail is not answered" });
  await expect(card).toHaveAttribute("data-state", "identified");

  // The public reads it, with and without JavaScript, within a probe interval.
  for (const javaScriptEnabled of [false, true]) {
    const { context, page } = await open({ javaScriptEnabled, colorScheme: "dark", viewport: { width: 390, height: 844 }, bypassCSP: true });
    await expect(async () => {
      await page.goto(STATUS_URL);
      await expect(page.locator("#active article.incident h3")).toHaveText("Support mail is not answered", { timeout: 500 });
    }).toPass({ timeout: 20_000 });
    await expect(page.locator("li[data-status]").filter({ hasText: "Support desk" })).toHaveAttribute("data-status", "partial_outage");
    await expect(page.locator("#active .updates li").first()).toContainText("moving it to the Amsterdam relay");
    if (javaScriptEnabled) {
      expect(await axeViolations(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    }
    const feed = (await page.goto(`${STATUS_URL}history.atom`))!;
    expect(feed.headers()["content-type"]).toBe("application/atom+xml");
    expect(await feed.text()).toContain("<title>[Identified] Support mail is not answered</title>");
    await context.close();
  }

  // Resolved from the incident's own form: the public page moves it to the past.
  await card.locator("select[name=state]").selectOption("resolved");
  await card.locator("textarea[name=body]").fill("Mail flows again.");
  await card.getByRole("button", { name: "Post update" }).click();
  await expect(oncall.locator("#notice")).toContainText("Posted: Resolved");
  const { context, page } = await open({ javaScriptEnabled: false });
  await expect(async () => {
    await page.goto(STATUS_URL);
    await expect(page.locator("#past article.incident h3")).toHaveText("Support mail is not answered", { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator("#active")).toHaveCount(0);
  await expect(page.locator("li[data-status]").filter({ hasText: "Support desk" })).toHaveAttribute("data-status", "operational");
  await context.close();
  await console_.close();
});
