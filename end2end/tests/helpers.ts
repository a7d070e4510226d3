// Shared helpers for the browser tests.
import { Page, TestInfo, expect } from "@playwright/test";
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
