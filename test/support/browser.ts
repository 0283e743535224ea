import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { SluiceProcess } from "./cli.js";
import type { Sandbox } from "./sandbox.js";

/** Debian's Chromium: installed by `.ci/run` with apt, never downloaded by Playwright. */
export const CHROMIUM = "/usr/bin/chromium";

/** Where the dashboard tests write their screenshots (kept by CI as artifacts; ignored by git). */
export const SCREENSHOTS = fileURLToPath(new URL("../../test-artifacts/dashboard/", import.meta.url));

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules` to give a test server a name of its own. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    // Failing, not skipping: a browser test that silently does not run proves nothing.
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", ...extraArgs],
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name}.png`);
}

/**
 * `sluice serve` on a free loopback port for the browser tests, with a short stability window and rescan, started
 * and listening. `extra`: more flags (`--schema`); `env`: more environment (a test-only pause point).
 */
export async function startServe(
  sandbox: Sandbox,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ sluice: SluiceProcess; base: string }> {
  const sluice = new SluiceProcess(
    [
      "serve",
      ...sandbox.args,
      "--listen",
      "127.0.0.1:0",
      "--stability-seconds",
      "0.3",
      "--scan-interval",
      "1",
      ...extra,
    ],
    { env },
  );
  await sluice.waitForCount("http_listening", 1, 60_000);
  return { sluice, base: String(sluice.named("http_listening")[0]?.address) };
}
