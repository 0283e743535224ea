import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

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
