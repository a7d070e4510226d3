// Jobs and the live dashboard: an operator creates a job in the UI, a run
// arrives through the job's ping URL, and the dashboard shows it without a
// reload (hydrated) or on the next page load (no JavaScript).
import { Page, TestInfo, expect, request, test } from "@playwright/test";
import { adminApi, anonymousPage, hydrated, screenshot, signIn, waitForHydration } from "./helpers";

const OPERATOR_PASSWORD = "operator passphrase 2026";

/** Creates an operator with a known password through the API. */
async function createOperator(testInfo: TestInfo): Promise<string> {
  const username = `op-${testInfo.project.name}-${Date.now() % 100000}`;
  const api = await adminApi(testInfo);
  const created = await api.post("/api/v1/users", {
    data: { username, email: `${username}@example.co.jp`, role: "operator", password: OPERATOR_PASSWORD },
  });
  expect(created.status(), await created.text()).toBe(201);
  await api.dispose();
  return username;
}

/** Fills and submits the new-job form; returns the job page's ping URL. */
async function createJobInUi(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  await page.goto("/jobs");
  if (hydrated(testInfo)) await waitForHydration(page);
  await page.getByTestId("new-job").click();
  await expect(page).toHaveURL(/\/jobs\/new$/);
  if (hydrated(testInfo)) await waitForHydration(page);
  const form = page.getByTestId("job-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Tags").fill("e2e, tokyo");
  await form.getByLabel("Cron", { exact: true }).check();
  await form.getByLabel("Cron expression").fill("0 2 * * *");
  await form.getByLabel("Time zone").fill("Asia/Tokyo");
  await form.getByRole("button", { name: "Create job" }).click();
  await expect(page).toHaveURL(/\/jobs\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(name);
  await expect(page.getByTestId("schedule-text")).toHaveText("every day at 02:00 (JST)");
  return (await page.getByTestId("ping-url").innerText()).trim();
}

test.describe("jobs and the dashboard", () => {
  test("the job form names the field that is wrong", async ({ page }, testInfo) => {
    await page.goto("/jobs/new");
    if (hydrated(testInfo)) await waitForHydration(page);
    const form = page.getByTestId("job-form");
    await form.getByLabel("Name").fill(`bad cron ${testInfo.project.name}`);
    await form.getByLabel("Cron", { exact: true }).check();
    await form.getByLabel("Cron expression").fill("99 2 * * *");
    await form.getByRole("button", { name: "Create job" }).click();
    await expect(page.locator(".field-error")).toContainText("Not a valid cron expression");
    await expect(page).toHaveURL(/\/jobs\/new/);
  });

  test("an operator creates a job and the dashboard shows its first run", async ({ browser }, testInfo) => {
    const username = await createOperator(testInfo);
    const page = await anonymousPage(browser, testInfo);
    await signIn(page, testInfo, username, OPERATOR_PASSWORD);
    const name = `fileserver-${testInfo.project.name}-${Date.now() % 100000}`;
    const pingUrl = await createJobInUi(page, testInfo, name);
    expect(pingUrl).toMatch(/\/ping\/[A-Za-z0-9_-]{20,}$/);

    await page.goto("/");
    if (hydrated(testInfo)) {
      await waitForHydration(page);
      // Give the event stream a moment to connect before the run arrives.
      await page.waitForTimeout(500);
      await page.evaluate(() => ((window as any).__sameDocument = true));
    }

    // The backup tool reports a failed run with its log.
    const tool = await request.newContext({ storageState: { cookies: [], origins: [] } });
    const reported = await tool.post(`${pingUrl}/fail`, { data: "robocopy: ERROR 112: not enough space on the disk\n" });
    expect(reported.status()).toBe(200);
    await tool.dispose();

    if (hydrated(testInfo)) {
      // No reload: the server-sent event makes the dashboard refetch.
      await expect(page.getByTestId("latest-runs")).toContainText(name, { timeout: 5_000 });
      await expect(page.getByTestId("problems")).toContainText(name);
      expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    } else {
      await page.reload();
      await expect(page.getByTestId("latest-runs")).toContainText(name);
      await expect(page.getByTestId("problems")).toContainText(name);
    }
    await expect(page.getByTestId("calendar")).toContainText(name);

    // The job page shows the run, its state and the log.
    await page.getByTestId("problems").getByRole("link", { name }).click();
    await expect(page).toHaveURL(/\/jobs\/\d+$/);
    await expect(page.getByTestId("job-facts")).toContainText("Failed");
    const row = page.getByTestId("run-row").first();
    await expect(row).toHaveAttribute("data-result", "failed");
    await row.getByRole("link").first().click();
    await expect(page).toHaveURL(/\/runs\/\d+$/);
    await expect(page.getByTestId("run-log")).toContainText("not enough space on the disk");
  });

  test("the dashboard, job list and job page render fully without JavaScript", async ({ page }, testInfo) => {
    test.skip(hydrated(testInfo), "covers server rendering alone");
    await page.goto("/");
    await expect(page.getByTestId("state-counts")).toBeVisible();
    await expect(page.getByTestId("calendar").locator("tbody tr").first()).toBeVisible();
    await expect(page.locator("svg.chart").first()).toBeVisible();
    await page.goto("/jobs");
    const first = page.locator("table tbody tr").first();
    await expect(first).toBeVisible();
    await first.getByRole("link").first().click();
    await expect(page).toHaveURL(/\/jobs\/\d+$/);
    await expect(page.getByTestId("job-facts")).toBeVisible();
    await expect(page.getByTestId("ping-url")).toContainText("/ping/");
    await expect(page.getByTestId("runs-table")).toBeVisible();
  });

  test("screenshots of the dashboard and a job page in both themes", async ({ page }, testInfo) => {
    test.skip(!hydrated(testInfo), "taken once, hydrated");
    for (const theme of ["light", "dark"]) {
      await page.context().addCookies([{ name: "bms_theme", value: theme, url: testInfo.project.use.baseURL! }]);
      await page.goto("/");
      await waitForHydration(page);
      await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
      await expect(page.getByTestId("calendar")).toBeVisible();
      await screenshot(page, testInfo, `dashboard-${theme}`);
      await page.goto("/jobs?q=tokyo-0001");
      await page.locator("table tbody tr").first().getByRole("link").first().click();
      await expect(page).toHaveURL(/\/jobs\/\d+$/);
      await waitForHydration(page);
      await expect(page.locator("svg.chart").first()).toBeVisible();
      await screenshot(page, testInfo, `job-${theme}`);
    }
  });

  test("on a 375 px phone the dashboard and job page do not scroll sideways", async ({ browser }, testInfo) => {
    const context = await browser.newContext({
      baseURL: testInfo.project.use.baseURL,
      javaScriptEnabled: hydrated(testInfo),
      storageState: "artifacts/admin-state.json",
      viewport: { width: 375, height: 740 },
    });
    const page = await context.newPage();
    for (const path of ["/", "/jobs", "/history"]) {
      await page.goto(path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} is wider than the phone`).toBeLessThanOrEqual(0);
    }
    await screenshot(page, testInfo, "dashboard-phone");
    await context.close();
  });
});
