import { APIRequestContext, Page, expect } from "@playwright/test";
import * as fs from "fs";

/** Where the viewer's session is kept for the suite (see global-setup.ts). */
export const VIEWER_STATE = `${__dirname}/../.auth/viewer.json`;

/** The demo's users: passwords are the name followed by the role (deploy/demo.toml). */
export const PASSWORDS: Record<string, string> = {
  alice: "alice-oncall",
  bob: "bob-viewer",
  carol: "carol-admin",
};

/** The CSRF token of the first form on an HTML page. */
export function csrfIn(html: string): string {
  const m = html.match(/name="csrf" value="([^"]+)"/);
  if (!m) throw new Error("no CSRF token on the page");
  return m[1];
}

/** Logs an API context in through the login form, as a browser without JavaScript would. */
export async function logInWith(api: APIRequestContext, name: string, password: string) {
  const page = await api.get("/login");
  const csrf = csrfIn(await page.text());
  const r = await api.post("/login", { form: { csrf, name, password, next: "/" }, maxRedirects: 0 });
  if (r.status() !== 303) throw new Error(`login as ${name} answered ${r.status()}`);
}

/** Logs a browser page in through the login form. */
export async function logIn(page: Page, name: string) {
  await page.goto("/login");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(PASSWORDS[name]);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#who-name")).toHaveText(name);
}

/** The viewer's session cookie, for plain `fetch` calls to the console's JSON API. */
export function viewerCookie(): string {
  const state = JSON.parse(fs.readFileSync(VIEWER_STATE, "utf8"));
  return state.cookies.map((c: { name: string; value: string }) => `${c.name}=${c.value}`).join("; ");
}

/** GET a console JSON endpoint as the viewer. */
export async function consoleJson(baseURL: string, path: string): Promise<any> {
  const r = await fetch(`${baseURL}${path}`, { headers: { cookie: viewerCookie() } });
  if (!r.ok) throw new Error(`${path} answered ${r.status}`);
  return r.json();
}
