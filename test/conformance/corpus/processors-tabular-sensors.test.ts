import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCsvHead } from "../../../src/processors/tabular/csv-head.js";
import { convertValidatedCsv } from "../../../src/processors/tabular/csv-validated.js";
import { type DuckSession, openDuck, sqlString } from "../../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular } from "../../../src/processors/tabular/index.js";
import { SENSOR_READINGS } from "../../../src/processors/validate/index.js";

import { CORPUS } from "../shared-corpus.js";

const SENSORS = join(CORPUS, "sensors");
const DIRTY = join(SENSORS, "sensors_dirty_100k.csv");
const DUCK = { memoryLimit: "512MB", threads: 2 };

interface Expected {
  row_count: number;
  invalid_row_count: number;
  min_value: number;
  max_value: number;
  min_timestamp: string;
  max_timestamp: string;
  per_sensor_count: Record<string, number>;
  invalid_rows: { row: number; reason: string; line: string }[];
}
const EXPECTED = JSON.parse(readFileSync(join(SENSORS, "sensors_dirty_100k.expected.json"), "utf8")) as Expected;

let reader: DuckSession;
let out: string;
let dirty: ConvertResult;
let clean: string;

beforeAll(async () => {
  reader = await openDuck(DUCK);
  out = await mkdtemp(join(tmpdir(), "sluice-tabular-sensors-"));
  dirty = await convertTabular(DIRTY, "csv", join(out, "dirty.parquet"), {
    ...DUCK,
    schema: SENSOR_READINGS,
    rejectsPath: join(out, "dirty.rejects.jsonl"),
  });
  // The same file without its invalid rows: what a clean feed looks like.
  const bad = new Set(EXPECTED.invalid_rows.map((r) => r.row));
  const lines = readFileSync(DIRTY, "utf8").split("\n");
  clean = join(out, "clean.csv");
  writeFileSync(clean, lines.filter((_, i) => i === 0 || !bad.has(i)).join("\n"));
});
afterAll(async () => {
  reader?.close();
  await rm(out, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();
}

describe("sensors_dirty_100k.csv with the sensor-readings preset", () => {
  it("reports every invalid row with its data-row number and reason code, in order", () => {
    const v = dirty.validation;
    expect(v?.status).toBe("partial");
    expect(v?.invalidCount).toBe(EXPECTED.invalid_row_count);
    expect(v?.invalidRows.map((r) => [r.row, r.error.split(":")[0]])).toEqual(
      EXPECTED.invalid_rows.map((r) => [r.row, r.reason]),
    );
    expect(v?.invalidRows[1]?.error).toBe("non_numeric_value: value 'abc' is not a number");
  });

  it("aggregates exactly the valid rows", () => {
    expect(dirty.validation?.rowCount).toBe(EXPECTED.row_count);
    expect(dirty.validation?.aggregations).toEqual({
      row_count: EXPECTED.row_count,
      min_value: EXPECTED.min_value,
      max_value: EXPECTED.max_value,
      min_timestamp: EXPECTED.min_timestamp,
      max_timestamp: EXPECTED.max_timestamp,
      per_sensor_count: EXPECTED.per_sensor_count,
    });
  });

  it("writes typed columns and only the valid rows", async () => {
    const src = `read_parquet(${sqlString(dirty.parquetPath as string)})`;
    expect((await query(`DESCRIBE SELECT * FROM ${src}`)).map((c) => [c.column_name, c.column_type])).toEqual([
      ["sensor_id", "VARCHAR"],
      ["timestamp", "TIMESTAMP WITH TIME ZONE"],
      ["value", "DOUBLE"],
    ]);
    const [facts] = await query(
      `SELECT count(*) AS n, min(value) AS lo, max(value) AS hi, count(*) FILTER (WHERE sensor_id = '') AS blank FROM ${src}`,
    );
    expect(facts).toEqual({ n: BigInt(EXPECTED.row_count), lo: EXPECTED.min_value, hi: EXPECTED.max_value, blank: 0n });
    expect(dirty.profile?.rowCount).toBe(EXPECTED.row_count);
  });

  it("writes every invalid row to the rejects file as JSONL {row, error, line}", () => {
    const lines = readFileSync(join(out, "dirty.rejects.jsonl"), "utf8").trim().split("\n");
    const parsed = lines.map((l) => JSON.parse(l) as { row: number; error: string; line: string });
    expect(parsed.map((r) => [r.row, r.error.split(":")[0], r.line])).toEqual(
      EXPECTED.invalid_rows.map((r) => [r.row, r.reason, r.line]),
    );
  });
});

describe("the one-pass path for clean files", () => {
  async function direct(onePass: boolean, name: string) {
    const session = await openDuck(DUCK);
    try {
      await session.conn.run("SET TimeZone = 'UTC'");
      const head = await readCsvHead(clean, ",");
      const outTmp = join(out, name);
      const input = { path: clean, delim: ",", head, fileBytes: (await stat(clean)).size, outTmp };
      return {
        outTmp,
        result: await convertValidatedCsv(session.conn, input, SENSOR_READINGS, undefined, { onePass }),
      };
    } finally {
      session.close();
    }
  }

  it("a clean file takes the one-pass path and gives the same Parquet as the row-by-row path", async () => {
    const fast = await direct(true, "fast.parquet");
    const staged = await direct(false, "staged.parquet");
    expect(fast.result).toMatchObject({ path: "typed", rowCount: EXPECTED.row_count, invalidCount: 0 });
    expect(staged.result).toMatchObject({ path: "staged", rowCount: EXPECTED.row_count, invalidCount: 0 });
    const a = `read_parquet(${sqlString(fast.outTmp)}, file_row_number = true)`;
    const b = `read_parquet(${sqlString(staged.outTmp)}, file_row_number = true)`;
    const [diff] = await query(`SELECT count(*) AS n FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`);
    expect(diff?.n).toBe(0n);
    expect((await query(`DESCRIBE SELECT * FROM ${a}`)).map((c) => c.column_type)).toEqual(
      (await query(`DESCRIBE SELECT * FROM ${b}`)).map((c) => c.column_type),
    );
  });

  it("through convertTabular: processed, the same aggregations as the dirty file's valid rows", async () => {
    const r = await convertTabular(clean, "csv", join(out, "clean.parquet"), { ...DUCK, schema: SENSOR_READINGS });
    expect(r.validation?.status).toBe("processed");
    expect(r.validation?.invalidRows).toEqual([]);
    expect(r.validation?.aggregations).toEqual(dirty.validation?.aggregations);
  });
});
