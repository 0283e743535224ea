import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshotPath, startServe } from "../support/browser.js";
import type { SluiceProcess } from "../support/cli.js";
import { READINGS_CSV, rowsNamed, writeSchema } from "../support/requeue-fixtures.js";
import { listFiles, makeSandbox, type Sandbox } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * Requeue in a real headless Chromium against a real `sluice serve --schema FILE` (SQLite on disk): a CSV that does
 * not fit the schema fails; the operator fixes the schema file (no restart) and clicks Requeue on the Errors page;
 * the new attempt appears, done, and links back to the failed one.
 */

const NO_CHROMIUM = missing("chromium");

let browser: Browser;
let sandbox: Sandbox;
let sluice: SluiceProcess;
let base: string;

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  browser = await launchChromium();
  sandbox = makeSandbox();
  writeSchema(join(sandbox.root, "schema.json"), false);
  ({ sluice, base } = await startServe(sandbox, ["--schema", join(sandbox.root, "schema.json")]));
});

afterAll(async () => {
  await browser?.close();
  if (sluice?.child.exitCode === null) await sluice.stop();
  sandbox?.cleanup();
});

describe.skipIf(NO_CHROMIUM)("requeue from the dashboard", () => {
  it("requeues a quarantined file after its schema was fixed: the new attempt is done and links back", async () => {
    mkdirSync(sandbox.input, { recursive: true });
    writeFileSync(join(sandbox.input, "readings-e2e.csv"), READINGS_CSV);
    await sluice.waitForCount("file_failed", 1, 90_000);
    const [failed] = rowsNamed(sandbox, "readings-e2e.csv");
    expect(failed).toMatchObject({ state: "failed", error_code: "SLUICE_ERR_NO_VALID_ROWS" });

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    try {
      await page.goto(`${base}/#/errors`);
      const row = page.locator("table.errors tbody tr", { hasText: "readings-e2e.csv" });
      await row.waitFor({ timeout: 30_000 });
      expect(await row.locator(".reason code").textContent()).toBe("SLUICE_ERR_NO_VALID_ROWS");

      // The operator fixes the schema file; the running service reads it again for the next file.
      writeSchema(join(sandbox.root, "schema.json"), true);
      await row.getByRole("button", { name: "Requeue readings-e2e.csv" }).click();
      // The page's own polling shows the link once the pipeline recorded the new attempt.
      const link = row.getByRole("link", { name: "new attempt" });
      await link.waitFor({ timeout: 90_000 });
      expect(await row.locator(".requeued").textContent()).toBe("requeued → new attempt");
      await page.screenshot({ path: screenshotPath("requeue-errors"), fullPage: true });
      await link.click();

      // The new attempt's detail: done (processed) and a link back to the failed attempt.
      await page.locator("h1 .badge-processed").waitFor({ timeout: 90_000 });
      expect(await page.locator("h1 .file-name").textContent()).toBe("readings-e2e.csv");
      const back = page.getByRole("link", { name: "the failed attempt" });
      await back.waitFor();
      expect(await back.getAttribute("href")).toBe(`#/files/${failed?.ingest_id}`);
      await page.screenshot({ path: screenshotPath("requeue-new-attempt"), fullPage: true });
      await back.click();
      await page.locator("h1 .badge-failed").waitFor();
      await page.getByRole("link", { name: "new attempt" }).waitFor();
    } finally {
      await context.close();
    }
    expect(problems, "errors thrown in the page").toEqual([]);
    const [old, fresh] = rowsNamed(sandbox, "readings-e2e.csv");
    expect(fresh).toMatchObject({ state: "done", requeued_from: old?.ingest_id });
    expect(old?.requeued_to).toBe(fresh?.ingest_id);
    expect(listFiles(sandbox.errors)).toEqual([]);
  });
});
