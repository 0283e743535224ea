import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshotPath, startServe } from "../support/browser.js";
import type { SluiceProcess } from "../support/cli.js";
import { readParquetFacts } from "../support/outputs.js";
import { CSV, readFileState, writeSchemas } from "../support/reprocess.js";
import { makeSandbox, readManifest, type Sandbox, warehouseFiles } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * Reprocess in a real headless Chromium against a real `sluice serve --schema FILE` (SQLite on disk, local
 * warehouse): a CSV is ingested under schema A (every row valid); the operator changes FILE to schema B (`value` an
 * integer: the 2.5 row turns invalid, no restart) and clicks Reprocess on the file's detail. While the server
 * holds the reprocess between placing the new outputs and switching to them (SLUICE_PAUSE_AT), the button is
 * disabled and says "reprocessing…"; then the page shows generation 1, its profile and invalid row, and a history
 * of two generations; on disk only the new generation's Parquet is left.
 */

const NO_CHROMIUM = missing("chromium");
/** Long enough for the page to be looked at while the server is held, under a loaded 2-core machine. */
const PAUSE_MS = 8_000;

let browser: Browser;
let sandbox: Sandbox;
let sluice: SluiceProcess;
let base: string;
let schemaB: string;
let schemaFile: string;

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  browser = await launchChromium();
  sandbox = makeSandbox();
  const { a, b } = writeSchemas(sandbox);
  schemaB = b;
  schemaFile = join(sandbox.root, "schema.json");
  copyFileSync(a, schemaFile);
  ({ sluice, base } = await startServe(sandbox, ["--schema", schemaFile], {
    SLUICE_PAUSE_AT: "reprocess-before-switch",
    SLUICE_PAUSE_MS: String(PAUSE_MS),
  }));
});

afterAll(async () => {
  await browser?.close();
  if (sluice?.child.exitCode === null) await sluice.stop();
  sandbox?.cleanup();
});

/** The warehouse's files of `r.csv` but the raw one, by name. */
const outputs = () =>
  warehouseFiles(sandbox.warehouse)
    .map((p) => p.replace(/^.*\//, ""))
    .filter((n) => n.startsWith("r.csv."))
    .sort();

describe.skipIf(NO_CHROMIUM)("reprocess from the dashboard", () => {
  it("reprocesses a stored CSV under a changed schema: generation 1, its profile, a history of two", async () => {
    mkdirSync(sandbox.input, { recursive: true });
    writeFileSync(join(sandbox.input, "r.csv"), CSV);
    await sluice.waitForCount("file_ingested", 1, 90_000);
    const id = readManifest(sandbox.manifests).find((l) => l.name === "r.csv")?.ingest_id as string;
    expect(id).toBeTruthy();
    const before = await readFileState(sandbox, id);
    expect(before.rec).toMatchObject({ generation: 0, processing: { schema: "feed-a", invalidCount: 0 } });
    expect(outputs()).toEqual(["r.csv.parquet"]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    try {
      await page.goto(`${base}/#/files/${id}`);
      await page.locator("h1 .badge-processed").waitFor({ timeout: 30_000 });
      expect(await page.getByTestId("generation").textContent()).toBe("0");
      const history = page.locator("table.history tbody tr");
      await history.first().waitFor({ timeout: 30_000 });
      expect(await history.count()).toBe(1);
      expect(await page.locator("#invalid-title").count()).toBe(0);

      // The operator changes the schema file; the running service reads it again for the reprocess.
      copyFileSync(schemaB, schemaFile);
      const button = page.getByRole("button", { name: "Reprocess r.csv" });
      await button.click();
      // Held by the server between its new outputs and the switch: the page says it is working, once.
      await sluice.waitFor(() => sluice.stderr.includes("SLUICE_PAUSE_AT=reprocess-before-switch reached"), 60_000);
      expect(await button.isDisabled()).toBe(true);
      expect(await page.locator(".reprocess-running").textContent()).toContain("reprocessing…");
      expect(await page.getByTestId("generation").textContent()).toBe("0");
      await page.screenshot({ path: screenshotPath("reprocess-running"), fullPage: true });

      // The answer: the view at generation 1, its profile and invalid row, and both generations in the history.
      await page.getByTestId("generation").filter({ hasText: "1 (reprocessed)" }).waitFor({ timeout: 90_000 });
      expect(await button.isEnabled()).toBe(true);
      expect(await page.locator(".reprocess-running").count()).toBe(0);
      await page.locator("h1 .badge-partial").waitFor({ timeout: 30_000 });
      expect(await page.locator("#invalid-title").textContent()).toBe("Invalid rows (1)");
      await page.locator("table.invalid-rows tbody tr").first().waitFor({ timeout: 30_000 });
      expect(await page.locator("table.invalid-rows tbody tr td.num").allTextContents()).toEqual(["2"]);
      const parquet = page.locator(".profile", { hasText: "r.csv.g1.parquet" });
      expect(await parquet.locator("h3").textContent()).toBe("Parquet · 3 rows");
      await history.nth(1).waitFor({ timeout: 30_000 });
      expect(await history.count()).toBe(2);
      const cells = async (n: number) => (await history.nth(n).locator("td").allTextContents()).map((t) => t.trim());
      const [g0, g1] = [await cells(0), await cells(1)];
      expect([g0[0], g0[1], g0[3], g0[4], g0[6]]).toEqual(["0", "ingested", "processed", "feed-a", "0"]);
      expect(g0[5]).toBe("Parquet: 4 rows");
      expect([g1[0], g1[1], g1[3], g1[4], g1[6]]).toEqual(["1 (current)", "reprocessed", "partial", "feed-b", "1"]);
      expect(g1[5]).toBe("Parquet: 3 rowsRejected rows file: —");
      expect(g1[2]).not.toBe("—");
      await page.screenshot({ path: screenshotPath("reprocess-done"), fullPage: true });
    } finally {
      await context.close();
    }
    expect(problems, "errors thrown in the page").toEqual([]);

    // On disk: only the new generation's outputs; its Parquet holds the 3 rows valid under B.
    expect(outputs()).toEqual(["r.csv.g1.parquet", "r.csv.g1.rejects.jsonl"]);
    const after = await readFileState(sandbox, id);
    expect(after.rec).toMatchObject({ generation: 1, processing: { schema: "feed-b", invalidCount: 1 } });
    const g1 = after.rec.processing?.outputs.find((o) => o.kind === "parquet")?.path as string;
    expect(g1).toMatch(/r\.csv\.g1\.parquet$/);
    expect((await readParquetFacts(g1)).rows).toBe(3);
    expect(after.history.map((h) => [h.generation, h.kind])).toEqual([
      [0, "ingested"],
      [1, "reprocessed"],
    ]);
  });
});
