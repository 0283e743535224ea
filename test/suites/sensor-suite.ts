import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCsvHead } from "../../src/processors/tabular/csv-head.js";
import { convertValidatedCsv } from "../../src/processors/tabular/csv-validated.js";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular } from "../../src/processors/tabular/index.js";
import { SENSOR_READINGS } from "../../src/processors/validate/index.js";

/**
 * The facts a sensor-readings file's generator states (this project's test/fixtures/gen/sensors.ts, or the shared
 * corpus' sensors/gen_sensors.py: the same keys). Row numbers are 1-based data rows, the header excluded.
 */
export interface SensorFacts {
  row_count: number;
  invalid_row_count: number;
  min_value: number;
  max_value: number;
  min_timestamp: string;
  max_timestamp: string;
  per_sensor_count: Record<string, number>;
  per_sensor_min: Record<string, number>;
  per_sensor_max: Record<string, number>;
  /** The sum of the valid values, exact (one decimal). */
  value_sum_exact: string;
  invalid_rows: { row: number; reason: string; line: string }[];
}

const DUCK = { memoryLimit: "512MB", threads: 2 };

/**
 * The message the preset gives an invalid row of `sensor_id,timestamp,value` (rules-sql.ts states the texts):
 * the rule, then the field and what it held. Blank means whitespace only.
 */
function presetMessage(line: string, reason: string): string {
  const f = line.split(",");
  const blank = (x: string | undefined) => (x ?? "").trim() === "";
  switch (reason) {
    case "extra_column":
      return "extra_column: the row has more fields than the 3 header columns";
    case "missing_field":
      return `missing_field: the row has ${f.length} fields, the header has 3`;
    case "empty_sensor_id":
      return "empty_sensor_id: sensor_id is empty";
    case "bad_timestamp":
      return blank(f[1])
        ? "bad_timestamp: timestamp is empty"
        : `bad_timestamp: timestamp '${f[1]}' is not an ISO-8601 timestamp or epoch seconds`;
    case "non_numeric_value":
      return blank(f[2]) ? "non_numeric_value: value is empty" : `non_numeric_value: value '${f[2]}' is not a number`;
    case "nan_or_infinity":
      return `nan_or_infinity: value '${f[2]}' is not a finite number`;
    default:
      throw new Error(`no message known for ${reason}`);
  }
}

/**
 * The sensor-readings preset on a dirty sensor CSV, through convertTabular and the validated-CSV converter:
 * every invalid row reported (number, reason, original line), exactly the valid rows aggregated and written, and
 * the same file without its invalid rows taking the one-pass path to the same result. Used by the main suite
 * (generated fixture) and the conformance tier (the shared corpus' file), so both check the same things.
 */
export function sensorPresetSuite(dirtyPath: string, facts: SensorFacts): void {
  let reader: DuckSession;
  let out: string;
  let dirty: ConvertResult;
  let clean: string;

  beforeAll(async () => {
    reader = await openDuck(DUCK);
    out = await mkdtemp(join(tmpdir(), "sluice-tabular-sensors-"));
    dirty = await convertTabular(dirtyPath, "csv", join(out, "dirty.parquet"), {
      ...DUCK,
      schema: SENSOR_READINGS,
      rejectsPath: join(out, "dirty.rejects.jsonl"),
    });
    // The same file without its invalid rows: what a clean feed looks like.
    const bad = new Set(facts.invalid_rows.map((r) => r.row));
    const lines = readFileSync(dirtyPath, "utf8").split("\n");
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

  describe(`${basename(dirtyPath)} with the sensor-readings preset`, () => {
    it("reports every invalid row with its data-row number and reason code, in order", () => {
      const v = dirty.validation;
      expect(v?.status).toBe("partial");
      expect(v?.invalidCount).toBe(facts.invalid_row_count);
      expect(v?.invalidRows.map((r) => [r.row, r.error.split(":")[0]])).toEqual(
        facts.invalid_rows.map((r) => [r.row, r.reason]),
      );
      // Both generators make the second invalid row a non-numeric "abc": the message is checked word for word.
      expect(facts.invalid_rows[1]?.line.endsWith(",abc")).toBe(true);
      expect(v?.invalidRows[1]?.error).toBe("non_numeric_value: value 'abc' is not a number");
    });

    it("says for every invalid row which rule failed, on which field, and what the field held", () => {
      expect(dirty.validation?.invalidRows.map((r) => r.error)).toEqual(
        facts.invalid_rows.map((r) => presetMessage(r.line, r.reason)),
      );
    });

    it("aggregates exactly the valid rows", () => {
      expect(dirty.validation?.rowCount).toBe(facts.row_count);
      expect(dirty.validation?.aggregations).toEqual({
        row_count: facts.row_count,
        min_value: facts.min_value,
        max_value: facts.max_value,
        min_timestamp: facts.min_timestamp,
        max_timestamp: facts.max_timestamp,
        per_sensor_count: facts.per_sensor_count,
      });
    });

    it("writes typed columns and only the valid rows", async () => {
      const src = `read_parquet(${sqlString(dirty.parquetPath as string)})`;
      expect((await query(`DESCRIBE SELECT * FROM ${src}`)).map((c) => [c.column_name, c.column_type])).toEqual([
        ["sensor_id", "VARCHAR"],
        ["timestamp", "TIMESTAMP WITH TIME ZONE"],
        ["value", "DOUBLE"],
      ]);
      const [got] = await query(
        `SELECT count(*) AS n, min(value) AS lo, max(value) AS hi, count(*) FILTER (WHERE sensor_id = '') AS blank FROM ${src}`,
      );
      expect(got).toEqual({ n: BigInt(facts.row_count), lo: facts.min_value, hi: facts.max_value, blank: 0n });
      expect(dirty.profile?.rowCount).toBe(facts.row_count);
      // Exactly the valid values, each under its own sensor: the sum (in exact decimals) and every sensor's range.
      const [sum] = await query(`SELECT sum(CAST(value AS DECIMAL(18, 1)))::VARCHAR AS total FROM ${src}`);
      expect(sum?.total).toBe(facts.value_sum_exact);
      const ranges = await query(
        `SELECT sensor_id, min(value) AS lo, max(value) AS hi FROM ${src} GROUP BY sensor_id ORDER BY sensor_id`,
      );
      expect(Object.fromEntries(ranges.map((x) => [x.sensor_id, x.lo]))).toEqual(facts.per_sensor_min);
      expect(Object.fromEntries(ranges.map((x) => [x.sensor_id, x.hi]))).toEqual(facts.per_sensor_max);
    });

    it("writes every invalid row to the rejects file as JSONL {row, error, line}", () => {
      const lines = readFileSync(join(out, "dirty.rejects.jsonl"), "utf8").trim().split("\n");
      const parsed = lines.map((l) => JSON.parse(l) as { row: number; error: string; line: string });
      expect(parsed.map((r) => [r.row, r.error.split(":")[0], r.line])).toEqual(
        facts.invalid_rows.map((r) => [r.row, r.reason, r.line]),
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
        const input = { path: clean, head, fileBytes: (await stat(clean)).size, outTmp };
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
      expect(fast.result).toMatchObject({ path: "typed", rowCount: facts.row_count, invalidCount: 0 });
      expect(staged.result).toMatchObject({ path: "staged", rowCount: facts.row_count, invalidCount: 0 });
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
}
