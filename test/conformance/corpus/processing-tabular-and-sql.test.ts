import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runOnce } from "../../support/cli.js";
import {
  CORPUS,
  corpusFacts,
  invalidRowsInState,
  type ProcessedLine,
  readParquetFacts,
  stage,
} from "../shared-corpus.js";
import { argsFor, readState, useSandboxes } from "../../support/fixtures.js";
import { listFiles, readManifest } from "../../support/sandbox.js";

const sandbox = useSandboxes();

/** The manifest line of `name`; for a duplicate, its original's (a duplicate is not processed again). */
function lineFor(lines: ProcessedLine[], name: string): ProcessedLine {
  const l = lines.find((x) => x.name === name);
  if (!l) throw new Error(`no manifest line for ${name}`);
  if (l.status !== "duplicate") return l;
  const original = lines.find((x) => x.ingest_id === l.duplicate_of);
  if (!original) throw new Error(`no manifest line for the original of ${name}`);
  return original;
}

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

describe("the sensor readings preset", () => {
  test("sensors_dirty_100k.csv: exact aggregations, every invalid row with its reason, rejects kept", async () => {
    const s = sandbox();
    stage(s.input, ["sensors/sensors_dirty_100k.csv"]);
    const r = await runOnce(argsFor(s, "--stability-seconds", "0", "--schema", "sensor-readings"), {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const expected = JSON.parse(readFileSync(join(CORPUS, "sensors/sensors_dirty_100k.expected.json"), "utf8"));
    const line = lineFor(readManifest(s.manifests) as ProcessedLine[], "sensors_dirty_100k.csv");
    const p = line.processing;
    expect(p?.status).toBe("partial");
    expect(p?.aggregations?.row_count).toBe(expected.row_count);
    expect(p?.aggregations?.min_value).toBe(expected.min_value);
    expect(p?.aggregations?.max_value).toBe(expected.max_value);
    expect(p?.aggregations?.per_sensor_count).toEqual(expected.per_sensor_count);
    expect(p?.invalid_count).toBe(expected.invalid_row_count);
    expect(p?.invalid_rows?.length).toBe(20);
    expect(p?.invalid_rows_more).toBe(expected.invalid_row_count - 20);
    const inState = invalidRowsInState(s.statePath, line.ingest_id);
    expect(inState.map((x) => [x.row, x.error.split(":")[0]])).toEqual(
      expected.invalid_rows.map((x: { row: number; reason: string }) => [x.row, x.reason]),
    );
    const parquet = p?.outputs.find((o) => o.kind === "parquet")?.path as string;
    const pq = await readParquetFacts(parquet);
    expect(pq.rows).toBe(expected.row_count);
    expect(pq.columns).toEqual(["sensor_id", "timestamp", "value"]);
    const rejects = p?.outputs.find((o) => o.kind === "rejects")?.path as string;
    expect(readFileSync(rejects, "utf8").trim().split("\n")).toHaveLength(expected.invalid_row_count);
  });
});

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

describe("bad input never stops the service", () => {
  test("every file in bad/ ends converted (with its invalid rows) or quarantined with a reason", async () => {
    const s = sandbox();
    const facts = corpusFacts("bad/bad.expected.json");
    stage(
      s.input,
      Object.keys(facts).map((n) => `bad/${n}`),
    );
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    const st = readState(s.statePath);
    const lines = readManifest(s.manifests) as ProcessedLine[];
    const errors = listFiles(s.errors);
    for (const name of Object.keys(facts)) {
      const row = st.files.find((f) => f.name === name);
      expect(row, name).toBeDefined();
      if (row?.state === "failed") {
        const doc = errors.find((e) => e.endsWith(`_${name}.error.json`));
        expect(doc, `${name} has its .error.json`).toBeDefined();
        const reason = JSON.parse(readFileSync(join(s.errors, doc as string), "utf8"));
        expect(reason.code, name).toMatch(/^SLUICE_ERR_/);
        expect(reason.reason.length, name).toBeGreaterThan(10);
      } else {
        expect(["done", "duplicate"], name).toContain(row?.state);
        expect(lineFor(lines, name).processing, name).toBeDefined();
      }
    }
    expect(existsSync(join(s.input, "empty.csv"))).toBe(false);
    expect(listFiles(s.input)).toEqual([]);
  });
});
