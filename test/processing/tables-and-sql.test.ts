import { basename } from "node:path";
import { describe, expect, test } from "vitest";
import type { SqlDumpFacts } from "../fixtures/lib/sql-facts.js";
import type { CsvFacts } from "../fixtures/lib/tables-csv.js";
import type { JsonFacts } from "../fixtures/lib/tables-json.js";
import { expectCodeColumn, expectDumpOutputs, expectTableOutputs } from "../suites/run-outputs.js";
import { runOnce } from "../support/cli.js";
import { fixtureFacts, stageFixtures } from "../support/fixture-files.js";
import { argsFor, useSandboxes } from "../support/fixtures.js";
import type { ProcessedLine } from "../support/outputs.js";
import { readManifest } from "../support/sandbox.js";

/**
 * `sluice run` end to end on this project's own tables and SQL dumps (test/fixtures/gen/tables.ts and sql.ts):
 * every file becomes Parquet with exactly the rows and columns its generator wrote, and the manifest says so.
 */

const sandbox = useSandboxes();

/** Stages the files under staging's root, runs sluice once, and returns the manifest lines. */
async function runOn(files: string[]): Promise<ProcessedLine[]> {
  const s = sandbox();
  stageFixtures(s.input, files);
  const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  return readManifest(s.manifests) as ProcessedLine[];
}

describe("tabular files become Parquet with the generator's exact facts", () => {
  test("every CSV, TSV, JSON array and JSON lines file; JSON objects are stored without a table", async () => {
    const csv = fixtureFacts<Record<string, CsvFacts>>("tables/csv.expected.json");
    const json = fixtureFacts<Record<string, JsonFacts>>("tables/json.expected.json");
    const all = { ...csv, ...json };
    const lines = await runOn(Object.keys(all));
    await expectTableOutputs(
      lines,
      Object.entries(all).map(([rel, f]) => [basename(rel), f]),
    );
    // The manifest line carries the profile: codes with leading zeros are text, with their null count, min and max.
    for (const [rel, f] of Object.entries(csv)) {
      for (const c of f.code_columns ?? []) {
        await expectCodeColumn(lines, basename(rel), { name: c.name, null_count: c.nulls, min: c.min, max: c.max });
      }
    }
    expect(Object.values(csv).flatMap((f) => f.code_columns ?? [])).toHaveLength(2);
  });
});

describe("SQL dumps", () => {
  test("each dump yields one Parquet per table with the exact row counts", async () => {
    const facts = Object.entries(fixtureFacts<Record<string, SqlDumpFacts | string>>("sql/sql.expected.json")).filter(
      (e): e is [string, SqlDumpFacts] => e[0].endsWith(".sql"),
    );
    const lines = await runOn(facts.map(([rel]) => rel));
    await expectDumpOutputs(
      lines,
      facts.map(([rel, f]) => [basename(rel), f]),
    );
  });
});
