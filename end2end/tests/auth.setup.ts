// Signs the test administrator in through the login form and saves the
// session for the other tests.
import { test as setup, expect } from "@playwright/test";
import { E2E_ADMIN, E2E_ADMIN_PASSWORD } from "./helpers";

setup("sign in as the test administrator", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel(/Username/).fill(E2E_ADMIN);
  await page.getByLabel(/^Password/).fill(E2E_ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-menu")).toContainText(E2E_ADMIN);
  await page.context().storageState({ path: "artifacts/admin-state.json" });
});
