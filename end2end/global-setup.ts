// Starts the release server for the whole run: a free port, a fresh data
// directory, the embedded SQLite database. The first admin's one-time
// password, printed once on the console, is handed to the tests.
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { E2E_ADMIN, E2E_ADMIN_PASSWORD, freePort } from "./tests/helpers";

const root = path.resolve(__dirname, "..");

async function waitForHealth(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited with ${child.exitCode}; see ${log}`);
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server did not become healthy within 60 s; see ${log}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bms-e2e-"));
  const artifacts = path.join(__dirname, "artifacts");
  fs.mkdirSync(path.join(artifacts, "screenshots"), { recursive: true });
  const logPath = path.join(artifacts, "server.log");
  const log = fs.createWriteStream(logPath);

  const binary = process.env.BMS_E2E_BINARY ?? path.join(root, "target", "release", "backup-mgmt");
  // Only our own settings reach the server: it rejects unknown BMS_ keys.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("BMS_")) env[key] = value;
  }
  Object.assign(env, {
    BMS_LISTEN: `127.0.0.1:${port}`,
    BMS_BASE_URL: baseUrl,
    BMS_DATA_DIR: dataDir,
    BMS_LOG_FORMAT: "json",
    // Many sign-ins from one address within a minute are the point of a
    // browser test run; the default limit is covered by the API tests.
    BMS_LOGIN_RATE_PER_MINUTE: "1000",
    LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, "target", "site"),
  });

  // Three weeks of realistic history for twelve jobs, so the dashboard,
  // charts and screenshots have something to show.
  const seeded = spawnSync(binary, ["demo-data", "--jobs", "12", "--days", "21", "--seed", "7"], { env, encoding: "utf8" });
  if (seeded.status !== 0) throw new Error(`demo-data failed: ${seeded.stderr}`);

  const child = spawn(binary, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk.toString();
    log.write(chunk);
  });
  child.stderr!.on("data", (chunk) => log.write(chunk));

  await waitForHealth(baseUrl, child, logPath);
  const match = stdout.match(/one-time password:\s*(\S+)/);
  if (!match) throw new Error(`the server printed no one-time password; see ${logPath}`);

  // A second administrator with a known password for the tests that just
  // need to be signed in; `admin` keeps its one-time password for the
  // first-sign-in test.
  const created = spawnSync(binary, ["create-admin", "--username", E2E_ADMIN, "--email", "e2e@example.co.jp", "--password-stdin"], {
    env,
    input: `${E2E_ADMIN_PASSWORD}\n`,
    encoding: "utf8",
  });
  if (created.status !== 0) throw new Error(`create-admin failed: ${created.stderr}`);

  process.env.E2E_BASE_URL = baseUrl;
  process.env.E2E_FIRST_ADMIN_PASSWORD = match[1];

  return async () => {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    log.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
