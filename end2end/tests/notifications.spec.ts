// The delivery log: an administrator's rule sends a job's failure to a
// webhook receiver; the delivery shows as sent, with the worker's health.
import * as http from "node:http";
import { expect, test } from "@playwright/test";
import { adminApi, hydrated, screenshot, waitForHydration } from "./helpers";

test("a failure reaches a webhook and the delivery log shows it sent", async ({ page }, testInfo) => {
  const received: unknown[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const api = await adminApi(testInfo);
  const suffix = `${testInfo.project.name}-${Date.now() % 100000}`;
  const channel = await api.post("/api/v1/notifications/channels", {
    data: { name: `hook ${suffix}`, kind: "webhook", locale: "en", config: { url: `http://127.0.0.1:${port}/hook` } },
  });
  expect(channel.status(), await channel.text()).toBe(201);
  const { id: channelId } = await channel.json();
  const job = await api.post("/api/v1/jobs", { data: { name: `notified ${suffix}` } });
  expect(job.status()).toBe(201);
  const { id: jobId, ping_url: pingUrl } = await job.json();
  const rule = await api.post("/api/v1/notifications/rules", {
    data: { name: `rule ${suffix}`, events: ["run_failed"], channel_ids: [channelId], job_filter: { kind: "jobs", job_ids: [jobId] } },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  const failed = await api.post(`${new URL(pingUrl).pathname}/fail`);
  expect(failed.status()).toBe(200);

  await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
  expect(received[0]).toMatchObject({ event: "run_failed", subject: `notified ${suffix}`, job_id: jobId });

  await page.goto("/notifications?status=sent");
  if (hydrated(testInfo)) await waitForHydration(page);
  const row = page.getByTestId("delivery-row").filter({ hasText: `notified ${suffix}` });
  await expect(row).toHaveAttribute("data-status", "sent");
  await expect(row).toContainText(`hook ${suffix} (webhook)`);
  await expect(page.getByTestId("worker-health")).toContainText("waiting");
  await screenshot(page, testInfo, "delivery-log");
  await api.dispose();
  receiver.close();
});
