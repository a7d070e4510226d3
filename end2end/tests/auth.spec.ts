// Sign-in, the forced first password change, creating users, and roles
// enforced for browser navigation, with and without JavaScript.
import { test, expect } from "@playwright/test";
import { anonymousPage, hydrated, screenshot, signIn, waitForHydration } from "./helpers";

test.describe("accounts and roles", () => {
  test("the first admin signs in with the one-time password and must choose a new one", async ({ browser }, testInfo) => {
    test.skip(!hydrated(testInfo), "the first admin can sign in for the first time only once; the no-JS project covers the same forms with a created user");
    const page = await anonymousPage(browser, testInfo);
    const otp = process.env.E2E_FIRST_ADMIN_PASSWORD!;
    await page.goto("/users");
    await expect(page).toHaveURL(/\/login\?next=%2Fusers/);
    await waitForHydration(page);
    await screenshot(page, testInfo, "login");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel(/^Password/).fill(otp);
    await page.getByTestId("login-form").getByRole("button").click();
    await expect(page).toHaveURL(/\/change-password\?next=%2Fusers/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose a new password");
    // Anything else sends back here until the password is changed.
    await page.goto("/jobs");
    await expect(page).toHaveURL(/\/change-password/);
    await waitForHydration(page);
    await page.getByLabel("Current password").fill(otp);
    await page.getByLabel("New password", { exact: true }).fill("short");
    await page.getByLabel("New password again").fill("short");
    await page.getByTestId("password-form").getByRole("button").click();
    // The browser refuses a too-short password before submitting.
    await expect(page).toHaveURL(/\/change-password/);
    await page.getByLabel("New password", { exact: true }).fill("the first admin's own passphrase");
    await page.getByLabel("New password again").fill("the first admin's own passphrase");
    await page.getByTestId("password-form").getByRole("button").click();
    await expect(page).toHaveURL(/\/jobs$/);
    await expect(page.getByTestId("user-menu")).toContainText("admin");
    await page.context().close();
  });

  test("an admin creates an operator, who may not see the users page", async ({ page, browser }, testInfo) => {
    const username = `op-${testInfo.project.name}`;
    await page.goto("/users");
    if (hydrated(testInfo)) await waitForHydration(page);
    const form = page.getByTestId("create-user-form");
    await form.getByLabel("Username").fill(username);
    await form.getByLabel("E-mail").fill(`${username}@example.co.jp`);
    await form.getByLabel("Role").selectOption("operator");
    await form.getByLabel("Language").selectOption("en");
    await form.getByRole("button", { name: "Add user" }).click();
    const notice = page.getByTestId("secret-notice");
    await expect(notice).toContainText(`One-time password for ${username}`);
    const otp = (await page.getByTestId("secret-value").first().textContent())!.trim();
    expect(otp).toHaveLength(20);
    await expect(page.locator(`[data-testid="user-row"][data-username="${username}"]`)).toBeVisible();
    await screenshot(page, testInfo, "users-created");

    // The operator, in a second browser.
    const operator = await anonymousPage(browser, testInfo);
    await signIn(operator, testInfo, username, otp, "operator's chosen passphrase");
    const nav = operator.getByRole("navigation", { name: "Main navigation" });
    await expect(nav.getByRole("link", { name: "Jobs" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
    const response = await operator.goto("/users");
    expect(response?.status()).toBe(403);
    await expect(operator.getByTestId("forbidden")).toBeVisible();
    await screenshot(operator, testInfo, "users-forbidden");
    // The server refuses the data too, not just the page.
    const api = await operator.request.post("/api/fn/users/list", { headers: { Origin: testInfo.project.use.baseURL! } });
    expect(api.status()).toBe(403);
    await operator.context().close();
  });

  test("a wrong password is refused with a message, and signing out ends the session", async ({ browser }, testInfo) => {
    const page = await anonymousPage(browser, testInfo);
    await page.goto("/login");
    if (hydrated(testInfo)) await waitForHydration(page);
    await page.getByLabel("Username").fill("e2e-admin");
    await page.getByLabel(/^Password/).fill("not the password at all");
    await page.getByTestId("login-form").getByRole("button").click();
    await expect(page.getByTestId("form-error")).toHaveText("Wrong username or password.");
    await signIn(page, testInfo, "e2e-admin", "e2e admin passphrase 42");
    await page.getByTestId("logout").click();
    await expect(page).toHaveURL(/\/login(\?next=.*)?$/);
    await page.goto("/jobs");
    await expect(page).toHaveURL(/\/login\?next=%2Fjobs/);
    await page.context().close();
  });

  test("a user creates an API token and sees its secret once", async ({ page }, testInfo) => {
    await page.goto("/profile");
    if (hydrated(testInfo)) await waitForHydration(page);
    const form = page.getByTestId("token-form");
    await form.getByLabel("Name").fill(`nightly restic (${testInfo.project.name})`);
    await form.getByLabel("Scope").selectOption("ingest");
    await form.getByRole("button", { name: "Create token" }).click();
    await expect(page.getByTestId("secret-notice")).toContainText("Secret of the token");
    const secret = (await page.getByTestId("secret-value").first().textContent())!.trim();
    expect(secret).toMatch(/^bms_/);
    await expect(page.getByTestId("token-row").first()).toContainText(`nightly restic (${testInfo.project.name})`);
    // Created without an expiry: the list says so.
    await expect(page.getByTestId("token-row").first().getByTestId("token-no-expiry")).toBeVisible();
    await screenshot(page, testInfo, "profile-token");
    // Shown once: a reload does not show it again.
    await page.reload();
    await expect(page.getByTestId("secret-notice")).toHaveCount(0);
    // The token works for the API.
    const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${secret}` } });
    expect(me.status()).toBe(200);
    expect((await me.json()).scope).toBe("ingest");
  });

  test("the audit log lists sign-ins", async ({ page }, testInfo) => {
    await page.goto("/audit?action=auth.");
    await expect(page.getByTestId("audit-table")).toContainText("auth.login");
    await screenshot(page, testInfo, "audit");
  });
});
