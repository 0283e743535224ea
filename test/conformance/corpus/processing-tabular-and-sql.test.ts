import { basename, join } from "node:path";
import { describe, expect, test } from "vitest";
import { badNeverStopsSuite, sensorPresetRunSuite } from "../../suites/processing-suite.js";
import { expectCodeColumn, expectDumpOutputs, expectTableOutputs } from "../../suites/run-outputs.js";
import type { SensorFacts } from "../../suites/sensor-suite.js";
import { runOnce } from "../../support/cli.js";
import { argsFor, useSandboxes } from "../../support/fixtures.js";
import { readManifest } from "../../support/sandbox.js";
import { CORPUS, corpusFacts, type ProcessedLine, stage } from "../shared-corpus.js";

const sandbox = useSandboxes();

describe("tabular files become Parquet with the corpus' exact facts", () => {
  test("every CSV and TSV of the corpus", async () => {
    const s = sandbox();
    const facts = corpusFacts<{ rows: number; columns: string[] }>("csv/csv.expected.json");
    const files = Object.keys(facts);
    stage(
      s.input,
      files.filter((f) => f.includes("vega")),
      "vega",
    );
    stage(
      s.input,
      files.filter((f) => f.includes("csv-spectrum")),
      "spectrum",
    );
    const r = await runOnce(argsFor(s, "--recursive", "--stability-seconds", "0"), { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = readManifest(s.manifests) as ProcessedLine[];
    const sub = (rel: string) => (rel.includes("vega") ? "vega" : "spectrum");
    await expectTableOutputs(
      lines,
      Object.entries(facts).map(([rel, f]) => [`${sub(rel)}/${basename(rel)}`, f]),
    );
    // The manifest line carries the profile; zipcodes keeps its leading zeros: codes are strings, not numbers.
    await expectCodeColumn(lines, "vega/zipcodes.csv", { name: "zip_code", null_count: 0, min: "00501", max: "99950" });
  });

  test("every JSON array and JSONL file; JSON objects are stored without a table", async () => {
    const s = sandbox();
    const facts = corpusFacts<{
      rows?: number;
      lines?: number;
      valid_lines?: number;
      columns?: string[];
      kind?: string;
    }>("json/json.expected.json");
    stage(s.input, Object.keys(facts));
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    // Objects (londonBoroughs, miserables, volcano) are ingested as is: no Parquet, a note says why.
    await expectTableOutputs(
      readManifest(s.manifests) as ProcessedLine[],
      Object.entries(facts).map(([rel, f]) => [basename(rel), f]),
    );
  });
});

sensorPresetRunSuite(
  join(CORPUS, "sensors", "sensors_dirty_100k.csv"),
  corpusFacts("sensors/sensors_dirty_100k.expected.json") as unknown as SensorFacts,
);

describe("SQL dumps", () => {
  test("each dump yields one Parquet per table with the exact row counts", async () => {
    const s = sandbox();
    const facts = Object.fromEntries(
      Object.entries(corpusFacts<{ tables: Record<string, { rows: number }> }>("sql/sql.expected.json")).filter(([k]) =>
        k.endsWith(".sql"),
      ),
    );
    stage(s.input, Object.keys(facts));
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    await expectDumpOutputs(
      readManifest(s.manifests) as ProcessedLine[],
      Object.entries(facts).map(([rel, f]) => [basename(rel), f]),
    );
  });
});

badNeverStopsSuite(join(CORPUS, "bad"), corpusFacts("bad/bad.expected.json"));
