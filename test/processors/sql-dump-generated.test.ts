import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type SqlDumpResult, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { SQL_DUCK, useDumpConversions } from "../suites/sql-dump-suite.js";

/**
 * Generated (computed) columns: pg_dump leaves them out of COPY's column list and writes DEFAULT for them with
 * --inserts, sqlite3 .dump leaves their values out of INSERTs without a column list: a dump holds no value for
 * them, so the Parquet has no such column (never NULLs that are not the values). mysqldump writes their values.
 */

const conv = useDumpConversions((rel) => rel);

async function convert(sql: string): Promise<SqlDumpResult> {
  return sqlDumpToParquet(Readable.from([Buffer.from(sql)]), await conv.outDir(), SQL_DUCK);
}

async function table(result: SqlDumpResult, name: string): Promise<Record<string, unknown>[]> {
  const path = result.tables.find((t) => t.table === name)?.parquetPath as string;
  return conv.query(`SELECT * FROM read_parquet(${sqlString(path)}) ORDER BY 1`);
}

const PG_CREATE =
  "SET client_encoding = 'UTF8';\nCREATE TABLE public.g (\n    id integer,\n    a integer,\n" +
  "    b integer GENERATED ALWAYS AS ((a * 2)) STORED,\n    c text\n);\n";

describe("generated columns", () => {
  it("pg_dump COPY: the generated column, absent from the COPY list, is not in the Parquet", async () => {
    const result = await convert(`${PG_CREATE}COPY public.g (id, a, c) FROM stdin;\n1\t5\tx\n2\t\\N\t\\N\n\\.\n`);
    expect(result.errors).toEqual([]);
    expect(await table(result, "public.g")).toEqual([
      { id: 1, a: 5, c: "x" },
      { id: 2, a: null, c: null },
    ]);
  });

  it("pg_dump --inserts: DEFAULT stands for the generated column; a DEFAULT elsewhere refuses its row", async () => {
    const result = await convert(
      `${PG_CREATE}INSERT INTO public.g VALUES (1, 5, DEFAULT, 'x');\n` +
        "INSERT INTO public.g OVERRIDING SYSTEM VALUE VALUES (2, NULL, DEFAULT, NULL);\n" +
        "INSERT INTO public.g VALUES (3, DEFAULT, DEFAULT, 'y');\n",
    );
    expect(result.errors.map((e) => e.message)).toEqual([
      'column "a": "DEFAULT" is DEFAULT: the dump holds no value for it; row skipped',
    ]);
    expect(await table(result, "public.g")).toEqual([
      { id: 1, a: 5, c: "x" },
      { id: 2, a: null, c: null },
    ]);
  });

  it("sqlite3 .dump: rows holding only the stored columns are read in their order", async () => {
    const result = await convert(
      "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n" +
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, g INT GENERATED ALWAYS AS (a * 2) VIRTUAL, s TEXT AS (b || '!') STORED, b TEXT);\n" +
        "INSERT INTO t VALUES(1,5,'x');\nINSERT INTO t VALUES(2,NULL,NULL);\nCOMMIT;\n",
    );
    expect(result.errors).toEqual([]);
    expect(await table(result, "t")).toEqual([
      { id: 1n, a: 5n, b: "x" },
      { id: 2n, a: null, b: null },
    ]);
  });

  it("mysqldump: the generated columns' values are in the dump and in the Parquet", async () => {
    const result = await convert(
      "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL,\n" +
        "  `v` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL\n) ENGINE=InnoDB;\nINSERT INTO `t` VALUES (5,10),(NULL,NULL);\n",
    );
    expect(result.errors).toEqual([]);
    expect(await table(result, "t")).toEqual([
      { a: 5, v: 10 },
      { a: null, v: null },
    ]);
  });
});
