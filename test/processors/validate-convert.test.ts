import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular, type TabularFormat } from "../../src/processors/tabular/index.js";
import { type FeedSchema, loadSchemaOption, SENSOR_READINGS } from "../../src/processors/validate/index.js";

const DUCK = { memoryLimit: "256MB", threads: 2 };
let reader: DuckSession;
let dir: string;

beforeAll(async () => {
  reader = await openDuck(DUCK);
  await reader.conn.run("SET TimeZone = 'UTC'");
  dir = await mkdtemp(join(tmpdir(), "sluice-validate-convert-"));
});
afterAll(async () => {
  reader?.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(
  name: string,
  content: string | Buffer,
  schema: FeedSchema = SENSOR_READINGS,
): Promise<ConvertResult> {
  const path = join(dir, name);
  writeFileSync(path, content);
  const format = name.split(".").pop() as TabularFormat;
  return convertTabular(path, format, `${path}.parquet`, { ...DUCK, schema, rejectsPath: `${path}.rejects.jsonl` });
}

async function rows(r: ConvertResult, select = "*"): Promise<Record<string, unknown>[]> {
  const sql = `SELECT ${select} FROM read_parquet(${sqlString(r.parquetPath as string)})`;
  return (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();
}

async function types(r: ConvertResult): Promise<string[][]> {
  const sql = `DESCRIBE SELECT * FROM read_parquet(${sqlString(r.parquetPath as string)})`;
  return (await reader.conn.runAndReadAll(sql))
    .getRowObjectsJS()
    .map((c) => [String(c.column_name), String(c.column_type)]);
}

const codes = (r: ConvertResult) => r.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]]);

describe("CSV/TSV with a schema", () => {
  it("accepts epoch seconds and offsets, storing UTC instants", async () => {
    const r = await run("epoch.csv", "sensor_id,timestamp,value\nS1,1709251200,1.5\nS2,2024-03-01T02:00:01+02:00,2\n");
    expect(r.validation?.status).toBe("processed");
    expect(r.validation?.aggregations).toMatchObject({
      min_timestamp: "2024-03-01T00:00:00Z",
      max_timestamp: "2024-03-01T00:00:01Z",
    });
  });

  it("binds header names ignoring case, writes the schema's names, keeps extra columns as text", async () => {
    const r = await run("case.csv", "Sensor_ID,Timestamp,VALUE,site\nS1,2024-03-01T00:00:00Z,1.5,north\n");
    expect(await types(r)).toEqual([
      ["sensor_id", "VARCHAR"],
      ["timestamp", "TIMESTAMP WITH TIME ZONE"],
      ["value", "DOUBLE"],
      ["site", "VARCHAR"],
    ]);
    expect(r.validation?.aggregations).toMatchObject({ per_sensor_count: { S1: 1 } });
  });

  it("a required column missing from the header fails every row, naming it", async () => {
    const r = await run("nots.csv", "sensor_id,value\nS1,1\nS2,2\n");
    expect(r.parquetPath).toBeNull();
    expect(r.validation?.status).toBe("failed");
    expect(r.validation?.invalidRows).toEqual(
      [1, 2].map((row) => ({
        row,
        error: "missing_field: timestamp is missing (no such column in the header)",
      })),
    );
    expect(readFileSync(join(dir, "nots.csv.rejects.jsonl"), "utf8").trim().split("\n")).toHaveLength(2);
  });

  it("numbers rows by record: a quoted newline does not shift them; rejected and checked rows interleave", async () => {
    const csv = [
      "sensor_id,timestamp,value,note",
      'S1,2024-03-01T00:00:00Z,1,"two\nlines"',
      "S2,2024-03-01T00:00:01Z,abc,x",
      "S3,2024-03-01T00:00:02Z,3,x,extra,more",
      'S4,2024-03-01T00:00:03Z,4,"three\nmore\nlines"',
      ",2024-03-01T00:00:04Z,5,x",
      "S6,2024-03-01T00:00:05Z,6",
      "S7,2024-03-01T00:00:06Z,7,x",
    ].join("\n");
    const r = await run("records.csv", csv);
    expect(codes(r)).toEqual([
      [2, "non_numeric_value"],
      [3, "extra_column"],
      [5, "empty_sensor_id"],
      [6, "missing_field"],
    ]);
    expect((await rows(r, "sensor_id, note")).map((x) => [x.sensor_id, x.note])).toEqual([
      ["S1", "two\nlines"],
      ["S4", "three\nmore\nlines"],
      ["S7", "x"],
    ]);
  });

  it("TSV, UTF-16 and mixed line endings go through the same checks", async () => {
    const tsv = await run("s.tsv", "sensor_id\ttimestamp\tvalue\nS1\t2024-03-01T00:00:00Z\t1\nS2\tbad\t2\n");
    expect(codes(tsv)).toEqual([[2, "bad_timestamp"]]);
    const text = "sensor_id,timestamp,value\r\nS1,2024-03-01T00:00:00Z,1\r\nS2,2024-03-01T00:00:01Z,NaN\r\n";
    const utf16 = await run("u16.csv", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    expect(codes(utf16)).toEqual([[2, "nan_or_infinity"]]);
    const mixed = await run(
      "mixed.csv",
      "sensor_id,timestamp,value\r\nS1,2024-03-01T00:00:00Z,1\nS2,2024-03-01T00:00:01Z,x\r\n",
    );
    expect(codes(mixed)).toEqual([[2, "non_numeric_value"]]);
  });

  it("a header alone gives an empty, typed Parquet", async () => {
    const r = await run("header.csv", "sensor_id,timestamp,value\n");
    expect(r.validation).toMatchObject({ status: "processed", rowCount: 0, invalidCount: 0 });
    expect((await types(r)).map((t) => t[1])).toEqual(["VARCHAR", "TIMESTAMP WITH TIME ZONE", "DOUBLE"]);
  });

  it("no valid row: failed, no Parquet", async () => {
    const r = await run("allbad.csv", "sensor_id,timestamp,value\nS1,never,1\n,2024-03-01T00:00:00Z,1\n");
    expect(r).toMatchObject({ parquetPath: null, validation: { status: "failed", rowCount: 0, invalidCount: 2 } });
  });
});

describe("JSON and JSONL with a schema", () => {
  it("JSONL: bad lines and bad values are rows of the same numbering (blank lines are not records)", async () => {
    const lines = [
      '{"sensor_id": "S1", "timestamp": "2024-03-01T00:00:00Z", "value": 1.5}',
      '{"sensor_id": "S2", "timestamp": "2024-03-01T00:00:01Z", "value": NaN}',
      "",
      '{"sensor_id": "", "timestamp": "2024-03-01T00:00:02Z", "value": 2}',
      '{"sensor_id": "S4", "timestamp": "yesterday", "value": 2}',
      '{"sensor_id": "S5", "value": 2}',
      '{"sensor_id": "S6", "timestamp": 1709251200, "value": "2.5"}',
      "[1, 2]",
    ];
    const r = await run("s.jsonl", lines.join("\n"));
    expect(codes(r)).toEqual([
      [2, "invalid_json"],
      [3, "empty_sensor_id"],
      [4, "bad_timestamp"],
      [5, "missing_field"],
      [7, "invalid_json"],
    ]);
    expect(await rows(r, "sensor_id, value, epoch(timestamp) AS t")).toEqual([
      { sensor_id: "S1", value: 1.5, t: 1709251200 },
      { sensor_id: "S6", value: 2.5, t: 1709251200 },
    ]);
  });

  it("JSON array: typed output, invalid elements numbered by position", async () => {
    const doc = [
      { sensor_id: "S1", timestamp: "2024-03-01T00:00:00Z", value: 1 },
      { sensor_id: "S2", timestamp: "2024-03-01T00:00:00Z", value: "lots" },
    ];
    const r = await run("s.json", JSON.stringify(doc));
    expect(codes(r)).toEqual([[2, "non_numeric_value"]]);
    expect((await types(r)).map((t) => t[1])).toEqual(["VARCHAR", "TIMESTAMP WITH TIME ZONE", "DOUBLE"]);
  });
});

describe("a user schema from a JSON file", () => {
  it("checks integers, booleans and optional columns, and names the aggregations after them", async () => {
    const file = join(dir, "feeds.json");
    writeFileSync(
      file,
      JSON.stringify({
        feeds: [
          {
            name: "meters",
            match: ["*.csv"],
            columns: [
              { name: "meter", type: "string", nonEmpty: true },
              { name: "pulses", type: "integer" },
              { name: "ok", type: "boolean" },
              { name: "kwh", type: "number", required: false },
            ],
            keyColumn: "meter",
          },
        ],
      }),
    );
    const [schema] = loadSchemaOption(file);
    const csv = "meter,pulses,ok,kwh\nM1,10,true,1.5\nM1,11,false,\nM2,1.5,true,2\nM2,3,maybe,2\nM3,4,yes,lots\n";
    const r = await run("meters.csv", csv, schema as FeedSchema);
    expect(codes(r)).toEqual([
      [3, "non_integer_value"],
      [4, "non_boolean_value"],
      [5, "non_numeric_value"],
    ]);
    expect(await types(r)).toEqual([
      ["meter", "VARCHAR"],
      ["pulses", "BIGINT"],
      ["ok", "BOOLEAN"],
      ["kwh", "DOUBLE"],
    ]);
    expect(await rows(r)).toEqual([
      { meter: "M1", pulses: 10n, ok: true, kwh: 1.5 },
      { meter: "M1", pulses: 11n, ok: false, kwh: null },
    ]);
    expect(r.validation?.aggregations).toEqual({
      row_count: 2,
      min_pulses: 10,
      max_pulses: 11,
      min_kwh: 1.5,
      max_kwh: 1.5,
      per_meter_count: { M1: 2 },
    });
  });
});
