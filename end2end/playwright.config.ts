import { defineConfig } from "@playwright/test";
import { VIEWER_STATE } from "./tests/login";

// The console under test: the release binary with the lab, on its own port and a fresh data dir.
const port = 3300;
// www's nginx; deploy/demo.toml's site `web` looks through it (check_url).
const BALANCER_PORT = 8081;
const targetDir = process.env.CARGO_TARGET_DIR ?? `${process.env.HOME}/.cache/crowsnest/target`;
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? `${targetDir}/site`;

export default defineConfig({
  testDir: "./tests",
  // The tests switch lab hosts up and down: run them one at a time against one server.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  // Logs the viewer in once; every test starts with that session unless it logs in itself.
  globalSetup: "./global-setup.ts",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "off",
    storageState: VIEWER_STATE,
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: [
    {
      // A fresh data directory under .run/ each run; nginx below reads its edge directory.
      command:
        `bash -c 'rm -rf .run && mkdir -p .run/data && exec "${targetDir}/release/crowsnest" --config ../deploy/demo.toml ` +
        `serve --lab --listen 127.0.0.1:${port} --data-dir .run/data --site-root "${siteRoot}"'`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      // SIGTERM lets the server stop the lab's PostgreSQL servers; SIGKILL would leave them running.
      gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // www's balancer: Debian's nginx with the shipped config, in front of the lab's web1.
      command: `bash ../scripts/edge-nginx.sh 127.0.0.1:${BALANCER_PORT} 127.0.1.3:8080 .run/data/edge .run/nginx`,
      port: BALANCER_PORT,
      reuseExistingServer: false,
      timeout: 20_000,
      gracefulShutdown: { signal: "SIGTERM", timeout: 5_000 },
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // Two regions: a PostgreSQL control primary and standby, sjc-1 and sin-1 on them, and
      // Singapore's nginx (tests/secondary.spec.ts).
      command: `bash ../scripts/regions.sh .run-regions 3400 3401 8082`,
      url: "http://127.0.0.1:3401/healthz",
      reuseExistingServer: false,
      timeout: 90_000,
      gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
