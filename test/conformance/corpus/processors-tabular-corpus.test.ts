import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../../src/processors/tabular/duckdb-session.js";
import { convertTabular, tabularFormatOf } from "../../../src/processors/tabular/index.js";

import { CORPUS } from "../shared-corpus.js";


const DUCK = { memoryLimit: "512MB", threads: 2 };

interface TableFacts {
  rows?: number;
  valid_lines?: number;
  columns?: string[];
  top_level?: string;
}

function facts(rel: string): [string, TableFacts][] {
  return Object.entries(JSON.parse(readFileSync(join(CORPUS, rel), "utf8")) as Record<string, TableFacts>);
}

let reader: DuckSession;
let out: string;

beforeAll(async () => {
  reader = await openDuck(DUCK);
  out = await mkdtemp(join(tmpdir(), "sluice-tabular-corpus-"));
});
afterAll(async () => {
  reader?.close();
  await rm(out, { recursive: true, force: true });
});

async function parquetFacts(path: string): Promise<{ rows: number; columns: string[]; types: string[] }> {
  const src = `read_parquet(${sqlString(path)})`;
  const n = (await reader.conn.runAndReadAll(`SELECT count(*) AS n FROM ${src}`)).getRowObjectsJS()[0]?.n;
  const cols = (await reader.conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
  return {
    rows: Number(n),
    columns: cols.map((c) => String(c.column_name)),
    types: cols.map((c) => String(c.column_type)),
  };
}

async function convert(rel: string) {
  const format = tabularFormatOf(rel);
  if (!format) throw new Error(`${rel} is not tabular`);
  const parquet = join(out, `${rel.replaceAll("/", "_")}.parquet`);
  return { parquet, result: await convertTabular(join(CORPUS, rel), format, parquet, DUCK) };
}

describe("csv/: every CSV and TSV converts with the exact rows and columns", () => {
  for (const [rel, f] of facts("csv/csv.expected.json")) {
    it(rel, async () => {
      const { parquet, result } = await convert(rel);
      if (f.rows === undefined) {
        // csv-spectrum's location_coordinates.json is a bare object: no table, a note, no error.
        expect(result.parquetPath).toBeNull();
        expect(result.note).toMatch(/not a table/);
        return;
      }
      expect(result.parquetPath).toBe(parquet);
      expect(result.validation).toBeUndefined();
      const pq = await parquetFacts(parquet);
      expect({ rows: pq.rows, columns: rel.endsWith(".json") ? [...pq.columns].sort() : pq.columns }).toEqual({
        rows: f.rows,
        columns: rel.endsWith(".json") ? [...(f.columns ?? [])].sort() : f.columns,
      });
      expect(result.profile?.rowCount).toBe(f.rows);
    });
  }

  it("zipcodes.csv keeps leading zeros: zip codes are strings", async () => {
    const { parquet } = await convert("csv/vega/zipcodes.csv");
    const pq = await parquetFacts(parquet);
    expect(pq.types[0]).toBe("VARCHAR");
    const first = await reader.conn.runAndReadAll(
      `SELECT zip_code FROM read_parquet(${sqlString(parquet)}) WHERE zip_code = '00501'`,
    );
    expect(first.getRowObjectsJS()).toEqual([{ zip_code: "00501" }]);
  });

  it("the Parquet is ZSTD-compressed", async () => {
    const { parquet } = await convert("csv/vega/stocks.csv");
    const codecs = await reader.conn.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata(${sqlString(parquet)})`,
    );
    expect(codecs.getRows().map((r) => String(r[0]))).toEqual(["ZSTD"]);
  });
});

describe("json/: arrays and JSONL convert; objects are not tables", () => {
  for (const [rel, f] of facts("json/json.expected.json")) {
    it(rel, async () => {
      const { parquet, result } = await convert(rel);
      const rows = f.rows ?? f.valid_lines;
      if (rows === undefined) {
        expect(f.top_level).toBe("dict");
        expect(result).toMatchObject({ parquetPath: null, profile: null });
        expect(result.note).toMatch(/not a table: the JSON value is an object/);
        return;
      }
      expect(result.validation).toBeUndefined();
      const pq = await parquetFacts(parquet);
      expect(pq.rows).toBe(rows);
      expect([...pq.columns].sort()).toEqual([...(f.columns ?? [])].sort());
    });
  }

  it("nested values become nested Parquet types", async () => {
    const { parquet } = await convert("json/vega/weekly-weather.json");
    const pq = await parquetFacts(parquet);
    expect(pq.types.some((t) => t.startsWith("STRUCT"))).toBe(true);
  });
});
