// The profile and the aggregations read from the Parquet footer (parquet-footer.ts) against the same figures
// computed the old way, by reading every value: `profileParquet` (one query over all columns) and
// `aggregateParquet` told there is no usable footer (min/max over the values). Every figure must be equal, on
// files with the edge cases Parquet statistics get wrong or cut (long strings, NaN, ±0) and on many row groups.
import { writeFileSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { profileParquet, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { convertTabular, type TabularFormat, tabularFormatOf } from "../../src/processors/tabular/index.js";
import { readFooter } from "../../src/processors/tabular/parquet-footer.js";
import { profileParquetByColumn } from "../../src/processors/tabular/parquet-profile.js";
import { aggregateParquet } from "../../src/processors/validate/aggregate.js";
import { type FeedSchema, SENSOR_READINGS } from "../../src/processors/validate/index.js";
import { DUCK, useTabularHarness } from "../support/tabular-harness.js";

const h = useTabularHarness("sluice-footer-profile-");

async function utc(): Promise<DuckDBConnection> {
  const conn = h.reader.conn;
  await conn.run("SET TimeZone = 'UTC'");
  return conn;
}

/** Both ways on one Parquet: the footer's profile equals the full scan's, and so do the aggregations. */
async function sameBothWays(path: string, schema: FeedSchema | null): Promise<void> {
  const conn = await utc();
  expect(await profileParquetByColumn(conn, path)).toEqual(await profileParquet(conn, path));
  if (schema)
    expect(await aggregateParquet(conn, path, schema)).toEqual(await aggregateParquet(conn, path, schema, null));
}

/** Converts a file as sluice does and checks what it reported against the scans of the Parquet it wrote. */
async function convertAndCompare(name: string, content: string, schema: FeedSchema | null = null) {
  const p = h.path(name);
  writeFileSync(p, content);
  const out = `${p}.parquet`;
  const r = await convertTabular(p, tabularFormatOf(name) as TabularFormat, out, { ...DUCK, schema });
  expect(r.parquetPath).toBe(out);
  const conn = await utc();
  expect(r.profile).toEqual(await profileParquet(conn, out));
  if (schema) expect(r.validation?.aggregations).toEqual(await aggregateParquet(conn, out, schema, null));
  return { r, out };
}

/** Writes `select` to a Parquet with small row groups (many of them), as DuckDB's COPY does. */
async function written(select: string, rowGroupSize = 1000): Promise<string> {
  const out = h.path("t.parquet");
  const conn = await utc();
  await conn.run(
    `COPY (${select}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupSize})`,
  );
  return out;
}

function sensorCsv(rows: number, every = 1): string {
  const lines = ["sensor_id,timestamp,value"];
  for (let i = 0; i < rows; i += every) {
    const t = new Date(Date.UTC(2024, 2, 1) + i * 1000).toISOString().replace(".000Z", "Z");
    lines.push(`S${String((i * 7) % 50).padStart(2, "0")},${t},${((i % 2001) - 1000) / 10}`);
  }
  return `${lines.join("\n")}\n`;
}

describe("profile and aggregations from the Parquet footer, against a scan of every value", () => {
  it("a clean sensor file over many row groups: every column comes from the footer, and the figures are equal", async () => {
    const { out } = await convertAndCompare("many.csv", sensorCsv(300_000), SENSOR_READINGS);
    const footer = await readFooter(await utc(), out);
    expect(footer?.columns.map((c) => [c.name, c.exact])).toEqual([
      ["sensor_id", true],
      ["timestamp", true],
      ["value", true],
    ]);
    const groups = await h.reader.conn.runAndReadAll(
      `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${sqlString(out)})`,
    );
    expect(Number(groups.getRowObjectsJS()[0]?.n)).toBeGreaterThan(1);
  });

  it("timestamps with offsets, negative zero, unicode, a single row, a header-only file", async () => {
    await convertAndCompare(
      "offsets.csv",
      "sensor_id,timestamp,value\nS1,2024-03-01T02:00:00+02:00,-0.0\nS2,2024-02-29T23:30:00-05:00,0.0\nΩmega,2024-03-01T00:00:00.25Z,1.5\n",
      SENSOR_READINGS,
    );
    await convertAndCompare("one.csv", "sensor_id,timestamp,value\nS1,2024-03-01T00:00:00Z,-3.5\n", SENSOR_READINGS);
    await convertAndCompare("none.csv", "sensor_id,timestamp,value\n", SENSOR_READINGS);
  });

  it("a file with invalid rows (staged path: NaN and blanks refused) reports the same figures", async () => {
    const { r } = await convertAndCompare(
      "bad.csv",
      "sensor_id,timestamp,value\nS1,2024-03-01T00:00:00Z,NaN\n,2024-03-01T00:00:01Z,2\nS3,2024-03-01T00:00:02Z,7.25\n",
      SENSOR_READINGS,
    );
    expect(r.validation?.status).toBe("partial");
  });

  it("without a schema: NULLs, empty strings, long strings past 64 and 256 bytes, NaN, ±0, dates, integers", async () => {
    const long = "x".repeat(300);
    const csv = [
      "name,n,f,d,flag,note",
      `a,1,-0.0,2024-01-01,true,"${long}"`,
      `"",,0.0,,false,${"é".repeat(40)}`,
      `${"z".repeat(70)},9007199254740993,NaN,2023-05-06,,`,
      `ü,-42,inf,2020-02-29,true,"${long}y"`,
    ].join("\n");
    const { out } = await convertAndCompare("loose.csv", `${csv}\n`);
    const footer = await readFooter(await utc(), out);
    // NaN leaves the float column without statistics, the cut strings are not exact: both are scanned.
    const exact = Object.fromEntries((footer?.columns ?? []).map((c) => [c.name, c.exact]));
    expect(exact.f).toBe(false);
    expect(exact.note).toBe(false);
  });

  it("types whose statistics read back differently are scanned; nested columns fall back to a full scan", async () => {
    const typed = await written(
      `SELECT i, (i % 100)::TINYINT AS t8, (i * 1000003)::BIGINT - 5 AS big, i::DOUBLE / 7 AS dbl, (i % 3 - 1)::FLOAT * 0.5 AS fl,
          (i / 100)::DECIMAL(12,3) AS dec, (i * 1234567.891 - 5e6)::DECIMAL(38,10) AS dec38, ((i % 1000) - 500)::DECIMAL(4,1) AS dec4, i % 2 = 0 AS b, DATE '2020-01-01' + i::INTEGER AS dt,
          TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts, TIMESTAMPTZ '2024-01-01 00:00:00+05' + INTERVAL (i) MINUTE AS tz,
          CASE WHEN i % 5 = 0 THEN NULL ELSE 'k' || (i % 97) END AS s, repeat('q', i % 400) AS longs,
          ('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB AS bl, TIME '00:00:00' + INTERVAL (i) SECOND AS tm,
          i::HUGEINT * 1000000000000 AS hi, NULL::INTEGER AS allnull, chr((1 + i % 200)::INTEGER) AS ctl
         FROM range(5000) r(i)`,
      500,
    );
    // The footer serves every column but the cut strings, BLOB, TIME and HUGEINT: the comparison covers both ways.
    const footer = await readFooter(await utc(), typed);
    expect(footer?.columns.filter((c) => !c.exact).map((c) => c.name)).toEqual(["longs", "bl", "tm", "hi"]);
    await sameBothWays(typed, {
      name: "x",
      match: ["*"],
      columns: [
        { name: "dbl", type: "number", required: true },
        { name: "ts", type: "timestamp", required: true },
        { name: "tz", type: "timestamp", required: true },
        { name: "s", type: "string", required: true },
      ],
      keyColumn: "s",
      valueColumns: ["dbl", "big", "dec", "dec38", "fl", "allnull"],
    } as FeedSchema);
    await sameBothWays(await written("SELECT {'a': i} AS st, [i, i] AS l, i FROM range(10) r(i)"), null);
  });

  it("±0 in either order, infinities and NaN in float columns", async () => {
    for (const values of [
      "('0.0'), ('-0.0')",
      "('-0.0'), ('0.0')",
      "('-0.0'), ('1.0')",
      "('inf'), ('-1.0')",
      "('nan'), ('2.0')",
      "(NULL::VARCHAR), (NULL)",
    ]) {
      const p = await written(`SELECT v::DOUBLE AS v, v::FLOAT AS f FROM (VALUES ${values}) t(v)`, 1);
      await sameBothWays(p, {
        name: "z",
        match: ["*"],
        columns: [{ name: "v", type: "number", required: true }],
      } as FeedSchema);
    }
  });

  it("a Parquet of no rows", async () => {
    await sameBothWays(await written("SELECT 1::INTEGER AS i, 'a' AS s, TIMESTAMPTZ '2024-01-01' AS t WHERE false"), {
      name: "e",
      match: ["*"],
      columns: [{ name: "t", type: "timestamp", required: true }],
      keyColumn: "s",
      valueColumns: ["i"],
    } as FeedSchema);
  });
});
