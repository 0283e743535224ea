import { copyFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshotPath, startServe } from "../support/browser.js";
import type { SluiceProcess } from "../support/cli.js";
import { fixture, fixtureFacts } from "../support/fixture-files.js";
import { sleep } from "../support/fixtures.js";
import { makeSandbox, type Sandbox } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * The dashboard in a real headless Chromium against a real `sluice serve`
 * (SQLite on disk, a real staging directory): what an operator does in it,
 * checked against the generator's facts for the uploaded file and the API's own answers.
 * Needs /usr/bin/chromium: without it the file is skipped, and the global setup says so (CI fails on a skip).
 */

interface SensorFacts {
  row_count: number;
  invalid_row_count: number;
  per_sensor_count: Record<string, number>;
  invalid_rows: { row: number; reason: string; line: string }[];
}

const DIRTY = fixture("sensors/sensors_dirty.csv");
const DIRTY_NAME = basename(DIRTY);
const facts = fixtureFacts<SensorFacts>("sensors/sensors_dirty.expected.json");
/** Counts as the dashboard prints them ("98,300"). */
const asShown = (n: number) => n.toLocaleString("en-US");
const NO_CHROMIUM = missing("chromium");

let browser: Browser;
let sandbox: Sandbox;
let sluice: SluiceProcess;
let base: string;

async function serve(s: Sandbox, extra: string[] = []): Promise<{ p: SluiceProcess; url: string }> {
  const { sluice: p, base: url } = await startServe(s, ["--schema", "sensor-readings", ...extra]);
  return { p, url };
}

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  // A script error in the page fails the test that caused it, with the message.
  page.on("close", () => expect(problems, "errors thrown in the page").toEqual([]));
  return { context, page };
}

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  browser = await launchChromium();
  sandbox = makeSandbox();
  ({ p: sluice, url: base } = await serve(sandbox));
});

afterAll(async () => {
  await browser?.close();
  if (sluice?.child.exitCode === null) await sluice.stop();
  sandbox?.cleanup();
});

describe.skipIf(NO_CHROMIUM)("dashboard", () => {
  it("uploads the dirty sensor CSV through the page, follows it to partial, and shows its per-sensor counts and invalid rows", async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/#/upload`);
    await page.setInputFiles("#file-picker", DIRTY);
    const entry = page.getByTestId("upload-entry").filter({ hasText: DIRTY_NAME });
    await entry.locator(".badge-partial").waitFor({ timeout: 90_000 });
    expect(await entry.locator("progress").getAttribute("value")).toBe("100");
    await page.screenshot({ path: screenshotPath("upload"), fullPage: true });

    await entry.getByTestId("upload-detail-link").click();
    await page.locator("h1 .badge-partial").waitFor();
    expect(await page.locator("h1 .file-name").textContent()).toBe(DIRTY_NAME);
    const aggregations = page.getByTestId("aggregations");
    await expect.poll(() => aggregations.textContent()).toContain(`row_count${asShown(facts.row_count)}`);

    // Every sensor's count, read off the table under the bar chart, equals the generator's facts.
    const perSensor = page.getByTestId("per-sensor");
    await perSensor.locator("canvas").first().waitFor();
    await perSensor.locator("summary").click();
    const shown = await perSensor
      .locator("tbody tr")
      .evaluateAll((rows) =>
        rows.map((r) => [r.querySelector("th")?.textContent ?? "", r.querySelector("td")?.textContent ?? ""]),
      );
    expect(Object.fromEntries(shown.map(([k, v]) => [k, Number(String(v).replaceAll(",", ""))]))).toEqual(
      facts.per_sensor_count,
    );

    // The invalid rows: total, then the first row with its number and reason, then the next page.
    const first = facts.invalid_rows[0]!;
    await expect
      .poll(() => page.locator("#invalid-title").textContent())
      .toBe(`Invalid rows (${asShown(facts.invalid_row_count)})`);
    const firstRow = page.locator(".invalid-rows tbody tr").first();
    await expect.poll(() => firstRow.locator("td").first().textContent()).toBe(String(first.row));
    expect(await firstRow.locator(".reason").textContent()).toMatch(new RegExp(`^${first.reason}: `));
    await page.screenshot({ path: screenshotPath("file-detail"), fullPage: false });
    await page.screenshot({ path: screenshotPath("file-detail-full"), fullPage: true });
    // The page size is the dashboard's choice: read it off the pager ("Rows 1–25 of 1,700").
    const range =
      (await page.getByText(new RegExp(`^Rows 1–\\d+ of ${asShown(facts.invalid_row_count)}$`)).textContent()) ?? "";
    const pageSize = Number(/–(\d+)/.exec(range)?.[1]);
    expect(pageSize).toBeGreaterThan(1);
    await page.getByRole("button", { name: "Next →" }).click();
    const page2 = facts.invalid_rows[pageSize]!;
    await expect.poll(() => firstRow.locator("td").first().textContent()).toBe(String(page2.row));
    expect(await firstRow.locator(".reason").textContent()).toMatch(new RegExp(`^${page2.reason}: `));
    await context.close();
  });

  it("moves the overview chart and counters while files are ingested", async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/#/`);
    const total = page.getByTestId("window-total");
    await total.waitFor();
    const ingested = page.getByTestId("count-ingested").locator(".counter-value");
    const canvas = page.getByTestId("throughput-chart").locator("canvas");
    await canvas.waitFor();
    const num = async (l: typeof total) => Number(((await l.textContent()) ?? "").replaceAll(",", ""));
    const before = { total: await num(total), ingested: await num(ingested) };
    const pixelsBefore = await canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());

    // 60 files over about 6 s: several throughput slots see traffic.
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < 10; i++) {
        writeFileSync(join(sandbox.input, `chart-${batch}-${i}.txt`), `chart file ${batch}/${i} ${Date.now()}\n`);
      }
      await sleep(1000);
    }
    await expect.poll(() => num(ingested), { timeout: 30_000 }).toBeGreaterThanOrEqual(before.ingested + 60);
    await expect.poll(() => num(total), { timeout: 10_000 }).toBeGreaterThanOrEqual(before.total + 60);
    await expect
      .poll(() => canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL()), { timeout: 10_000 })
      .not.toBe(pixelsBefore);
    await page.screenshot({ path: screenshotPath("overview"), fullPage: true });
    await context.close();
  });

  it("lists files newest first with live updates, filters by status and searches by name", async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/#/files`);
    const rows = page.locator("table.files tbody tr");
    await rows.first().waitFor();
    writeFileSync(join(sandbox.input, "live-arrival.txt"), `arrived while the page was open ${Date.now()}\n`);
    // No reload: the poll brings the new file to the top of the first page.
    await expect.poll(() => rows.first().locator("td a").textContent(), { timeout: 20_000 }).toBe("live-arrival.txt");
    await page.screenshot({ path: screenshotPath("files"), fullPage: false });

    await page.getByLabel("Status").selectOption("partial");
    await expect.poll(() => rows.locator(".badge").allTextContents()).toEqual(["partial"]);
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Name contains").fill("CHART-3-");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => rows.count()).toBe(10);
    expect((await rows.locator("td a").allTextContents()).every((n) => n.startsWith("chart-3-"))).toBe(true);

    // 60+ files: page 2 exists, holds older files, and Newer goes back.
    await page.getByLabel("Name contains").fill("chart-");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => rows.count()).toBe(25);
    const firstOfPage1 = await rows.first().locator("td a").textContent();
    await page.getByRole("button", { name: "Older →" }).click();
    await expect.poll(() => page.getByText("Page 2").count()).toBe(1);
    await expect.poll(() => rows.first().locator("td a").textContent()).not.toBe(firstOfPage1);
    await page.getByRole("button", { name: "← Newer" }).click();
    await expect.poll(() => rows.first().locator("td a").textContent()).toBe(firstOfPage1);
    await context.close();
  });

  it("shows a quarantined file on the Errors page with its reason and when, and on its detail", async () => {
    const { context, page } = await newPage();
    copyFileSync(fixture("archives/hostile/truncated.tar.gz"), join(sandbox.input, "cut-short.tar.gz"));
    // The service's own log first: if the file never fails, the test says what the service did instead.
    await sluice.waitFor((evs) => evs.some((e) => e.event === "file_failed" && e.name === "cut-short.tar.gz"), 60_000);
    await page.goto(`${base}/#/errors`);
    const row = page.locator("table.errors tbody tr").filter({ hasText: "cut-short.tar.gz" });
    await row.waitFor({ timeout: 30_000 });
    // What the page shows is what the API recorded.
    const api = (await (await fetch(`${base}/api/v1/files?status=failed&q=cut-short`)).json()) as {
      items: { name: string; error: { code: string; message: string } }[];
    };
    const failed = api.items.find((f) => f.name === "cut-short.tar.gz")!;
    expect(failed.error.code).toBe("SLUICE_ERR_ARCHIVE_CORRUPT");
    expect(await row.locator(".reason").textContent()).toBe(`${failed.error.code} ${failed.error.message}`);
    expect(await row.locator("td").nth(2).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await row.locator("td").nth(3).textContent()).toContain(sandbox.errors);
    await page.screenshot({ path: screenshotPath("errors"), fullPage: true });
    await row.locator("a").click();
    await page.locator("#error-title").waitFor();
    expect(await page.locator(".error-box").textContent()).toContain(failed.error.message);
    await context.close();
  });
});

describe.skipIf(NO_CHROMIUM)("dashboard with an API token", () => {
  it("asks for the token once, keeps it for the session, and asks again when it is refused", async () => {
    const s = makeSandbox();
    const { p, url } = await serve(s, ["--api-token", "dash-s3cret-token"]);
    try {
      const { context, page } = await newPage();
      await page.goto(`${url}/#/`);
      const dialog = page.getByRole("dialog");
      await dialog.waitFor();
      await page.screenshot({ path: screenshotPath("token-prompt") });
      await dialog.getByLabel("API token").fill("wrong-token");
      await dialog.getByRole("button", { name: "Continue" }).click();
      await expect.poll(() => dialog.textContent()).toContain("refused");
      await dialog.getByLabel("API token").fill("dash-s3cret-token");
      await dialog.getByRole("button", { name: "Continue" }).click();
      await page.getByTestId("count-ingested").waitFor();
      expect(await dialog.count()).toBe(0);
      // Other pages and a reload use the kept token: no second prompt.
      await page.goto(`${url}/#/files`);
      await page.reload();
      await page.locator("table.files").waitFor();
      await sleep(2500);
      expect(await page.getByRole("dialog").count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.getItem("sluice.apiToken"))).toBe("dash-s3cret-token");
      // The token never goes anywhere but the page's own session: a new context (a new session) is asked again.
      const other = await browser.newContext();
      const fresh = await other.newPage();
      await fresh.goto(`${url}/#/`);
      await fresh.getByRole("dialog").waitFor();
      await other.close();
      await context.close();
    } finally {
      await p.stop();
      s.cleanup();
    }
  });
});
