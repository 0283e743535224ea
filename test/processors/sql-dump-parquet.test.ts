import { describe, expect, it } from "vitest";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type Compared, compared } from "../fixtures/lib/facts.js";
import { PLANTED } from "../fixtures/lib/shop-model.js";
import type { SqlDumpFacts, SqlTableFacts } from "../fixtures/lib/sql-facts.js";
import { dumpTablesSuite, logThroughput, useDumpConversions, writerRulesSuite } from "../suites/sql-dump-suite.js";
import { fixture, fixtureFacts } from "../support/fixture-files.js";

/**
 * sqlDumpToParquet over this project's own dumps (test/fixtures/gen/sql.ts): one per dialect and dump style, all
 * rendered from one seeded model, so every expected row, NULL and type below comes from that model.
 */

const FACTS = fixtureFacts<Record<string, SqlDumpFacts | string>>("sql/sql.expected.json");
const DUMPS = Object.entries(FACTS).filter((e): e is [string, SqlDumpFacts] => e[0].startsWith("sql/"));
const PG_COPY = "sql/postgres/shop_pg_dump.sql";
const MYSQL_DATA = "sql/mysql/shop_data.sql";

const conv = useDumpConversions(fixture);
const { convert, query, parquetOf } = conv;

dumpTablesSuite(DUMPS, conv);

/**
 * A value read back through DuckDB, in the form the facts state it (see test/fixtures/lib/facts.ts): timestamps
 * (DuckDB gives a Date) as their UTC `YYYY-MM-DD hh:mm:ss`.
 */
function asFact(v: unknown): Compared {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return compared(`\\x${Buffer.from(v).toString("hex")}`);
  if (v instanceof Date) return v.toISOString().slice(0, 19).replace("T", " ");
  return compared(v as string | number | boolean);
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (v: Compared) => (typeof v === "number" ? String(v) : sqlString(String(v)));

/** Every (dump, table, facts) that renders one model table, e.g. all the customer tables whatever the dialect. */
function tablesOf(model: string): [string, string, SqlTableFacts][] {
  return DUMPS.flatMap(([rel, f]) =>
    Object.entries(f.tables)
      .filter(([, t]) => t.model === model)
      .map(([table, t]): [string, string, SqlTableFacts] => [rel, table, t]),
  );
}

async function cellOf(rel: string, table: string, column: string, key: string, id: Compared): Promise<Compared> {
  const src = await parquetOf(rel, table);
  const rows = await query(`SELECT ${ident(column)} AS v FROM ${src} WHERE ${ident(key)} = ${literal(id)}`);
  expect(rows, `${rel} ${table} ${key}=${id}`).toHaveLength(1);
  return asFact(rows[0]?.v);
}

describe("values", () => {
  it.each(DUMPS)("%s: the sampled rows read back exactly as the model wrote them", async (rel, facts) => {
    for (const [table, t] of Object.entries(facts.tables)) {
      const { key, rows: expected } = t.samples;
      const ids = expected.map((r) => literal(r[key] as Compared)).join(", ");
      const got = await query(`SELECT * FROM ${await parquetOf(rel, table)} WHERE ${ident(key)} IN (${ids})`);
      const byKey = new Map(got.map((r) => [String(asFact(r[key])), r]));
      for (const want of expected) {
        const row = byKey.get(String(want[key]));
        const actual = row ? Object.fromEntries(Object.entries(row).map(([k, v]) => [k, asFact(v)])) : undefined;
        expect(actual, `${table} ${key}=${want[key]}`).toEqual(want);
      }
    }
  });

  it.each(DUMPS)("%s: every column has the model's number of NULLs", async (rel, facts) => {
    for (const [table, t] of Object.entries(facts.tables)) {
      const counts = Object.keys(t.null_counts).map(
        (c) => `count(*) FILTER (WHERE ${ident(c)} IS NULL)::INTEGER AS ${ident(c)}`,
      );
      const [got] = await query(`SELECT ${counts.join(", ")} FROM ${await parquetOf(rel, table)}`);
      expect(got, table).toEqual(t.null_counts);
    }
  });

  it("keeps the apostrophe of O'Brien in every dialect", async () => {
    const customers = tablesOf("customer");
    expect(customers.map(([rel]) => rel)).toHaveLength(DUMPS.length - 1);
    for (const [rel, table, t] of customers) {
      expect(await cellOf(rel, table, "last_name", t.samples.key, PLANTED.apostropheId), rel).toBe("O'Brien");
    }
  });

  it("decodes escaped tabs, line breaks, backslashes and both quotes in every dialect", async () => {
    for (const [rel, table, t] of tablesOf("customer")) {
      expect(await cellOf(rel, table, "note", t.samples.key, PLANTED.escapesId), rel).toBe(PLANTED.escapesNote);
    }
  });

  it("reads COPY's \\N as NULL, keeps an empty field as '' and an escaped \\\\N as the text \\N", async () => {
    const cell = (column: string, id: number) => cellOf(PG_COPY, "public.customer", column, "customer_id", id);
    expect(await cell("email", PLANTED.nullEmailId)).toBeNull();
    expect(await cell("phone", PLANTED.nullEmailId)).toBe("");
    expect(await cell("note", PLANTED.emptyNoteId)).toBe("");
    expect(await cell("note", PLANTED.backslashNId)).toBe("\\N");
  });

  it("keeps PostgreSQL array text as written, with its quoted elements", async () => {
    for (const rel of [PG_COPY, "sql/postgres/shop_pg_inserts.sql"]) {
      const tags = await cellOf(rel, "public.customer", "tags", "customer_id", PLANTED.tagsId);
      expect(tags, rel).toBe('{vip,"early bird"}');
    }
  });

  it("keeps the 36 KB hex BLOB whole (as \\x hex text) and skips the geometry in /*!50705 … */", async () => {
    const staff = FACTS[MYSQL_DATA] as SqlDumpFacts;
    const rows = await query(`SELECT c5 AS pic FROM ${await parquetOf(MYSQL_DATA, "staff")} WHERE c1 = '1'`);
    const pic = String(rows[0]?.pic);
    expect(pic.length).toBe(2 + 2 * PLANTED.pictureBytes);
    expect(pic.startsWith("\\x89504e470d0a1a0a")).toBe(true);
    expect(compared(pic)).toEqual(staff.tables.staff?.samples.rows[0]?.c5);
    // Eight fields outside the version comment: the geometry is not a column, and last_update is the eighth.
    const address = staff.tables.address as SqlTableFacts;
    expect(address.fields_per_row).toBe(8);
    const first = address.samples.rows[0] as Record<string, Compared>;
    const got = await query(`SELECT c2, c8 FROM ${await parquetOf(MYSQL_DATA, "address")} WHERE c1 = '1'`);
    expect(got).toEqual([{ c2: first.c2, c8: first.c8 }]);
  });

  it("keeps a hand-ported bare backslash: an unknown MySQL escape keeps its backslash", async () => {
    const name = await cellOf(MYSQL_DATA, "track", "c2", "c1", String(PLANTED.backslashTrackId));
    expect(name).toBe(PLANTED.backslashTrackName);
  });

  it("reads no rows out of trigger and function bodies, nor out of empty COPY blocks", async () => {
    for (const [rel, facts] of DUMPS) {
      const { result } = await convert(rel);
      for (const table of Object.keys(facts.tables_without_rows ?? {})) {
        expect(
          result.tables.map((t) => t.table.split(".").at(-1)),
          rel,
        ).not.toContain(table);
      }
    }
    expect(Object.keys((FACTS[MYSQL_DATA] as SqlDumpFacts).tables_without_rows ?? {})).toEqual(["product_text"]);
    expect((FACTS[PG_COPY] as SqlDumpFacts).tables_without_rows).toHaveProperty("audit_log");
  });
});

describe("CREATE TABLE typing", () => {
  // Each declared type gets the closest lossless type of docs/types.md (was: integers all BIGINT, numeric DOUBLE,
  // timestamps text; that lost digits and types). Tables are named as the dump qualifies them.
  const cases: [string, string, Record<string, string>][] = [
    [
      PG_COPY,
      "public.customer",
      { customer_id: "INTEGER", first_name: "VARCHAR", tags: "VARCHAR", active: "BOOLEAN", score: "DECIMAL(8,2)" },
    ],
    [PG_COPY, "public.customer", { created_at: "TIMESTAMP WITH TIME ZONE" }],
    [PG_COPY, "public.product", { weight_kg: "FLOAT", price: "DECIMAL(8,2)" }],
    [PG_COPY, "public.orders", { qty: "INTEGER", status: "VARCHAR" }],
    [PG_COPY, "public.staff", { picture: "BLOB" }],
    ["sql/postgres/shop_pg_inserts.sql", "public.staff", { staff_id: "INTEGER", active: "BOOLEAN", picture: "BLOB" }],
    [
      "sql/mysql/shop_mysqldump.sql",
      "customer",
      { customer_id: "UINTEGER", tags: "JSON", created_at: "TIMESTAMP", active: "TINYINT" },
    ],
    ["sql/mysql/shop_mysqldump.sql", "product", { weight_kg: "DOUBLE", checksum: "UBIGINT", price: "DECIMAL(8,2)" }],
    ["sql/mysql/shop_mysqldump.sql", "orders", { status: "VARCHAR" }],
    ["sql/mysql/shop_mysqldump.sql", "staff", { picture: "BLOB" }],
    ["sql/sqlite/shop_sqlite.sql", "product", { product_id: "BIGINT", title: "VARCHAR", weight_kg: "DOUBLE" }],
    ["sql/sqlite/shop_sqlite.sql", "staff", { picture: "BLOB" }],
    ["sql/sqlserver/shop_sqlserver.sql", "dbo.Customer", { customer_id: "INTEGER", first_name: "VARCHAR" }],
    ["sql/sqlserver/shop_sqlserver.sql", "dbo.Customer", { created_at: "TIMESTAMP" }],
    ["sql/sqlserver/shop_sqlserver.sql", "dbo.Product", { weight_kg: "DOUBLE" }],
    ["sql/sqlserver/shop_sqlserver.sql", "dbo.Staff", { picture: "BLOB" }],
  ];

  it.each(cases)("%s %s: %o", async (rel, table, types) => {
    const { result } = await convert(rel);
    const profile = result.tables.find((t) => t.table === table)?.profile.columns ?? [];
    expect(Object.fromEntries(profile.map((c) => [c.name, c.type]))).toMatchObject(types);
    const facts = (FACTS[rel] as SqlDumpFacts).tables[table.split(".").at(-1) as string] as SqlTableFacts;
    const src = await parquetOf(rel, table);
    if (types.picture === "BLOB") {
      const [row] = await query(
        `SELECT octet_length(picture)::INTEGER AS n FROM ${src} WHERE ${ident(facts.samples.key)} = 1`,
      );
      expect(row?.n).toBe(PLANTED.pictureBytes);
    }
    if (types.checksum === "UBIGINT") {
      const [row] = await query(`SELECT max(checksum) AS m FROM ${src}`);
      expect(row?.m).toBe(2n ** 64n - 1n);
    }
  });
});

writerRulesSuite(conv);

describe("throughput", () => {
  it("logs rows/s for the pg_dump COPY file and the data-only MySQL file", async () => {
    await logThroughput([PG_COPY, MYSQL_DATA], conv, fixture);
  });
});
