import { createReadStream, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSqlDump, type SqlDumpResult, safeName, sqlDumpToParquet } from "../../../src/processors/sql-dump/index.js";
import { type DuckSession, openDuck, sqlString } from "../../../src/processors/tabular/duckdb-session.js";

import { CORPUS } from "../shared-corpus.js";


const DUCK = { memoryLimit: "512MB", threads: 2 };

interface TableFacts {
  rows: number;
  fields_per_row: number;
  columns?: string[];
}
interface DumpFacts {
  total_rows: number;
  tables: Record<string, TableFacts>;
}
const SQL_FACTS = JSON.parse(readFileSync(join(CORPUS, "sql", "sql.expected.json"), "utf8")) as Record<string, unknown>;
const DUMPS = Object.entries(SQL_FACTS).filter((e): e is [string, DumpFacts] => e[0].startsWith("sql/"));

let reader: DuckSession;
const outDirs: string[] = [];
const conversions = new Map<string, Promise<{ out: string; result: SqlDumpResult; ms: number }>>();

beforeAll(async () => {
  reader = await openDuck(DUCK);
});
afterAll(async () => {
  reader?.close();
  await Promise.all(outDirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Each corpus file is converted once and shared by the tests that look at it. */
function convert(rel: string): Promise<{ out: string; result: SqlDumpResult; ms: number }> {
  let done = conversions.get(rel);
  if (!done) {
    done = (async () => {
      const out = await mkdtemp(join(tmpdir(), "sluice-sql-dump-"));
      outDirs.push(out);
      const start = performance.now();
      const input = createReadStream(join(CORPUS, rel), { highWaterMark: 1024 * 1024 });
      const result = await sqlDumpToParquet(input, out, DUCK);
      return { out, result, ms: performance.now() - start };
    })();
    conversions.set(rel, done);
  }
  return done;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();
}

async function parquetOf(rel: string, table: string): Promise<string> {
  const { result } = await convert(rel);
  const found = result.tables.find((t) => t.table === table);
  if (!found) throw new Error(`no Parquet for ${table}`);
  return `read_parquet(${sqlString(found.parquetPath)})`;
}

describe.each(DUMPS)("%s", (rel, facts) => {
  it("writes one Parquet per table, with the expected rows and column names", async () => {
    const { out, result } = await convert(rel);
    expect(result.errors).toEqual([]);
    expect(result.tables.map((t) => t.table).sort()).toEqual(Object.keys(facts.tables).sort());
    expect(result.rowCount).toBe(facts.total_rows);
    for (const { table, parquetPath, profile } of result.tables) {
      const expected = facts.tables[table] as TableFacts;
      expect(parquetPath).toBe(join(out, `${safeName(table)}.parquet`));
      const src = `read_parquet(${sqlString(parquetPath)})`;
      expect((await query(`SELECT count(*)::INTEGER AS n FROM ${src}`))[0]?.n, table).toBe(expected.rows);
      expect(profile).toMatchObject({ table, rowCount: expected.rows });
      const names = (await query(`DESCRIBE SELECT * FROM ${src}`)).map((r) => r.column_name);
      // No CREATE TABLE in sakila-data.sql: columns are numbered.
      const numbered = Array.from({ length: expected.fields_per_row }, (_, i) => `c${i + 1}`);
      expect(names, table).toEqual(expected.columns ?? numbered);
    }
    // Published by rename: no .tmp is left behind.
    expect(readdirSync(out).sort()).toEqual(result.tables.map((t) => basename(t.parquetPath)).sort());
  });
});

describe("values", () => {
  it.each([
    ["sql/chinook/Chinook_MySql.sql", "Artist", "ArtistId", "Name"],
    ["sql/chinook/Chinook_PostgreSql.sql", "artist", "artist_id", "name"],
    ["sql/chinook/Chinook_SqlServer.sql", "Artist", "ArtistId", "Name"],
    ["sql/chinook/Chinook_Sqlite.sql", "Artist", "ArtistId", "Name"],
  ])("%s keeps the apostrophe of Guns N' Roses", async (rel, table, id, name) => {
    const rows = await query(`SELECT "${name}" AS v FROM ${await parquetOf(rel, table)} WHERE "${id}" = 88`);
    expect(rows).toEqual([{ v: "Guns N' Roses" }]);
  });

  it("types Chinook columns from CREATE TABLE: INT as BIGINT, NUMERIC as DOUBLE, DATETIME as text", async () => {
    const rel = "sql/chinook/Chinook_MySql.sql";
    const { result } = await convert(rel);
    const track = result.tables.find((t) => t.table === "Track")?.profile.columns ?? [];
    expect(Object.fromEntries(track.map((c) => [c.name, c.type]))).toMatchObject({
      TrackId: "BIGINT",
      Name: "VARCHAR",
      UnitPrice: "DOUBLE",
    });
    const employee = result.tables.find((t) => t.table === "Employee")?.profile.columns ?? [];
    expect(employee.find((c) => c.name === "BirthDate")?.type).toBe("VARCHAR");
    const rows = await query(
      `SELECT "Name" AS n, "UnitPrice" AS p FROM ${await parquetOf(rel, "Track")} WHERE "TrackId" = 3435`,
    );
    // An unknown MySQL escape (\ followed by a space) keeps its backslash, as the other three Chinook variants have it.
    expect(rows).toEqual([{ n: "Cavalleria Rusticana \\ Act \\ Intermezzo Sinfonico", p: 0.99 }]);
  });

  it("reads pagila's COPY \\N as NULL and keeps array text", async () => {
    const rel = "sql/pagila/pagila-data.sql";
    const address = await parquetOf(rel, "address");
    expect(await query(`SELECT count(*)::INTEGER AS n FROM ${address} WHERE address2 IS NULL`)).toEqual([{ n: 4 }]);
    expect(await query(`SELECT address, address2, phone FROM ${address} WHERE address_id = '1'`)).toEqual([
      { address: "47 MySakila Drive", address2: null, phone: "" },
    ]);
    const film = await parquetOf(rel, "film");
    expect(await query(`SELECT special_features AS f FROM ${film} WHERE film_id = '1'`)).toEqual([
      { f: '{"Deleted Scenes","Behind the Scenes"}' },
    ]);
  });

  it("keeps sakila's 36 KB hex BLOB whole (as \\x hex text) and skips the geometry in /*!50705 … */", async () => {
    const rel = "sql/sakila/sakila-data.sql";
    const rows = await query(`SELECT c5 AS pic FROM ${await parquetOf(rel, "staff")} WHERE c1 = '1'`);
    const pic = String(rows[0]?.pic);
    expect(pic.length).toBe(2 + 72730);
    expect(pic.startsWith("\\x89504e470d0a1a0a")).toBe(true);
    const address = await query(`SELECT c2, c8 FROM ${await parquetOf(rel, "address")} WHERE c1 = '1'`);
    expect(address).toEqual([{ c2: "47 MySakila Drive", c8: "2014-09-25 22:30:27" }]);
  });
});

describe("malformed dumps", () => {
  it("syntax_error_midway.sql: both broken INSERTs reported, the tables around them kept", async () => {
    const { result } = await convert("bad/syntax_error_midway.sql");
    expect(result.tables.map((t) => [t.table, t.profile.rowCount])).toEqual([
      ["t_before", 3],
      ["t_after", 2],
    ]);
    expect(result.errors.map((e) => [e.table, e.line])).toEqual([
      ["t_broken", 5],
      ["t_broken", 6],
    ]);
    expect(result.tables[0]?.profile.columns.map((c) => [c.name, c.type])).toEqual([
      ["id", "BIGINT"],
      ["name", "VARCHAR"],
    ]);
  });

  it("copy_bad_rows.sql: rows 2 and 3 of t rejected for their field count, u's open block reported", async () => {
    const rel = "bad/copy_bad_rows.sql";
    const { result } = await convert(rel);
    const [t, u, open] = result.errors;
    // t's COPY statement is on line 5, so its data row k is on line 5 + k.
    expect([t?.line, u?.line].map((line) => (line ?? 0) - 5)).toEqual([2, 3]);
    expect(result.errors.slice(0, 2)).toEqual([
      { table: "t", line: 7, message: "expected 3 fields, got 2" },
      { table: "t", line: 8, message: "expected 3 fields, got 4" },
    ]);
    expect(open).toMatchObject({ table: "u", line: 13 });
    expect(open?.message).toMatch(/not terminated/);
    expect(result.errors).toHaveLength(3);
    expect(await query(`SELECT id, value FROM ${await parquetOf(rel, "t")} ORDER BY id`)).toEqual([
      { id: "1", value: "10" },
      { id: "4", value: "not-a-number" },
      { id: "5", value: "50" },
    ]);
    expect(await query(`SELECT id FROM ${await parquetOf(rel, "u")} ORDER BY id`)).toEqual([{ id: "1" }, { id: "2" }]);
  });

  it("unterminated_string.sql: the sound row kept, one error, no hang", async () => {
    const { result } = await convert("bad/unterminated_string.sql");
    expect(result.tables.map((t) => [t.table, t.profile.rowCount])).toEqual([["t", 1]]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ table: "t", line: 2 });
    expect(result.errors[0]?.message).toMatch(/unterminated string/);
  });
});

describe("writer rules", () => {
  async function convertText(sql: string): Promise<SqlDumpResult> {
    const out = await mkdtemp(join(tmpdir(), "sluice-sql-dump-"));
    outDirs.push(out);
    return sqlDumpToParquet(Readable.from([Buffer.from(sql)]), out, DUCK);
  }

  it("skips and reports a row whose value does not fit a declared numeric type", async () => {
    const result = await convertText(
      "CREATE TABLE n (id INTEGER, price DECIMAL(5,2), ok BOOLEAN, note TEXT);\n" +
        "INSERT INTO n VALUES (1, '2.50', 't', 'a'), ('x', 1, true, 'b'), (3, 'cheap', false, 'c'), (4, 1e2, 0, NULL);",
    );
    expect(result.errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'column "id": "x" is not a valid BIGINT; row skipped'],
      [2, 'column "price": "cheap" is not a valid DOUBLE; row skipped'],
    ]);
    const src = `read_parquet(${sqlString(result.tables[0]?.parquetPath ?? "")})`;
    expect(await query(`SELECT * FROM ${src} ORDER BY id`)).toEqual([
      { id: 1n, price: 2.5, ok: true, note: "a" },
      { id: 4n, price: 100, ok: false, note: null },
    ]);
  });

  it("maps INSERT column lists onto CREATE TABLE order and fills the rest with NULL", async () => {
    const result = await convertText("CREATE TABLE m (a int, b text, c text);\nINSERT INTO m (c, a) VALUES ('z', 1);");
    const src = `read_parquet(${sqlString(result.tables[0]?.parquetPath ?? "")})`;
    expect(await query(`SELECT * FROM ${src}`)).toEqual([{ a: 1n, b: null, c: "z" }]);
  });

  it("gives tables whose safe names collide distinct files, and never leaves outDir", async () => {
    const result = await convertText(
      'INSERT INTO "a/b" VALUES (1);\nINSERT INTO "a?b" VALUES (2);\nINSERT INTO "A_B" VALUES (3);\nINSERT INTO "../up" VALUES (4);',
    );
    expect(result.tables.map((t) => basename(t.parquetPath))).toEqual([
      "a_b.parquet",
      "a_b_2.parquet",
      "A_B_3.parquet",
      "__up.parquet",
    ]);
  });
});

describe("I/O failure", () => {
  it("rejects when the input fails, leaving no .tmp behind", async () => {
    const out = await mkdtemp(join(tmpdir(), "sluice-sql-dump-"));
    outDirs.push(out);
    async function* failing() {
      yield Buffer.from("INSERT INTO t VALUES (1);\n");
      throw new Error("disk went away");
    }
    await expect(sqlDumpToParquet(Readable.from(failing()), out, DUCK)).rejects.toThrow("disk went away");
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("throughput", () => {
  it("logs rows/s for pagila and sakila", async () => {
    const lines: string[] = [];
    for (const rel of ["sql/pagila/pagila-data.sql", "sql/sakila/sakila-data.sql"]) {
      const start = performance.now();
      let rows = 0;
      for await (const ev of readSqlDump(createReadStream(join(CORPUS, rel), { highWaterMark: 1024 * 1024 }))) {
        if (ev.kind === "rows") rows += ev.rows.length;
      }
      const parseMs = performance.now() - start;
      const { result, ms } = await convert(rel);
      expect(rows).toBe(result.rowCount);
      const rate = (n: number, t: number) => Math.round((n / t) * 1000).toLocaleString("en-US");
      lines.push(
        `${basename(rel)}: ${rows} rows, parse ${rate(rows, parseMs)} rows/s, to Parquet ${rate(rows, ms)} rows/s`,
      );
    }
    console.log(`sql-dump throughput: ${lines.join("; ")}`);
  });
});
