import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type DumpFacts,
  dumpTablesSuite,
  logThroughput,
  useDumpConversions,
  writerRulesSuite,
} from "../../suites/sql-dump-suite.js";
import { CORPUS } from "../shared-corpus.js";

const SQL_FACTS = JSON.parse(readFileSync(join(CORPUS, "sql", "sql.expected.json"), "utf8")) as Record<string, unknown>;
const DUMPS = Object.entries(SQL_FACTS).filter((e): e is [string, DumpFacts] => e[0].startsWith("sql/"));

const corpusPath = (rel: string) => join(CORPUS, rel);
const conv = useDumpConversions(corpusPath);
const { convert, query, parquetOf } = conv;

dumpTablesSuite(DUMPS, conv);

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

  // Was: INT as BIGINT, NUMERIC as DOUBLE, DATETIME as text (DOUBLE cannot hold every NUMERIC(10,2) exactly).
  it("types Chinook columns from CREATE TABLE: INT as INTEGER, NUMERIC(10,2) as DECIMAL, DATETIME as TIMESTAMP", async () => {
    const rel = "sql/chinook/Chinook_MySql.sql";
    const { result } = await convert(rel);
    const track = result.tables.find((t) => t.table === "Track")?.profile.columns ?? [];
    expect(Object.fromEntries(track.map((c) => [c.name, c.type]))).toMatchObject({
      TrackId: "INTEGER",
      Name: "VARCHAR",
      UnitPrice: "DECIMAL(10,2)",
    });
    const employee = result.tables.find((t) => t.table === "Employee")?.profile.columns ?? [];
    expect(employee.find((c) => c.name === "BirthDate")?.type).toBe("TIMESTAMP");
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
      ["id", "INTEGER"],
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
      { table: "public.t", line: 7, message: "expected 3 fields, got 2" },
      { table: "public.t", line: 8, message: "expected 3 fields, got 4" },
    ]);
    expect(open).toMatchObject({ table: "public.u", line: 13 });
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

writerRulesSuite(conv);

describe("throughput", () => {
  it("logs rows/s for pagila and sakila", async () => {
    await logThroughput(["sql/pagila/pagila-data.sql", "sql/sakila/sakila-data.sql"], conv, corpusPath);
  });
});
