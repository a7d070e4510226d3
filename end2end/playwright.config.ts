// Browser tests. They drive the system's Chromium (never a downloaded one)
// against a release build started by global-setup.ts on a free port with a
// fresh data directory. Every test runs twice: hydrated, and with
// JavaScript disabled, because every form must work before the WASM loads.
import { defineConfig, devices } from "@playwright/test";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Two cores: one browser at a time next to the server is the fastest.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  globalSetup: "./global-setup.ts",
  use: {
    // Set by global-setup.ts before the workers start.
    baseURL: process.env.E2E_BASE_URL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    // Signs the test administrator in once and keeps the cookie for the rest.
    { name: "setup", testMatch: /auth\.setup\.ts/ },
    {
      name: "hydrated",
      dependencies: ["setup"],
      use: { ...devices["Desktop Chrome"], javaScriptEnabled: true, storageState: "artifacts/admin-state.json" },
    },
    {
      name: "no-js",
      dependencies: ["setup"],
      use: { ...devices["Desktop Chrome"], javaScriptEnabled: false, storageState: "artifacts/admin-state.json" },
    },
  ],
});
