import { createReadStream, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSqlDump, type SqlDumpResult, safeName, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";

/**
 * sqlDumpToParquet over a set of dump files and their facts (sql.expected.json: per dump its tables, rows and
 * column names). Used by the main suite (test/fixtures/gen/sql.ts) and the conformance tier (the shared corpus).
 */

export const SQL_DUCK = { memoryLimit: "512MB", threads: 2 };

export interface DumpTableFacts {
  rows: number;
  fields_per_row: number;
  columns?: string[];
  /** The name as the dump writes it (`public.actor`, `[dbo].[Genre]`, `` `Genre` ``). */
  name_in_file?: string;
}

/**
 * The table name sluice gives a facts entry: the name as the dump qualifies it, quotes removed (`public.actor`,
 * `dbo.Genre`, `Genre`); a part holding `.` or `"` stays double-quoted, as sluice writes it.
 */
export function outputTableName(key: string, facts: { name_in_file?: string }): string {
  const written = facts.name_in_file;
  if (!written) return key;
  const parts = [...written.matchAll(/\[([^\]]*)\]|`((?:[^`]|``)*)`|"((?:[^"]|"")*)"|([^."`[\]\s]+)/g)].map(
    (m) => m[1] ?? m[2]?.replaceAll("``", "`") ?? m[3]?.replaceAll('""', '"') ?? (m[4] as string),
  );
  return parts.map((p) => (/[."]/.test(p) ? `"${p.replaceAll('"', '""')}"` : p)).join(".");
}
export interface DumpFacts {
  total_rows: number;
  tables: Record<string, DumpTableFacts>;
}

export interface Conversion {
  out: string;
  result: SqlDumpResult;
  ms: number;
}

export interface DumpConversions {
  /** Converts a dump once; later calls share the result. */
  convert(rel: string): Promise<Conversion>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  /**
   * `read_parquet('…')` of one table of a converted dump, by the name sluice gives it or, when that is unique,
   * by its last part (`customer` for `public.customer`).
   */
  parquetOf(rel: string, table: string): Promise<string>;
  /** A fresh output directory, removed after the file's tests. */
  outDir(): Promise<string>;
}

/** Registers the DuckDB reader and the output directories of one test file; `pathOf` maps a facts key to a file. */
export function useDumpConversions(pathOf: (rel: string) => string): DumpConversions {
  let reader: DuckSession;
  const outDirs: string[] = [];
  const conversions = new Map<string, Promise<Conversion>>();
  beforeAll(async () => {
    reader = await openDuck(SQL_DUCK);
  });
  afterAll(async () => {
    reader?.close();
    await Promise.all(outDirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const outDir = async () => {
    const out = await mkdtemp(join(tmpdir(), "sluice-sql-dump-"));
    outDirs.push(out);
    return out;
  };
  const convert = (rel: string): Promise<Conversion> => {
    let done = conversions.get(rel);
    if (!done) {
      done = (async () => {
        const out = await outDir();
        const start = performance.now();
        const input = createReadStream(pathOf(rel), { highWaterMark: 1024 * 1024 });
        const result = await sqlDumpToParquet(input, out, SQL_DUCK);
        return { out, result, ms: performance.now() - start };
      })();
      conversions.set(rel, done);
    }
    return done;
  };
  const query = async (sql: string) => (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();
  const parquetOf = async (rel: string, table: string) => {
    const tables = (await convert(rel)).result.tables;
    const byLast = tables.filter((t) => t.table.split(".").at(-1) === table);
    const found = tables.find((t) => t.table === table) ?? (byLast.length === 1 ? byLast[0] : undefined);
    if (!found) throw new Error(`no Parquet for ${table}`);
    return `read_parquet(${sqlString(found.parquetPath)})`;
  };
  return { convert, query, parquetOf, outDir };
}

/** Per dump: one Parquet per table that has rows, with the expected row count and column names. */
export function dumpTablesSuite(dumps: [string, DumpFacts][], conv: DumpConversions): void {
  describe.each(dumps)("%s", (rel, facts) => {
    it("writes one Parquet per table, with the expected rows and column names", async () => {
      const { out, result } = await conv.convert(rel);
      expect(result.errors).toEqual([]);
      const byName = new Map(Object.entries(facts.tables).map(([k, f]) => [outputTableName(k, f), f]));
      expect(result.tables.map((t) => t.table).sort()).toEqual([...byName.keys()].sort());
      expect(result.rowCount).toBe(facts.total_rows);
      for (const { table, parquetPath, profile } of result.tables) {
        const expected = byName.get(table) as DumpTableFacts;
        expect(parquetPath).toBe(join(out, `${safeName(table)}.parquet`));
        const src = `read_parquet(${sqlString(parquetPath)})`;
        expect((await conv.query(`SELECT count(*)::INTEGER AS n FROM ${src}`))[0]?.n, table).toBe(expected.rows);
        expect(profile).toMatchObject({ table, rowCount: expected.rows });
        const names = (await conv.query(`DESCRIBE SELECT * FROM ${src}`)).map((r) => r.column_name);
        // A dump without CREATE TABLE (a data-only script) declares no names: columns are numbered.
        const numbered = Array.from({ length: expected.fields_per_row }, (_, i) => `c${i + 1}`);
        expect(names, table).toEqual(expected.columns ?? numbered);
      }
      // Published by rename: no .tmp is left behind.
      expect(readdirSync(out).sort()).toEqual(result.tables.map((t) => basename(t.parquetPath)).sort());
    });
  });
}

/** Reads each dump once more with the bare reader, then logs parse and conversion rates; both must agree on rows. */
export async function logThroughput(rels: string[], conv: DumpConversions, pathOf: (rel: string) => string) {
  const lines: string[] = [];
  for (const rel of rels) {
    const start = performance.now();
    let rows = 0;
    for await (const ev of readSqlDump(createReadStream(pathOf(rel), { highWaterMark: 1024 * 1024 }))) {
      if (ev.kind === "rows") rows += ev.rows.length;
    }
    const parseMs = performance.now() - start;
    const { result, ms } = await conv.convert(rel);
    expect(rows).toBe(result.rowCount);
    const rate = (n: number, t: number) => Math.round((n / t) * 1000).toLocaleString("en-US");
    lines.push(
      `${basename(rel)}: ${rows} rows, parse ${rate(rows, parseMs)} rows/s, to Parquet ${rate(rows, ms)} rows/s`,
    );
  }
  console.log(`sql-dump throughput: ${lines.join("; ")}`);
}

/**
 * How rows are written whatever the dump: declared types, INSERT column lists, colliding table names, and an input
 * that fails. Independent of any corpus; the conformance tier runs it too, as the file it came from did.
 */
export function writerRulesSuite(conv: DumpConversions): void {
  describe("writer rules", () => {
    async function convertText(sql: string): Promise<SqlDumpResult> {
      return sqlDumpToParquet(Readable.from([Buffer.from(sql)]), await conv.outDir(), SQL_DUCK);
    }

    it("skips and reports a row whose value does not fit a declared numeric type", async () => {
      const result = await convertText(
        "CREATE TABLE n (id INTEGER, price DECIMAL(5,2), ok BOOLEAN, note TEXT);\n" +
          "INSERT INTO n VALUES (1, '2.50', 't', 'a'), ('x', 1, true, 'b'), (3, 'cheap', false, 'c'), (4, 1e2, 0, NULL);",
      );
      // The DECIMAL column's type name is left open: only that "cheap" does not fit it.
      expect(
        result.errors.map((e) => [e.line, e.message.replace(/ is not a valid .*;/, " is not a valid <type>;")]),
      ).toEqual([
        [2, 'column "id": "x" is not a valid <type>; row skipped'],
        [2, 'column "price": "cheap" is not a valid <type>; row skipped'],
      ]);
      expect(result.errors[0]?.message).toContain("is not a valid INTEGER");
      expect(result.errors[1]?.message).toContain("is not a valid DECIMAL(5,2)");
      const src = `read_parquet(${sqlString(result.tables[0]?.parquetPath ?? "")})`;
      expect(await conv.query(`SELECT id, price::DOUBLE AS price, ok, note FROM ${src} ORDER BY id`)).toEqual([
        { id: 1, price: 2.5, ok: true, note: "a" },
        { id: 4, price: 100, ok: false, note: null },
      ]);
    });

    it("maps INSERT column lists onto CREATE TABLE order and fills the rest with NULL", async () => {
      const result = await convertText(
        "CREATE TABLE m (a int, b text, c text);\nINSERT INTO m (c, a) VALUES ('z', 1);",
      );
      const src = `read_parquet(${sqlString(result.tables[0]?.parquetPath ?? "")})`;
      expect(await conv.query(`SELECT * FROM ${src}`)).toEqual([{ a: 1, b: null, c: "z" }]);
    });

    it("gives tables whose safe names collide distinct files, and never leaves outDir", async () => {
      const result = await convertText(
        'INSERT INTO "a/b" VALUES (1);\nINSERT INTO "a?b" VALUES (2);\nINSERT INTO "A_B" VALUES (3);\nINSERT INTO "../up" VALUES (4);',
      );
      expect(result.tables.map((t) => basename(t.parquetPath))).toEqual([
        "a_b.parquet",
        "a_b_2.parquet",
        "A_B_3.parquet",
        // `"../up"`: a name holding "." is quoted, so it never reads as schema ".." and table "/up".
        "_.._up_.parquet",
      ]);
    });
  });

  describe("I/O failure", () => {
    it("rejects when the input fails, leaving no .tmp behind", async () => {
      const out = await conv.outDir();
      async function* failing() {
        yield Buffer.from("INSERT INTO t VALUES (1);\n");
        throw new Error("disk went away");
      }
      await expect(sqlDumpToParquet(Readable.from(failing()), out, SQL_DUCK)).rejects.toThrow("disk went away");
      expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    });
  });
}
