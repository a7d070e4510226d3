// Running the console: a status badge made on the job page (its preview
// image loads, its Markdown names the SVG, revoking it turns the URL into
// a 404), Settings → Backups, where "Back up now" lists a new backup, and
// Settings → Cluster, where the one SQLite instance leads.
// Both projects: hydrated, and with JavaScript disabled (plain posts).
import { expect, request, test } from "@playwright/test";
import { adminApi, hydrated, screenshot, waitForHydration } from "./helpers";

test.describe("running the console", () => {
  test("a status badge is made on the job page, shows the state and can be revoked", async ({ page }, testInfo) => {
    const api = await adminApi(testInfo);
    const name = `badge-${testInfo.project.name}-${Date.now() % 100000}`;
    const created = await api.post("/api/v1/jobs", { data: { name, tags: ["e2e-badge"] } });
    expect(created.status(), await created.text()).toBe(201);
    const { id } = await created.json();
    const run = await api.post(`/api/v1/jobs/${id}/runs`, { data: { result: "failed", message: "disk full" } });
    expect(run.status()).toBe(201);
    await api.dispose();

    await page.goto(`/jobs/${id}`);
    if (hydrated(testInfo)) await waitForHydration(page);
    const section = page.getByTestId("badges");
    await expect(section.getByTestId("no-badges")).toBeVisible();
    await section.locator("input[name=show_age]").check();
    await section.getByRole("button", { name: "Make a badge" }).click();
    const badge = page.getByTestId("badges").getByTestId("badge");
    await expect(badge).toHaveCount(1);
    const markdown = await badge.getByTestId("badge-markdown").inputValue();
    const url = /\((http[^)]+\/badge\/[A-Za-z0-9_-]+\.svg)\)/.exec(markdown)?.[1];
    expect(url, markdown).toBeTruthy();
    // The preview loaded (an image with a width), and anyone can fetch it.
    await expect.poll(() => badge.locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    const anonymous = await request.newContext({ storageState: { cookies: [], origins: [] } });
    const svg = await anonymous.get(url!);
    expect(svg.status()).toBe(200);
    expect(await svg.text()).toContain("down · 0m");
    await screenshot(page, testInfo, "job-badges");

    await badge.getByTestId("revoke-badge").click();
    await expect(page.getByTestId("badges").getByTestId("badge")).toHaveCount(0);
    expect((await anonymous.get(url!)).status()).toBe(404);
    await anonymous.dispose();
  });

  test("Settings → Backups: back up now, and the retention in force", async ({ page }, testInfo) => {
    await page.goto("/settings/backups");
    if (hydrated(testInfo)) await waitForHydration(page);
    await expect(page.getByTestId("retention-runs")).toHaveText("400 days");
    const before = await page.getByTestId("backup").count();
    await page.getByTestId("back-up-now").click();
    await expect(page.getByTestId("backup")).toHaveCount(before + 1);
    await expect(page.getByTestId("backup").first()).toHaveAttribute("data-status", "ok");
    await screenshot(page, testInfo, "settings-backups");
  });

  test("Settings → Cluster: the instance leads", async ({ page }, testInfo) => {
    await page.goto("/settings");
    if (hydrated(testInfo)) await waitForHydration(page);
    await page.getByTestId("cluster-link").click();
    await expect(page).toHaveURL(/\/settings\/cluster$/);
    await expect(page.getByTestId("cluster-single")).toBeVisible();
    const instance = page.getByTestId("cluster-instance").filter({ has: page.getByText("(this page)") });
    await expect(instance).toHaveAttribute("data-leading", "true");
    await expect(page.getByTestId("cluster-leader-id")).toContainText(/[0-9a-f]{12}/);
    await screenshot(page, testInfo, "settings-cluster");
  });
});
