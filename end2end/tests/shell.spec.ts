// The app shell: server rendering, hydration, language, theme, 404, phone
// widths, and PWA installability.
import { test, expect, chromium } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hydrated, screenshot, waitForHydration } from "./helpers";

test.describe("the app shell", () => {
  test("renders the whole shell on the server", async ({ page }, testInfo) => {
    const response = await page.goto("/");
    expect(response?.status()).toBe(200);
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.locator(".brand-full")).toHaveText("Backup Management System");
    const nav = page.getByRole("navigation", { name: "Main navigation" });
    for (const name of ["Dashboard", "Jobs", "Reports", "Settings", "Users", "Audit log"]) {
      await expect(nav.getByRole("link", { name })).toBeVisible();
    }
    await expect(nav.getByRole("link", { name: "Dashboard" })).toHaveAttribute("aria-current", "page");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dashboard");
    await expect(page.getByTestId("theme-toggle")).toBeVisible();
    await expect(page.getByTestId("lang-ja")).toBeVisible();
    await expect(page.locator(".app-footer")).toContainText("Version");
    await expect(page.locator('link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
    await screenshot(page, testInfo, "dashboard-en");
  });

  test("hydrates: the theme toggle works without a page load", async ({ page }, testInfo) => {
    test.skip(!hydrated(testInfo), "needs JavaScript");
    await page.goto("/");
    await waitForHydration(page);
    await page.evaluate(() => ((window as any).__sameDocument = true));
    const html = page.locator("html");
    await expect(html).toHaveAttribute("data-theme", "system");
    await page.getByTestId("theme-toggle").click();
    await expect(html).toHaveAttribute("data-theme", "light");
    await page.getByTestId("theme-toggle").click();
    await expect(html).toHaveAttribute("data-theme", "dark");
    // Still the same document: the click was handled by the WASM.
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    await screenshot(page, testInfo, "dashboard-dark");
    // And the choice is remembered.
    await page.reload();
    await expect(html).toHaveAttribute("data-theme", "dark");
  });

  test("the theme toggle works and is remembered without JavaScript", async ({ page }, testInfo) => {
    test.skip(hydrated(testInfo), "covers the no-JavaScript form");
    await page.goto("/jobs");
    await page.getByTestId("theme-toggle").click();
    await expect(page).toHaveURL(/\/jobs$/);
    await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
    await page.getByTestId("theme-toggle").click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await screenshot(page, testInfo, "dashboard-dark");
  });

  test("switching to Japanese changes the visible text", async ({ page }, testInfo) => {
    await page.goto("/reports");
    if (hydrated(testInfo)) await waitForHydration(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Reports");
    await page.getByTestId("lang-ja").click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("レポート");
    await expect(page.locator("html")).toHaveAttribute("lang", "ja");
    const nav = page.getByRole("navigation", { name: "メインナビゲーション" });
    await expect(nav.getByRole("link", { name: "ダッシュボード" })).toBeVisible();
    await expect(page).toHaveTitle(/レポート/);
    await screenshot(page, testInfo, "reports-ja");
    // Remembered across pages and reloads, and back to English again.
    await page.goto("/jobs");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("バックアップジョブ");
    await page.getByTestId("lang-en").click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Backup jobs");
  });

  test("the browser's language is used when nothing was chosen", async ({ browser }, testInfo) => {
    const context = await browser.newContext({
      locale: "ja-JP",
      javaScriptEnabled: hydrated(testInfo),
      baseURL: testInfo.project.use.baseURL,
      storageState: { cookies: [], origins: [] },
    });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page).toHaveURL(/\/login\?next=%2F$/);
    await expect(page.locator("html")).toHaveAttribute("lang", "ja");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("サインイン");
    await screenshot(page, testInfo, "login-ja");
    await context.close();
  });

  test("unknown addresses get a 404 page", async ({ page }, testInfo) => {
    const response = await page.goto("/no/such/page");
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId("not-found")).toBeVisible();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
    await screenshot(page, testInfo, "not-found");
  });

  test("fits a 375 px phone without sideways scrolling", async ({ page }, testInfo) => {
    await page.setViewportSize({ width: 375, height: 740 });
    for (const theme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: theme });
      await page.goto("/");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await expect(page.locator(".brand-short")).toBeVisible();
      await screenshot(page, testInfo, `phone-${theme}`);
    }
  });
});

test.describe("the installable app", () => {
  test("has a valid manifest and service worker, and Chromium finds it installable", async ({ page }, testInfo) => {
    test.skip(!hydrated(testInfo), "service workers need JavaScript");
    const manifest = await (await page.request.get("/manifest.webmanifest")).json();
    expect(manifest.display).toBe("standalone");
    expect(manifest.start_url).toBe("/");
    const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
    expect(sizes).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    expect(manifest.icons.some((i: { purpose: string }) => i.purpose === "maskable")).toBe(true);

    // Playwright's usual contexts are incognito, where Chromium never offers
    // installation; a persistent profile gives the real verdict.
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "bms-pwa-"));
    const launch = testInfo.project.use.launchOptions ?? {};
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: launch.executablePath,
      args: launch.args,
      baseURL: testInfo.project.use.baseURL,
    });
    try {
      const installPage = context.pages()[0] ?? (await context.newPage());
      await installPage.goto("/");
      await waitForHydration(installPage);
      const scope = await installPage.evaluate(async () => (await navigator.serviceWorker.ready).scope);
      expect(scope).toMatch(/\/$/);
      const cdp = await context.newCDPSession(installPage);
      const { url, errors: manifestErrors } = await cdp.send("Page.getAppManifest");
      expect(url).toMatch(/\/manifest\.webmanifest$/);
      expect(manifestErrors).toEqual([]);
      const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
      expect(installabilityErrors).toEqual([]);
    } finally {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });

  test("starts offline from the cached shell, without caching user pages", async ({ page, context }, testInfo) => {
    test.skip(!hydrated(testInfo), "service workers need JavaScript");
    await page.goto("/");
    await waitForHydration(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    // The worker controls the page after a reload.
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const cached = await page.evaluate(async () => {
      const keys = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) keys.push(new URL(request.url).pathname);
      }
      return keys;
    });
    expect(cached).toContain("/offline");
    // The front end, by its content-hashed name (backup-mgmt.<hash>.js).
    expect(cached.some((p: string) => /^\/pkg\/backup-mgmt\.[0-9a-f]{16}\.js$/.test(p))).toBe(true);
    expect(cached.some((p: string) => /^\/pkg\/backup-mgmt\.[0-9a-f]{16}\.wasm$/.test(p))).toBe(true);
    expect(cached).not.toContain("/");
    expect(cached.some((p: string) => p.startsWith("/api"))).toBe(false);

    await context.setOffline(true);
    await page.goto("/jobs").catch(() => undefined);
    await expect(page.getByTestId("offline")).toBeVisible();
    await screenshot(page, testInfo, "offline");
    await context.setOffline(false);
  });
});
