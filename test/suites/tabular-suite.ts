import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular, tabularFormatOf } from "../../src/processors/tabular/index.js";

/**
 * convertTabular over a set of CSV, TSV, JSON and JSONL files and their facts (csv.expected.json and
 * json.expected.json: rows and columns per file). Used by the main suite (test/fixtures/gen/tables.ts) and the
 * conformance tier (vega-datasets and csv-spectrum in the shared corpus).
 */

export const TABULAR_DUCK = { memoryLimit: "512MB", threads: 2 };

export interface TableFileFacts {
  rows?: number;
  valid_lines?: number;
  columns?: string[];
  top_level?: string;
}

export interface TabularConversions {
  convert(rel: string): Promise<{ parquet: string; result: ConvertResult }>;
  parquetFacts(path: string): Promise<{ rows: number; columns: string[]; types: string[] }>;
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Registers a DuckDB reader and an output directory for one test file; `pathOf` maps a facts key to a file. */
export function useTabularConversions(pathOf: (rel: string) => string): TabularConversions {
  let reader: DuckSession;
  let out: string;
  beforeAll(async () => {
    reader = await openDuck(TABULAR_DUCK);
    out = await mkdtemp(join(tmpdir(), "sluice-tabular-"));
  });
  afterAll(async () => {
    reader?.close();
    await rm(out, { recursive: true, force: true });
  });
  const query = async (sql: string) => (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();
  return {
    query,
    async parquetFacts(path) {
      const src = `read_parquet(${sqlString(path)})`;
      const n = (await query(`SELECT count(*) AS n FROM ${src}`))[0]?.n;
      const cols = await query(`DESCRIBE SELECT * FROM ${src}`);
      return {
        rows: Number(n),
        columns: cols.map((c) => String(c.column_name)),
        types: cols.map((c) => String(c.column_type)),
      };
    },
    async convert(rel) {
      const format = tabularFormatOf(rel);
      if (!format) throw new Error(`${rel} is not tabular`);
      const parquet = join(out, `${rel.replaceAll("/", "_")}.parquet`);
      return { parquet, result: await convertTabular(pathOf(rel), format, parquet, TABULAR_DUCK) };
    },
  };
}

export interface TabularSuiteFiles {
  /** csv.expected.json entries (a corpus may list JSON files there too: their columns compare in any order). */
  csv: [string, TableFileFacts][];
  json: [string, TableFileFacts][];
  /** A CSV whose first column holds codes with leading zeros, and one such code. */
  codes: { rel: string; column: string; value: string };
  /** Any CSV, to check the Parquet's compression. */
  zstd: string;
  /** A JSON array whose records hold objects. */
  nested: string;
}

export function tabularFactsSuite(conv: TabularConversions, files: TabularSuiteFiles): void {
  describe("CSV and TSV: every file converts with the exact rows and columns", () => {
    for (const [rel, f] of files.csv) {
      it(rel, async () => {
        const { parquet, result } = await conv.convert(rel);
        if (f.rows === undefined) {
          // A JSON document that is an object: no table, a note, no error.
          expect(result.parquetPath).toBeNull();
          expect(result.note).toMatch(/not a table/);
          return;
        }
        expect(result.parquetPath).toBe(parquet);
        expect(result.validation).toBeUndefined();
        const pq = await conv.parquetFacts(parquet);
        const json = rel.endsWith(".json");
        expect({ rows: pq.rows, columns: json ? [...pq.columns].sort() : pq.columns }).toEqual({
          rows: f.rows,
          columns: json ? [...(f.columns ?? [])].sort() : f.columns,
        });
        expect(result.profile?.rowCount).toBe(f.rows);
      });
    }

    it(`${basename(files.codes.rel)} keeps leading zeros: ${files.codes.column} values are strings`, async () => {
      const { parquet } = await conv.convert(files.codes.rel);
      expect((await conv.parquetFacts(parquet)).types[0]).toBe("VARCHAR");
      const col = `"${files.codes.column}"`;
      const found = await conv.query(
        `SELECT ${col} AS v FROM read_parquet(${sqlString(parquet)}) WHERE ${col} = ${sqlString(files.codes.value)}`,
      );
      expect(found).toEqual([{ v: files.codes.value }]);
    });

    it("the Parquet is ZSTD-compressed", async () => {
      const { parquet } = await conv.convert(files.zstd);
      const codecs = await conv.query(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(parquet)})`);
      expect(codecs.map((r) => String(r.compression))).toEqual(["ZSTD"]);
    });
  });

  describe("JSON: arrays and JSONL convert; objects are not tables", () => {
    for (const [rel, f] of files.json) {
      it(rel, async () => {
        const { parquet, result } = await conv.convert(rel);
        const rows = f.rows ?? f.valid_lines;
        if (rows === undefined) {
          expect(f.top_level).toBe("dict");
          expect(result).toMatchObject({ parquetPath: null, profile: null });
          expect(result.note).toMatch(/not a table: the JSON value is an object/);
          return;
        }
        expect(result.validation).toBeUndefined();
        const pq = await conv.parquetFacts(parquet);
        expect(pq.rows).toBe(rows);
        expect([...pq.columns].sort()).toEqual([...(f.columns ?? [])].sort());
      });
    }

    it("nested values become nested Parquet types", async () => {
      const { parquet } = await conv.convert(files.nested);
      const pq = await conv.parquetFacts(parquet);
      expect(pq.types.some((t) => t.startsWith("STRUCT"))).toBe(true);
    });
  });
}
