import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { badNeverStopsSuite, lineFor, sensorPresetRunSuite } from "../../suites/processing-suite.js";
import type { SensorFacts } from "../../suites/sensor-suite.js";
import { runOnce } from "../../support/cli.js";
import { argsFor, useSandboxes } from "../../support/fixtures.js";
import { readManifest } from "../../support/sandbox.js";
import { CORPUS, corpusFacts, type ProcessedLine, readParquetFacts, stage } from "../shared-corpus.js";

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
    for (const [rel, f] of Object.entries(facts)) {
      const name = `${rel.includes("vega") ? "vega" : "spectrum"}/${rel.split("/").pop()}`;
      const line = lineFor(lines, name);
      const out = line.processing?.outputs.find((o) => o.kind === "parquet");
      if (f.rows === undefined) {
        // csv-spectrum's location_coordinates.json is a bare object: stored, no table, a note says why.
        expect(out, name).toBeUndefined();
        expect(line.processing?.note, name).toMatch(/not a table/);
        continue;
      }
      expect(out, `${name}: ${JSON.stringify(line.processing)}`).toBeDefined();
      const pq = await readParquetFacts(out?.path as string);
      expect({ name, rows: pq.rows, columns: pq.columns }).toEqual({ name, rows: f.rows, columns: f.columns });
      expect(out?.row_count).toBe(f.rows);
    }
    // The manifest line carries the profile: per column its type, null count, min and max.
    const zipProfile = lineFor(lines, "vega/zipcodes.csv").processing?.outputs[0]?.columns?.[0];
    expect(zipProfile).toEqual({ name: "zip_code", type: "VARCHAR", null_count: 0, min: "00501", max: "99950" });
    // zipcodes keeps its leading zeros: codes are strings, not numbers.
    const zip = lineFor(lines, "vega/zipcodes.csv").processing?.outputs[0]?.path as string;
    expect((await readParquetFacts(zip)).types[0]).toBe("VARCHAR");
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
    const lines = readManifest(s.manifests) as ProcessedLine[];
    for (const [rel, f] of Object.entries(facts)) {
      const name = rel.split("/").pop() as string;
      const line = lineFor(lines, name);
      const rows = f.rows ?? f.valid_lines;
      const out = line.processing?.outputs.find((o) => o.kind === "parquet");
      if (rows === undefined) {
        // Not a table (londonBoroughs, miserables, volcano): the raw file is ingested, no Parquet, a note says why.
        expect(line.status).toBe("ingested");
        expect(out).toBeUndefined();
        expect(line.processing?.note, name).toBeTruthy();
        continue;
      }
      expect(out, `${name}: ${JSON.stringify(line.processing)}`).toBeDefined();
      const pq = await readParquetFacts(out?.path as string);
      expect({ name, rows: pq.rows }).toEqual({ name, rows });
      if (f.columns) expect([...pq.columns].sort()).toEqual([...f.columns].sort());
    }
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
    const lines = readManifest(s.manifests) as ProcessedLine[];
    for (const [rel, f] of Object.entries(facts)) {
      const name = rel.split("/").pop() as string;
      const p = lineFor(lines, name).processing;
      expect(p?.processor).toBe("sql-dump");
      const got: Record<string, number> = {};
      for (const o of p?.outputs ?? []) got[o.table as string] = (await readParquetFacts(o.path)).rows;
      const want: Record<string, number> = {};
      for (const [t, v] of Object.entries(f.tables)) if (v.rows > 0) want[t] = v.rows;
      expect({ name, tables: got }).toEqual({ name, tables: want });
    }
  });
});

badNeverStopsSuite(join(CORPUS, "bad"), corpusFacts("bad/bad.expected.json"));
