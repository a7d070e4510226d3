// Veeam: an administrator adds the simulator as a Veeam server (accepting
// its self-signed certificate), tests the connection and syncs it, then
// starts a Veeam job from its page and sees the run appear and finish;
// the repositories page shows the synced space.
import { spawn, ChildProcess } from "node:child_process";
import * as https from "node:https";
import * as net from "node:net";
import * as path from "node:path";
import { Page, TestInfo, expect, test } from "@playwright/test";
import { freePort, hydrated, screenshot, waitForHydration } from "./helpers";

const root = path.resolve(__dirname, "..", "..");
const binary = process.env.BMS_E2E_BINARY ?? path.join(root, "target", "release", "backup-mgmt");

async function listening(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the simulator did not listen on ${port}`);
}

/** A simulator job with no session running (which depends on the time of day). */
function idleJob(simUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(`${simUrl}/sim/jobs`, { rejectUnauthorized: false }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => {
          const jobs: { name: string; running: boolean }[] = JSON.parse(body);
          const idle = jobs.find((j) => !j.running);
          if (idle) resolve(idle.name);
          else reject(new Error(`no idle job: ${body}`));
        });
      })
      .on("error", reject);
  });
}

async function reloadUntil(page: Page, testInfo: TestInfo, check: () => Promise<boolean>): Promise<void> {
  // Hydrated pages update themselves; without JavaScript, reload.
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await page.waitForTimeout(1000);
    if (!hydrated(testInfo)) await page.reload();
  }
  throw new Error("the page never showed what was expected");
}

test.describe("Veeam", () => {
  let sim: ChildProcess | undefined;
  let simUrl = "";

  test.beforeEach(async ({}, testInfo) => {
    const port = await freePort();
    // Seed per project: job names carry it, so the two runs do not clash.
    const seed = hydrated(testInfo) ? "11" : "12";
    sim = spawn(
      binary,
      [
        "veeam-sim", "--listen", `127.0.0.1:${port}`, "--jobs", "4", "--history-days", "3", "--seed", seed,
        "--speed", "30", "--run-minutes", "1", "--no-schedules",
      ],
      { stdio: "ignore" },
    );
    await listening(port);
    simUrl = `https://127.0.0.1:${port}`;
  });

  test.afterEach(async () => {
    sim?.kill("SIGTERM");
  });

  test("an admin adds the simulator, syncs it and starts a job that runs to the end", async ({ page }, testInfo) => {
    const serverName = `Simulator ${testInfo.project.name}`;
    // Chosen before the first sync: without schedules an idle job stays idle.
    const jobName = await idleJob(simUrl);
    await page.goto("/settings");
    if (hydrated(testInfo)) await waitForHydration(page);
    const form = page.getByTestId("add-veeam-server");
    await form.getByLabel("Name", { exact: true }).fill(serverName);
    await form.getByLabel("Address").fill(simUrl);
    await form.getByLabel("User name").fill("administrator");
    await form.getByLabel("Password", { exact: true }).fill("simulator");
    await form.getByLabel("Accept a self-signed certificate (not verified)").check();
    // Synced on demand below rather than by the background schedule.
    await form.getByLabel("Sync this server").uncheck();
    await form.getByRole("button", { name: "Add a Veeam server" }).click();

    const card = page.locator(`[data-testid="veeam-server"][data-name="${serverName}"]`);
    await expect(card).toBeVisible();
    await expect(card.getByTestId("server-status")).toHaveText("Not synced yet");
    await expect(card).toContainText("self-signed accepted");

    await card.getByTestId("test-server").click();
    if (hydrated(testInfo)) {
      await expect(page.getByTestId("test-outcome")).toContainText("Connected: Veeam Backup & Replication 13.1.0.411");
    }
    await card.getByTestId("sync-server").click();
    await reloadUntil(page, testInfo, async () => (await card.getByTestId("server-status").innerText()) === "OK");
    await expect(card.getByTestId("server-jobs")).toHaveText("4");
    await screenshot(page, testInfo, "veeam-servers");

    await page.goto(`/jobs?q=${encodeURIComponent(jobName)}`);
    await page.getByRole("link", { name: jobName }).first().click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(jobName);
    if (hydrated(testInfo)) await waitForHydration(page);
    const actions = page.getByTestId("veeam-actions");
    await expect(actions.getByTestId("veeam-status")).toHaveAttribute("data-status", "inactive");
    await expect(actions.getByTestId("veeam-status")).toHaveText("Idle");
    const before = await page.getByTestId("run-row").count();

    await actions.getByTestId("veeam-start").click();
    if (hydrated(testInfo)) {
      await expect(page.getByTestId("action-outcome")).toContainText("The job was started");
    }
    // The run appears at once (recorded from Veeam's answer) ...
    await reloadUntil(page, testInfo, async () => (await page.getByTestId("run-row").count()) > before);
    // ... and finishes when the session ends (a minute of simulated time).
    await reloadUntil(page, testInfo, async () => {
      const result = await page.getByTestId("run-row").first().getAttribute("data-result");
      return result !== null && result !== "running";
    });
    expect(["success", "warning", "failed"]).toContain(await page.getByTestId("run-row").first().getAttribute("data-result"));
    await screenshot(page, testInfo, "veeam-job");

    await page.goto("/repositories");
    if (hydrated(testInfo)) await waitForHydration(page);
    await expect(page.locator('[data-testid="repository"][data-name="NAS Archive"]').first()).toContainText("Low free space");
    await screenshot(page, testInfo, "repositories");

    // Both pages fit a 375 px phone.
    await page.setViewportSize({ width: 375, height: 740 });
    for (const path of ["/settings", "/repositories"]) {
      await page.goto(path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} is wider than the phone`).toBeLessThanOrEqual(0);
    }
    await screenshot(page, testInfo, "repositories-phone");
  });
});
