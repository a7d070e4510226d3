// Reports: jobs with tags and runs are seeded through the API; the report
// form (a plain GET form, so it works hydrated and without JavaScript)
// narrows the period and the tag, the table shows the tagged job only, and
// the CSV and PDF downloads carry the same report.
import { Page, TestInfo, expect, test } from "@playwright/test";
import * as fs from "node:fs";
import { adminApi, hydrated, screenshot, waitForHydration } from "./helpers";

interface Seeded {
  tag: string;
  tagged: string;
  other: string;
}

/** Two jobs with different tags, each with a few runs in the last days. */
async function seed(testInfo: TestInfo): Promise<Seeded> {
  const api = await adminApi(testInfo);
  const n = Date.now() % 100000;
  const tag = `rep-${testInfo.project.name}-${n}`;
  const jobs = [
    { name: `report-nas-${testInfo.project.name}-${n}`, tags: [tag, "e2e"] },
    { name: `report-db-${testInfo.project.name}-${n}`, tags: [`other-${n}`, "e2e"] },
  ];
  for (const job of jobs) {
    const created = await api.post("/api/v1/jobs", { data: job });
    expect(created.status(), await created.text()).toBe(201);
    const { id } = await created.json();
    // One run a day for the last three days: two successes and a failure.
    const results = ["success", "failed", "success"];
    for (const [i, result] of results.entries()) {
      const started = new Date(Date.now() - (i + 1) * 24 * 3600_000 + 3600_000);
      const ended = new Date(started.getTime() + (10 + i) * 60_000);
      const run = await api.post(`/api/v1/jobs/${id}/runs`, {
        data: {
          result,
          started_at: started.toISOString(),
          ended_at: ended.toISOString(),
          bytes_processed: 1_500_000_000 + i * 100_000_000,
          message: result === "failed" ? "target disk full" : undefined,
        },
      });
      expect(run.status(), await run.text()).toBe(201);
    }
  }
  await api.dispose();
  return { tag, tagged: jobs[0].name, other: jobs[1].name };
}

async function openReports(page: Page, testInfo: TestInfo, path = "/reports") {
  await page.goto(path);
  if (hydrated(testInfo)) await waitForHydration(page);
  await expect(page.getByTestId("report-form")).toBeVisible();
}

/** Clicks a download link and returns the downloaded bytes. */
async function download(page: Page, testid: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testid).click()]);
  const path = await file.path();
  expect(path, `the ${testid} download was saved`).toBeTruthy();
  return fs.readFileSync(path!);
}

test.describe("reports", () => {
  test("a period and a tag narrow the report; CSV and PDF download", async ({ page }, testInfo) => {
    const { tag, tagged, other } = await seed(testInfo);
    await openReports(page, testInfo);
    await expect(page.getByRole("link", { name: "Scheduled report e-mails" })).toHaveAttribute(
      "href",
      "/reports/schedules",
    );

    await page.getByTestId("report-period").selectOption("last_7_days");
    await page.getByTestId("report-tag").selectOption(tag);
    await page.getByTestId("report-submit").click();
    await expect(page).toHaveURL(/\/reports\?.*period=last_7_days/);
    await expect(page).toHaveURL(new RegExp(`tag=${tag}`));

    const table = page.getByTestId("report-table");
    await expect(table.locator(`[data-testid="report-row"][data-name="${tagged}"]`)).toBeVisible();
    await expect(table.locator(`[data-testid="report-row"][data-name="${other}"]`)).toHaveCount(0);
    await expect(table.getByRole("link", { name: tagged })).toHaveAttribute("href", /^\/jobs\/\d+$/);
    await expect(page.getByTestId("report-tiles")).toBeVisible();
    await expect(page.getByTestId("chart-success").locator("svg.chart")).toBeVisible();
    await expect(page.getByTestId("report-failures")).toContainText("target disk full");
    await expect(page.getByTestId("report-failures").getByRole("link").first()).toHaveAttribute("href", /^\/runs\/\d+$/);

    // The downloads repeat the form's query, with the format and the UI's language.
    const csvLink = page.getByTestId("download-csv");
    await expect(csvLink).toHaveAttribute("href", /^\/api\/v1\/reports\/summary\?.*format=csv&lang=en$/);
    await expect(csvLink).toHaveAttribute("href", new RegExp(`tag=${tag}`));
    const csv = await download(page, "download-csv");
    expect([...csv.subarray(0, 3)], "UTF-8 byte order mark").toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.toString("utf8")).toContain(tagged);
    expect(csv.toString("utf8")).not.toContain(other);
    const pdf = await download(page, "download-pdf");
    expect(pdf.subarray(0, 4).toString("latin1")).toBe("%PDF");

    await screenshot(page, testInfo, "reports");
  });

  test("a period without runs says how to widen it", async ({ page }, testInfo) => {
    const { tag } = await seed(testInfo);
    await openReports(page, testInfo);
    await page.getByTestId("report-period").selectOption("custom");
    await page.getByLabel("From", { exact: true }).fill("2020-01-01");
    await page.getByLabel("Until", { exact: true }).fill("2020-01-07");
    await page.getByTestId("report-tag").selectOption(tag);
    await page.getByTestId("report-submit").click();
    await expect(page).toHaveURL(/from=2020-01-01/);
    await expect(page.locator(".empty-state")).toContainText("Widen the period or clear the filters");
    await expect(page.getByTestId("report-table")).toHaveCount(0);
  });

  test("on a 375 px phone the report scrolls inside its boxes, in both themes", async ({ browser }, testInfo) => {
    const { tag } = await seed(testInfo);
    const context = await browser.newContext({
      baseURL: testInfo.project.use.baseURL,
      javaScriptEnabled: hydrated(testInfo),
      storageState: "artifacts/admin-state.json",
      viewport: { width: 375, height: 740 },
    });
    const page = await context.newPage();
    await page.goto(`/reports?period=last_7_days&tag=${encodeURIComponent(tag)}`);
    await expect(page.getByTestId("report-table")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "/reports is wider than the phone").toBeLessThanOrEqual(0);
    await screenshot(page, testInfo, "reports-phone");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, testInfo, "reports-phone-dark");
    await context.close();
  });
});
