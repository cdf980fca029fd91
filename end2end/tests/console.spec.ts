import { test, expect, Page, ConsoleMessage } from "@playwright/test";
import { consoleJson } from "./login";

// The lab's control API, from deploy/demo.toml.
const LAB = "http://127.0.0.1:3100";
// deploy/demo.toml probes every 5 s; one interval plus time for the round and the push.
const ONE_INTERVAL_MS = 5_000 + 2_000;
// A host's shown health is damped like DNS: it changes after two of three rounds agree.
const HOST_SETTLE_MS = 3 * 5_000 + 2_000;
// A DNS change settles once the lab's cache (unbound, answers kept at most 10 s) lets go and two
// of three rounds agree.
const DNS_SETTLE_MS = 3 * 5_000 + 10_000 + 2_000;
// The island's watchdog: a stream silent this long is dead (3 heartbeats of 5 s), plus a margin.
const WATCHDOG_SILENCE_MS = 15_000 + 3_000;

const PAGES: [string, string][] = [
  ["/", "Overview"],
  ["/topology", "Topology"],
  ["/dns", "DNS"],
  ["/replication", "Replication"],
  ["/backlog", "Backlog"],
  ["/alerts", "Alerts"],
  ["/silences", "Silences and acknowledgements"],
  ["/actions", "Actions"],
  ["/audit", "Audit"],
];

async function setHost(host: string, state: "up" | "down" | "hang" | "error") {
  const r = await fetch(`${LAB}/lab/hosts/${host}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ state }),
  });
  expect(r.status).toBe(200);
}

/** Errors the page logs or fetches; hydration mismatches, panics and missing assets show up here. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Status of a host as the console reports it over its JSON API. */
async function hostStatus(baseURL: string, host: string): Promise<string | undefined> {
  const topology = await consoleJson(baseURL, "/api/v1/topology");
  for (const region of topology.regions) {
    for (const h of region.hosts) if (h.name === host) return h.health.status;
  }
  return undefined;
}

// Leave the estate as found: hosts back up and probed ok before the next test starts.
test.afterEach(async ({ baseURL }) => {
  for (const host of ["lb1", "lb2"]) await setHost(host, "up");
  for (const host of ["lb1", "lb2"]) {
    await expect.poll(() => hostStatus(baseURL!, host), { timeout: HOST_SETTLE_MS }).toBe("ok");
  }
});

for (const [path, heading] of PAGES) {
  test(`${path} renders, hydrates and goes live`, async ({ page }) => {
    const errors = collectErrors(page);
    const response = await page.goto(path);
    expect(response?.status()).toBe(200);
    await expect(page.locator("h1")).toHaveText(heading);
    const banner = page.locator("#instance-banner");
    await expect(banner).toContainText("sjc-1");
    await expect(banner).toContainText("San Jose");
    await expect(banner).toContainText("primary");
    // The live marker only changes once the wasm bundle hydrated and the event stream delivered.
    await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
    expect(errors).toEqual([]);
  });
}

test("topology shows a host going down after two of three rounds, without reload", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto("/topology");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const row = page.locator('#hosts tr[data-host="lb2"]');
  await expect(row).toHaveAttribute("data-status", "ok", { timeout: HOST_SETTLE_MS });
  // A marker on window survives only if the page is not reloaded.
  await page.evaluate(() => ((window as any).__noReload = true));

  await setHost("lb2", "down");
  // One failed round is shown as the latest check, not yet as the host's status.
  await expect(row).toContainText("still ok until rounds agree; latest check critical: connection refused", { timeout: ONE_INTERVAL_MS });
  await expect(row).toHaveAttribute("data-status", "ok");
  await expect(row).toHaveAttribute("data-status", "critical", { timeout: HOST_SETTLE_MS });
  await expect(row).toContainText("connection refused");
  await expect(page.locator('svg g.host[data-host="lb2"]')).toHaveAttribute("data-status", "critical");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  await setHost("lb2", "up");
  await expect(row).toHaveAttribute("data-status", "ok", { timeout: HOST_SETTLE_MS });
  expect(errors).toEqual([]);
});

test("overview's health area follows the live stream", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const health = page.locator('li[data-area="health"]');
  await expect(health).toHaveClass(/status-ok/, { timeout: HOST_SETTLE_MS });
  await setHost("lb1", "down");
  await expect(health).toHaveClass(/status-critical/, { timeout: HOST_SETTLE_MS });
  await expect(health).toContainText("1 critical");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("every page is complete and navigation works", async ({ page }) => {
    await page.goto("/topology");
    await expect(page.locator("h1")).toHaveText("Topology");
    await expect(page.locator("#hosts tbody tr")).toHaveCount(17);
    await expect(page.locator('#hosts tr[data-host="lb1"] td').nth(2)).toHaveText("ok");
    await expect(page.locator("svg g.host")).toHaveCount(17);
    // Host filters are a plain GET form too: exactly the hosts of a status, as many as counted.
    await page.locator('select[name="status"]').selectOption("ok");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/\/topology\?status=ok/);
    const okHosts = Number(await page.locator('#host-counts li[data-count="ok"] strong').textContent());
    expect(okHosts).toBeGreaterThan(0);
    await expect(page.locator("#hosts tbody tr")).toHaveCount(okHosts);
    await expect(page.locator('#hosts tbody tr:not([data-status="ok"])')).toHaveCount(0);
    await expect(page.locator("#hosts-shown")).toContainText(`Showing ${okHosts} of ${okHosts} matching (17 hosts)`);
    // The banner says the page is as rendered, not live.
    await expect(page.locator("#live-link")).toHaveText("as rendered");
    // Plain links navigate by full page loads.
    const nav = page.getByRole("navigation", { name: "Pages" });
    await nav.getByRole("link", { name: "Overview", exact: true }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.locator("h1")).toHaveText("Overview");
    // The summary counts the demo's 17 hosts, whatever their state.
    await expect(page.locator('li[data-area="health"]')).toContainText(/All 17 hosts answer their checks|of 17 hosts: /);
    await nav.getByRole("link", { name: "DNS", exact: true }).click();
    await expect(page.locator("h1")).toHaveText("DNS");
    await expect(page.locator('#records tr[data-record="www.example.test. A"]')).toBeVisible();
    // Filters are a plain GET form: a status that holds shows exactly its records, one that
    // does not shows none, and says so.
    await page.locator('select[name="status"]').selectOption("ok");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/status=ok/);
    const okCount = Number(await page.locator('#dns-counts li[data-count="ok"] strong').textContent());
    expect(okCount).toBeGreaterThan(0);
    await expect(page.locator("#records tbody tr")).toHaveCount(okCount);
    await expect(page.locator('#records tbody tr:not([data-dns-status="ok"])')).toHaveCount(0);
    await page.locator('select[name="status"]').selectOption("missing");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/status=missing/);
    await expect(page.locator("#records tbody tr")).toHaveCount(0);
    await expect(page.locator("p.lede")).toContainText("Showing 0 of 0 matching");
    // Replication and backlog render complete: every node and loader, with units.
    await nav.getByRole("link", { name: "Replication", exact: true }).click();
    await expect(page.locator('tr[data-node="db-sin"]')).toBeVisible();
    await expect(page.locator('tr[data-node="db-ams"]')).toBeVisible();
    await nav.getByRole("link", { name: "Backlog", exact: true }).click();
    await expect(page.locator("#loaders tbody tr")).toHaveCount(3);
    await expect(page.locator('tr[data-loader="loader-sin"]')).toContainText("/s");
    await nav.getByRole("link", { name: "Overview", exact: true }).click();
    // The verdict is rendered, with its reasons, not just the box's heading.
    await expect(page.locator("#fail-back")).toHaveAttribute("data-safe", /^(true|false)$/);
    expect(await page.locator("#fail-back .reasons li").count()).toBeGreaterThan(0);
  });
});

test("a broken event stream says so in the banner and the page keeps its last state", async ({ page }) => {
  // Every attempt to open the stream fails, as it would with the console unreachable.
  await page.route("**/api/v1/events**", (route) => route.abort());
  await page.goto("/topology");
  await expect(page.locator("#live-link")).toHaveText("reconnecting…", { timeout: ONE_INTERVAL_MS });
  await expect(page.locator("#hosts tbody tr")).toHaveCount(17);
  await expect(page.locator('#hosts tr[data-host="lb1"]')).toHaveAttribute("data-status", "ok");
});

test("after the stream breaks, the banner says so and the page catches up when it is back", async ({ page, context, baseURL }) => {
  await page.goto("/topology");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const row = page.locator('#hosts tr[data-host="lb2"]');
  await expect(row).toHaveAttribute("data-status", "ok");
  await page.evaluate(() => ((window as any).__noReload = true));
  await context.setOffline(true);
  // Chromium may keep an EventSource "open" when the network goes away (no reset arrives), so
  // the island's watchdog is what notices: it calls a stream dead after 15 s of silence
  // (SILENT_TICKS in app/src/live.rs). Wait for that, not for one probe interval.
  await expect(page.locator("#live-link")).toHaveText("reconnecting…", { timeout: WATCHDOG_SILENCE_MS });
  // lb2 goes down while the browser cannot hear about it.
  await setHost("lb2", "down");
  await expect.poll(() => hostStatus(baseURL!, "lb2"), { timeout: HOST_SETTLE_MS }).toBe("critical");
  await expect(row).toHaveAttribute("data-status", "ok");
  await context.setOffline(false);
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  await expect(row).toHaveAttribute("data-status", "critical", { timeout: HOST_SETTLE_MS });
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test("navigation is usable from the keyboard", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const nav = page.getByRole("navigation", { name: "Pages" });
  const topology = nav.getByRole("link", { name: "Topology", exact: true });
  await topology.focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("h1")).toHaveText("Topology");
  await expect(nav.getByRole("link", { name: "Topology", exact: true })).toHaveAttribute("aria-current", "page");
});

async function setRecord(name: string, values: string[] | null, ttl = 60) {
  const r = values
    ? await fetch(`${LAB}/lab/records/${name}/A`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ttl, values }),
      })
    : await fetch(`${LAB}/lab/records/${name}/A`, { method: "DELETE" });
  expect(r.status).toBe(200);
}

test("repointing www to lb1 raises the wrong-tier alarm without reload", async ({ page, baseURL }) => {
  const errors = collectErrors(page);
  await page.goto("/dns");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const www = page.locator('#records tr[data-record="www.example.test. A"]');
  await expect(www).toHaveAttribute("data-dns-status", "ok", { timeout: DNS_SETTLE_MS });
  await page.evaluate(() => ((window as any).__noReload = true));
  try {
    await setRecord("www", ["127.0.1.1"]);
    // The latest round shows it within one interval; the alarm holds after two of three rounds.
    await expect(www).toContainText("latest round: wrong_tier", { timeout: ONE_INTERVAL_MS });
    await expect(www).toHaveAttribute("data-dns-status", "wrong_tier", { timeout: ONE_INTERVAL_MS });
    await expect(www).toContainText("lb1 · api_lb · San Jose");
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

    // The topology page says where www lands, loudly.
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Topology", exact: true }).click();
    const host = page.locator('tr[data-hostname="www.example.test"]');
    await expect(host).toContainText("WRONG TIER");
    await expect(host).toContainText("lb1 · api_lb · San Jose");
  } finally {
    await setRecord("www", ["127.0.1.2"]);
  }
  await expect
    .poll(async () => {
      const dns = await consoleJson(baseURL!, "/api/v1/dns");
      return dns.records.find((r: any) => r.name === "www.example.test." && r.kind === "A").status;
    }, { timeout: DNS_SETTLE_MS })
    .toBe("ok");
  expect(errors).toEqual([]);
});

test("a live refresh leaves the filter form alone, with what is being typed and the focus", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto("/dns?status=ok");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const rendered = await page.locator("#main").getAttribute("data-generation");
  const name = page.locator('input[name="name"]');
  await name.fill("ww");
  // The next round refreshes the records in place (the page's generation moves)...
  await expect(page.locator("#main")).not.toHaveAttribute("data-generation", rendered!, { timeout: 2 * ONE_INTERVAL_MS });
  // ...with the filter in the address still applied, and the half-typed filter untouched.
  await expect(page.locator('#records tr[data-record="www.example.test. A"]')).toBeVisible();
  await expect(page.locator('#records tbody tr:not([data-dns-status="ok"])')).toHaveCount(0);
  await expect(name).toHaveValue("ww");
  await expect(name).toBeFocused();
  expect(errors).toEqual([]);
});

test("cutting db1 off shows the backlog backing up and the replicas disconnected, then draining, without reload", async ({ page }) => {
  test.setTimeout(180_000);
  const errors = collectErrors(page);
  await page.goto("/backlog");
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  const loader = page.locator('tr[data-loader="loader-sin"]');
  await expect(loader).toHaveAttribute("data-status", "ok", { timeout: 30_000 });
  // Navigation loads pages in full; each change below must arrive on an open page, without reload.
  const markOpen = () => page.evaluate(() => ((window as any).__noReload = true));
  const stillOpen = async () => expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await markOpen();
  try {
    await setHost("db1", "down");
    // A burst of writes arrives at the Singapore loader while the master is unreachable.
    const burst = await fetch("http://127.0.2.5:9100/enqueue", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: 600 }),
    });
    expect(burst.status).toBe(202);
    // Writes keep coming and nothing loads: the queue backs up (growing, then stalled).
    await expect(loader).toHaveAttribute("data-status", /growing|stalled/, { timeout: 20_000 });
    await stillOpen();
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Replication", exact: true }).click();
    await expect(page.locator('tr[data-node="db-sin"]')).toHaveAttribute("data-status", "disconnected", { timeout: 20_000 });
    await expect(page.locator('tr[data-node="db1"]')).toHaveAttribute("data-status", "unknown");
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Overview", exact: true }).click();
    await expect(page.locator("#fail-back")).toHaveAttribute("data-safe", "false");
    await expect(page.locator("#fail-back .reasons")).toContainText("loader-sin");
  } finally {
    await setHost("db1", "up");
  }
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Backlog", exact: true }).click();
  // Draining: an ETA appears, then the verdict comes back to yes on the open overview.
  await expect(loader.locator("td.eta")).not.toHaveText("—", { timeout: 20_000 });
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Overview", exact: true }).click();
  await expect(page.locator("#live-link")).toHaveText("live", { timeout: ONE_INTERVAL_MS });
  await markOpen();
  await expect(page.locator("#fail-back")).toHaveAttribute("data-safe", "true", { timeout: 90_000 });
  await stillOpen();
  expect(errors).toEqual([]);
});
