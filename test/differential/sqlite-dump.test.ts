import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { type DuckSession, openDuck } from "../../src/processors/tabular/duckdb-session.js";
import { missing } from "../support/services.js";
import { compareDump, compareTable, expectFaithful } from "./compare.js";
import { createSqliteDatabase, openSource, type SqliteSource, sqliteDump } from "./sqlite-source.js";
import { internalTables, SQLITE_AFTER, sqliteTables } from "./sqlite-tables.js";
import type { DiffTable } from "./tables.js";

/**
 * Differential test against the real SQLite: a database made by the sqlite3 CLI, with declared types of every
 * affinity holding values that do not fit them, is dumped by the same CLI's `.dump`, converted by sluice, and every
 * cell of every Parquet is compared with what SQLite holds (read with better-sqlite3). Every row SQLite stored must
 * come out; none is refused.
 */

const unavailable = missing("dump-tools");
const DUCK = { memoryLimit: "512MB", threads: 2 };

describe.skipIf(unavailable !== undefined)("sqlite3 .dump → sluice → Parquet, every cell against SQLite", () => {
  let tables: DiffTable[];
  let source: SqliteSource;
  let reader: DuckSession;
  let work: string;
  const duck = async (sql: string) => (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "sluice-diff-sqlite-"));
    const all = sqliteTables();
    await createSqliteDatabase(join(work, "source.db"), join(work, "source.sql"), all, SQLITE_AFTER);
    // .dump writes no values for generated columns: they are not compared, and must not be in the Parquet.
    tables = [...all.map((t) => ({ ...t, columns: t.columns.filter((c) => !c.generated) })), ...internalTables()];
    source = openSource(join(work, "source.db"));
    reader = await openDuck(DUCK);
  }, 120_000);

  afterAll(() => {
    source?.close();
    reader?.close();
    // SLUICE_DIFF_KEEP=1 keeps the database, the dump and the Parquet for a look at what was compared.
    if (work && !process.env.SLUICE_DIFF_KEEP) rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`sqlite3 differential: database, dump and Parquet kept in ${work}`);
  });

  it("sqlite3 .dump: no table lost, no row refused, no cell changed", async () => {
    const file = join(work, "dump.sql");
    await sqliteDump(join(work, "source.db"), file);
    const result = await sqlDumpToParquet(createReadStream(file, { highWaterMark: 1 << 16 }), join(work, "out"), DUCK);
    const outputs = new Map(result.tables.map((t) => [t.table, t.parquetPath]));
    const errors = result.errors.map((e) => `${e.table}: ${e.message}`);
    const c = await compareDump(source.query, duck, tables, outputs, errors);
    expectFaithful("sqlite3 .dump differential", c, outputs.size, tables.length);

    // The comparison's own control: every value one row off is seen.
    const path = outputs.get("fits") as string;
    const shifted = path.replace(/\.parquet$/, ".shifted.parquet");
    await duck(`COPY (SELECT * REPLACE (id + 1 AS id) FROM read_parquet('${path}')) TO '${shifted}'`);
    const fits = tables.find((t) => t.name === "fits") as DiffTable;
    const offByOne = await compareTable(source.query, duck, fits, shifted);
    expect(offByOne.mismatches.length).toBeGreaterThanOrEqual(fits.columns.length);
  });
});
