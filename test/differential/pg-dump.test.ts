import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqlDumpResult, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { type DuckSession, openDuck } from "../../src/processors/tabular/duckdb-session.js";
import { runOnce } from "../support/cli.js";
import { argsFor, useSandboxes } from "../support/fixtures.js";
import type { ProcessedLine } from "../support/outputs.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { readManifest } from "../support/sandbox.js";
import { missing } from "../support/services.js";
import { compareDump, compareTable, expectFaithful } from "./compare.js";
import { comparisonClient, fillDatabase, hasCitext, pgDump } from "./pg-source.js";
import { diffTables } from "./pg-tables.js";
import type { DiffTable } from "./tables.js";

/**
 * Differential test against the real PostgreSQL: tables holding every PostgreSQL type of docs/types.md with
 * hostile values are dumped by the real pg_dump (COPY and --inserts), converted by sluice, and every cell of
 * every Parquet is compared with a query of the source database. Only the rows docs/types.md refuses by design
 * may be missing, each with its reason.
 */

const unavailable = missing("postgres") ?? missing("dump-tools");
const DUCK = { memoryLimit: "512MB", threads: 2 };

describe.skipIf(unavailable !== undefined)("pg_dump → sluice → Parquet, every cell against PostgreSQL", () => {
  let db: TestDatabase;
  let tables: DiffTable[];
  let client: pg.Client;
  let reader: DuckSession;
  let work: string;
  const sandbox = useSandboxes();
  const duck = async (sql: string) => (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();

  beforeAll(async () => {
    db = await createTestDatabase("sluice_diff");
    const citext = await hasCitext(db.url);
    if (!citext) console.log("pg_dump differential: the citext extension is not installed, its column is left out");
    const all = diffTables(citext);
    await fillDatabase(db.url, db.name, all);
    // pg_dump writes no values for generated columns: they are not compared, and must not be in the Parquet.
    tables = all.map((t) => ({ ...t, columns: t.columns.filter((c) => !c.generated) }));
    client = await comparisonClient(db.url);
    reader = await openDuck(DUCK);
    work = mkdtempSync(join(tmpdir(), "sluice-diff-pg-"));
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    reader?.close();
    await db?.drop();
    // SLUICE_DIFF_KEEP=1 keeps the dumps and the Parquet for a look at what was compared.
    if (work && !process.env.SLUICE_DIFF_KEEP) rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`pg_dump differential: dumps and Parquet kept in ${work}`);
  });

  const source = (sql: string) => client.query(sql).then((r) => r.rows as Record<string, unknown>[]);

  /** Compares every table; the refused rows must be exactly the errors, each with its reason. */
  async function compareAll(label: string, outputs: Map<string, string>, errors: string[]): Promise<void> {
    const c = await compareDump(source, duck, tables, outputs, errors);
    expectFaithful(`pg_dump differential (${label})`, c, outputs.size, tables.length);
  }

  async function convert(label: string, extra: string[], options: string): Promise<SqlDumpResult> {
    const stem = label.replace(/[^a-z]+/gi, "-");
    const file = join(work, `${stem}.sql`);
    await pgDump(db.url, file, extra, options);
    return sqlDumpToParquet(createReadStream(file, { highWaterMark: 1 << 16 }), join(work, stem), DUCK);
  }

  it.each([
    ["COPY", [], ""],
    ["--inserts", ["--inserts"], ""],
    ["--column-inserts", ["--column-inserts"], ""],
    ["COPY, bytea_output=escape", [], "-c bytea_output=escape"],
    ["--inserts, bytea_output=escape", ["--inserts"], "-c bytea_output=escape"],
  ])("pg_dump %s: no table lost, no cell changed", async (label, extra, options) => {
    const result = await convert(label, extra as string[], options as string);
    const outputs = new Map(result.tables.map((t) => [t.table, t.parquetPath]));
    // Schemas stay apart: public.users and app.users are two files, named as the dump qualifies them.
    expect(basename(outputs.get("app.users") ?? "")).toBe("app.users.parquet");
    expect(basename(outputs.get("public.users") ?? "")).toBe("public.users.parquet");
    await compareAll(
      label,
      outputs,
      result.errors.map((e) => `${e.table}: ${e.message}`),
    );
  });

  it("sees a difference when there is one (the comparison's own control)", async () => {
    const result = await convert("control", [], "");
    const path = (name: string) => result.tables.find((t) => t.table === name)?.parquetPath as string;
    const users = tables.find((t) => t.name === "public.users") as DiffTable;
    const numbers = tables.find((t) => t.name === "public.numbers") as DiffTable;
    // app.users's rows under public.users's columns, and every number one row off.
    const wrongTable = await compareTable(source, duck, users, path("app.users"));
    expect(wrongTable.mismatches.length).toBeGreaterThan(0);
    const shifted = path("public.numbers").replace(/\.parquet$/, ".shifted.parquet");
    await duck(`COPY (SELECT * REPLACE (id + 1 AS id) FROM read_parquet('${path("public.numbers")}')) TO '${shifted}'`);
    const offByOne = await compareTable(source, duck, numbers, shifted);
    expect(offByOne.mismatches.length).toBeGreaterThanOrEqual(numbers.columns.length);
  });

  it("through the CLI: the same cells, the file partial with the refused rows listed", async () => {
    const s = sandbox();
    const file = join(work, "cli.sql");
    await pgDump(db.url, file, []);
    mkdirSync(s.input, { recursive: true });
    copyFileSync(file, join(s.input, "pg.sql"));
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const line = (readManifest(s.manifests) as ProcessedLine[]).find((l) => l.name === "pg.sql");
    expect(line?.processing?.status).toBe("partial");
    const outputs = new Map((line?.processing?.outputs ?? []).map((o) => [String(o.table), o.path]));
    const errors = (line?.processing?.invalid_rows ?? []).map((e) => e.error);
    await compareAll("CLI, COPY", outputs, errors);
  });
});
