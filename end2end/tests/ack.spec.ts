// Acknowledging a job's problem: on the job page (the banner appears, the
// dashboard says who), and through the confirmation page a message's
// "Acknowledge" link opens: sign-in first, then one click. Both projects
// run every test: hydrated, and with JavaScript disabled (plain form posts).
import { TestInfo, expect, test } from "@playwright/test";
import { adminApi, anonymousPage, hydrated, screenshot, waitForHydration } from "./helpers";

const OPERATOR_PASSWORD = "operator passphrase 2026";

/** A job whose latest run failed, created through the API; its id. */
async function failedJob(testInfo: TestInfo, prefix: string): Promise<number> {
  const api = await adminApi(testInfo);
  const name = `${prefix}-${testInfo.project.name}-${Date.now() % 100000}`;
  const created = await api.post("/api/v1/jobs", { data: { name } });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = await created.json();
  const run = await api.post(`/api/v1/jobs/${id}/runs`, { data: { result: "failed", message: "disk full" } });
  expect(run.status(), await run.text()).toBe(201);
  await api.dispose();
  return id;
}

async function createUser(testInfo: TestInfo, role: "operator" | "viewer"): Promise<string> {
  const username = `${role.slice(0, 2)}-ack-${testInfo.project.name}-${Date.now() % 100000}`;
  const api = await adminApi(testInfo);
  const created = await api.post("/api/v1/users", {
    data: { username, email: `${username}@example.co.jp`, role, password: OPERATOR_PASSWORD },
  });
  expect(created.status(), await created.text()).toBe(201);
  await api.dispose();
  return username;
}

test.describe("acknowledging a problem", () => {
  test("on the job page: acknowledge, see the banner, withdraw", async ({ page }, testInfo) => {
    const id = await failedJob(testInfo, "ack-page");
    await page.goto(`/jobs/${id}`);
    if (hydrated(testInfo)) await waitForHydration(page);
    const panel = page.getByTestId("ack");
    await panel.locator("summary").click();
    await expect(page.getByTestId("ack-problem")).toHaveText("The latest run failed");
    await page.getByTestId("ack-comment-input").fill("replacing the disk");
    await page.getByTestId("ack-submit").click();
    const banner = page.getByTestId("ack-banner");
    await expect(banner).toContainText("Acknowledged by e2e-admin");
    await expect(banner).toContainText("replacing the disk");
    await expect(page).toHaveURL(new RegExp(`/jobs/${id}\\??$`));

    await page.goto("/");
    await expect(page.getByTestId("problems").getByTestId("problem-ack").first()).toBeVisible();
    await expect(page.getByTestId("problems")).toContainText("replacing the disk");

    await page.goto(`/jobs/${id}`);
    if (hydrated(testInfo)) await waitForHydration(page);
    await page.getByTestId("ack-withdraw").click();
    await expect(page.getByTestId("ack-banner")).toHaveCount(0);
    await expect(page.getByTestId("ack").locator("summary")).toBeVisible();
  });

  test("the link of a message: sign in, then one click on the confirmation page", async ({ browser }, testInfo) => {
    const id = await failedJob(testInfo, "ack-link");
    const username = await createUser(testInfo, "operator");
    const page = await anonymousPage(browser, testInfo);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`/jobs/${id}/acknowledge`);
    await expect(page).toHaveURL(/\/login\?next=%2Fjobs%2F\d+%2Facknowledge/);
    if (hydrated(testInfo)) await waitForHydration(page);
    await page.getByLabel(/Username|ユーザー名/).fill(username);
    await page.getByLabel(/^(Password|パスワード)/).fill(OPERATOR_PASSWORD);
    await page.getByTestId("login-form").getByRole("button").click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${id}/acknowledge$`));
    if (hydrated(testInfo)) await waitForHydration(page);
    await expect(page.getByTestId("ack-problem")).toHaveText("The latest run failed");
    await screenshot(page, testInfo, "ack-confirm-375");
    await page.getByTestId("ack-submit").click();
    await expect(page.getByTestId("ack-banner")).toContainText(`Acknowledged by ${username}`);
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, testInfo, "ack-confirm-dark");
    await page.context().close();
  });

  test("a viewer is told they cannot acknowledge", async ({ browser }, testInfo) => {
    const id = await failedJob(testInfo, "ack-viewer");
    const username = await createUser(testInfo, "viewer");
    const page = await anonymousPage(browser, testInfo);
    await page.goto(`/jobs/${id}/acknowledge`);
    if (hydrated(testInfo)) await waitForHydration(page);
    await page.getByLabel(/Username|ユーザー名/).fill(username);
    await page.getByLabel(/^(Password|パスワード)/).fill(OPERATOR_PASSWORD);
    await page.getByTestId("login-form").getByRole("button").click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${id}/acknowledge$`));
    await expect(page.getByTestId("ack-viewer")).toBeVisible();
    await expect(page.getByTestId("ack-submit")).toHaveCount(0);
    await page.context().close();
  });
});
