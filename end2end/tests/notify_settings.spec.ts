// Settings → Notifications: an administrator creates an e-mail channel and
// a rule in the UI, a job fails through its ping URL, the e-mail reaches a
// real SMTP listener and the delivery log shows it sent; "Send test" on a
// channel pointing at a closed port shows why it failed.
import * as net from "node:net";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { adminApi, freePort, hydrated, screenshot, waitForHydration } from "./helpers";

/** A small SMTP receiver: answers every command and keeps each message. */
async function smtpReceiver(): Promise<{ port: number; messages: string[]; close: () => void }> {
  const messages: string[] = [];
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.write("220 e2e ESMTP ready\r\n");
    let buffer = "";
    let inData = false;
    let data = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let end: number;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            messages.push(data);
            data = "";
            socket.write("250 2.0.0 queued\r\n");
          } else {
            data += (line.startsWith("..") ? line.slice(1) : line) + "\r\n";
          }
          continue;
        }
        const command = line.slice(0, 4).toUpperCase();
        if (command === "EHLO") socket.write("250-e2e\r\n250 8BITMIME\r\n");
        else if (command === "DATA") {
          inData = true;
          socket.write("354 end with .\r\n");
        } else if (command === "QUIT") {
          socket.write("221 bye\r\n");
          socket.end();
        } else socket.write("250 OK\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { port, messages, close: () => server.close() };
}

async function openForm(page: Page, testId: string, summary: string): Promise<Locator> {
  const form = page.getByTestId(testId);
  if (!(await form.isVisible())) await page.locator("summary", { hasText: summary }).click();
  await expect(form).toBeVisible();
  return form;
}

async function addEmailChannel(page: Page, name: string, port: number): Promise<void> {
  const form = await openForm(page, "add-channel", "Add a channel");
  await form.getByLabel("Name", { exact: true }).fill(name);
  await form.getByLabel("Kind", { exact: true }).selectOption("email");
  await form.getByLabel("Language of messages", { exact: true }).selectOption("en");
  await form.getByLabel("SMTP server", { exact: true }).fill("127.0.0.1");
  await form.getByLabel("Port", { exact: true }).fill(String(port));
  await form.getByLabel("Security", { exact: true }).selectOption("none");
  await form.getByLabel("From", { exact: true }).fill("backup@example.co.jp");
  await form.getByLabel("To (comma-separated)", { exact: true }).fill("ops@example.co.jp");
  await form.getByRole("button", { name: "Add a channel" }).click();
  await expect(page.locator(`[data-testid="channel"][data-name="${name}"]`)).toBeVisible();
}

test("an admin sets up e-mail alerts in the UI and a failure is delivered", async ({ page }, testInfo) => {
  const smtp = await smtpReceiver();
  const suffix = `${testInfo.project.name}-${Date.now() % 100000}`.toLowerCase();
  const channelName = `mail ${suffix}`;
  const jobName = `mailed ${suffix}`;
  const tag = `e2e-${suffix}`;
  const api = await adminApi(testInfo);
  const job = await api.post("/api/v1/jobs", { data: { name: jobName, tags: [tag] } });
  expect(job.status(), await job.text()).toBe(201);
  const { ping_url: pingUrl } = await job.json();

  await page.goto("/settings");
  if (hydrated(testInfo)) await waitForHydration(page);
  await addEmailChannel(page, channelName, smtp.port);

  const rule = await openForm(page, "add-rule", "Add a rule");
  await rule.getByLabel("Name", { exact: true }).fill(`alerts ${suffix}`);
  await expect(rule.getByLabel("Run failed")).toBeChecked();
  await rule.getByLabel(channelName, { exact: true }).check();
  await rule.getByLabel("Jobs with one of these tags").check();
  await rule.getByLabel("Tags", { exact: true }).fill(tag);
  await rule.getByRole("button", { name: "Add a rule" }).click();
  const card = page.locator(`[data-testid="rule"][data-name="alerts ${suffix}"]`);
  await expect(card).toBeVisible();
  await expect(card).toContainText(`Run failed, Run missed, Job recovered → ${channelName}`);
  await screenshot(page, testInfo, "notification-settings");
  // The page was redrawn after the save: the add form (now folded, a rule
  // exists) still shows every field when opened, so a second rule can be added.
  const again = await openForm(page, "add-rule", "Add a rule");
  await expect(again.getByLabel("Run warning")).toBeVisible();
  await expect(again.getByLabel(channelName, { exact: true })).toBeVisible();
  await expect(again.getByLabel("Chosen jobs")).toBeVisible();
  await expect(again.getByLabel("Alert after this many failures in a row")).toBeVisible();
  // ... and a second rule is added with them (switched off, so it sends nothing here).
  await again.getByLabel("Name", { exact: true }).fill(`second ${suffix}`);
  await again.getByLabel(channelName, { exact: true }).check();
  await again.getByLabel("Enabled", { exact: true }).uncheck();
  await again.getByRole("button", { name: "Add a rule" }).click();
  await expect(page.locator(`[data-testid="rule"][data-name="second ${suffix}"]`)).toContainText("Off");

  const failed = await api.post(`${new URL(pingUrl).pathname}/fail`);
  expect(failed.status()).toBe(200);
  await expect.poll(() => smtp.messages.length, { timeout: 20_000 }).toBe(1);
  const mail = smtp.messages[0];
  expect(mail).toContain(`Subject: Backup failed: ${jobName}`);
  expect(mail).toContain("To: ops@example.co.jp");
  expect(mail).toContain("multipart/alternative");

  await page.goto("/notifications?status=sent");
  if (hydrated(testInfo)) await waitForHydration(page);
  const row = page.getByTestId("delivery-row").filter({ hasText: jobName });
  await expect(row).toHaveAttribute("data-status", "sent");
  await expect(row).toContainText(`${channelName} (email)`);
  await api.dispose();
  smtp.close();
});

test("send test on a channel pointing at a closed port says why it failed", async ({ page }, testInfo) => {
  const closed = await freePort();
  const name = `closed ${testInfo.project.name}-${Date.now() % 100000}`;
  await page.goto("/settings");
  if (hydrated(testInfo)) await waitForHydration(page);
  await addEmailChannel(page, name, closed);
  const card = page.locator(`[data-testid="channel"][data-name="${name}"]`);
  await card.getByTestId("test-channel").click();
  if (hydrated(testInfo)) {
    const outcome = page.getByTestId("channel-test-outcome");
    await expect(outcome).toContainText("Not sent:", { timeout: 30_000 });
    await expect(outcome).toHaveClass(/alert-error/);
  } else {
    // Without JavaScript the form posts and the page comes back; the channel is still there.
    await expect(card).toBeVisible();
  }
});
