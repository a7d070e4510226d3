// Shared helpers for the browser tests.
import { APIRequestContext, Browser, Page, TestInfo, expect, request } from "@playwright/test";
import * as net from "node:net";
import * as path from "node:path";

/** Whether this project runs with JavaScript (and so hydrates). */
export function hydrated(testInfo: TestInfo): boolean {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/** Waits until the WASM has hydrated the page (only in the hydrated project). */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/** Saves a full-page screenshot under end2end/artifacts/screenshots and attaches it to the report. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = path.join(__dirname, "..", "artifacts", "screenshots", `${testInfo.project.name}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

/** The administrator global-setup creates with a known password. */
export const E2E_ADMIN = "e2e-admin";
export const E2E_ADMIN_PASSWORD = "e2e admin passphrase 42";

/** A browser context with nobody signed in, honouring the project's JavaScript setting. */
export async function anonymousPage(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    javaScriptEnabled: hydrated(testInfo),
    storageState: { cookies: [], origins: [] },
  });
  return context.newPage();
}

/** Signs in through the form; for a one-time password, sets `newPassword` on the forced page. */
export async function signIn(page: Page, testInfo: TestInfo, username: string, password: string, newPassword?: string) {
  await page.goto("/login");
  if (hydrated(testInfo)) await waitForHydration(page);
  await page.getByLabel(/Username|ユーザー名/).fill(username);
  await page.getByLabel(/^(Password|パスワード)/).fill(password);
  await page.getByTestId("login-form").getByRole("button").click();
  if (newPassword) {
    await expect(page).toHaveURL(/\/change-password/);
    if (hydrated(testInfo)) await waitForHydration(page);
    await page.getByLabel(/Current password|現在のパスワード/).fill(password);
    await page.getByLabel(/^(New password|新しいパスワード)$/).fill(newPassword);
    await page.getByLabel(/New password again|新しいパスワード（確認）/).fill(newPassword);
    await page.getByTestId("password-form").getByRole("button").click();
    await expect(page).not.toHaveURL(/\/change-password/);
  }
  await expect(page.getByTestId("user-menu")).toContainText(username);
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** An API client signed in as the test administrator (Bearer token). */
export async function adminApi(testInfo: TestInfo): Promise<APIRequestContext> {
  const baseURL = testInfo.project.use.baseURL!;
  // Inside a test, new request contexts take the project's stored session;
  // a script has none.
  const noSession = { cookies: [], origins: [] };
  const anonymous = await request.newContext({ baseURL, storageState: noSession });
  const login = await anonymous.post("/api/v1/auth/login", { data: { username: E2E_ADMIN, password: E2E_ADMIN_PASSWORD } });
  expect(login.status(), await login.text()).toBe(200);
  const { token } = await login.json();
  await anonymous.dispose();
  return request.newContext({ baseURL, storageState: noSession, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
}
