import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqlDumpResult, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { type DuckSession, openDuck } from "../../src/processors/tabular/duckdb-session.js";
import { missing } from "../support/services.js";
import { compareDump, compareTable, expectFaithful } from "./compare.js";
import { MY_TIMESTAMP, MY_TIMESTAMP_WALL } from "./mysql-canonical.js";
import { createFilledDatabase, floatsRoundedByServer, type MysqlDatabase, mysqldump } from "./mysql-source.js";
import { mysqlTables } from "./mysql-tables.js";
import type { DiffTable } from "./tables.js";

/**
 * Differential test against the real MariaDB: tables holding every MySQL/MariaDB type of docs/types.md with
 * hostile values are dumped by the real mysqldump (default, --hex-blob, one row per INSERT with column lists,
 * and --default-character-set=binary), converted by sluice, and every cell of every Parquet is compared with a query of the source database.
 * Only the rows docs/types.md refuses by design (zero dates) may be missing, each with its reason.
 */

const unavailable = missing("mariadb") ?? missing("dump-tools");
const DUCK = { memoryLimit: "512MB", threads: 2 };

describe.skipIf(unavailable !== undefined)("mysqldump → sluice → Parquet, every cell against MariaDB", () => {
  let db: MysqlDatabase;
  let tables: DiffTable[];
  let reader: DuckSession;
  let work: string;
  const duck = async (sql: string) => (await reader.conn.runAndReadAll(sql)).getRowObjectsJS();

  beforeAll(async () => {
    tables = mysqlTables();
    db = await createFilledDatabase(tables);
    reader = await openDuck(DUCK);
    work = mkdtempSync(join(tmpdir(), "sluice-diff-mysql-"));
    const rounded = await floatsRoundedByServer(db, tables);
    console.log(
      `mysqldump differential: ${rounded} FLOAT values are printed by MariaDB (and so dumped) with 6 significant ` +
        "digits that do not give the stored float back; FLOAT cells are compared with the server's text",
    );
  }, 120_000);

  afterAll(async () => {
    reader?.close();
    await db?.close();
    // SLUICE_DIFF_KEEP=1 keeps the dumps and the Parquet for a look at what was compared.
    if (work && !process.env.SLUICE_DIFF_KEEP) rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`mysqldump differential: dumps and Parquet kept in ${work}`);
  });

  async function convert(label: string, extra: string[]): Promise<SqlDumpResult> {
    const stem = label.replace(/[^a-z]+/gi, "-");
    const file = join(work, `${stem}.sql`);
    await mysqldump(db.name, file, extra);
    return sqlDumpToParquet(createReadStream(file, { highWaterMark: 1 << 16 }), join(work, stem), DUCK);
  }

  it.each([
    ["default", []],
    ["--hex-blob", ["--hex-blob"]],
    ["--skip-extended-insert --complete-insert", ["--skip-extended-insert", "--complete-insert"]],
    // SET NAMES binary: every text column in its own charset, unconverted (a backup recipe for mixed charsets).
    ["--default-character-set=binary", ["--default-character-set=binary"]],
  ])("mysqldump %s: no table lost, no cell changed", async (label, extra) => {
    const result = await convert(label, extra as string[]);
    const outputs = new Map(result.tables.map((t) => [t.table, t.parquetPath]));
    const errors = result.errors.map((e) => `${e.table}: ${e.message}`);
    const c = await compareDump(db.query, duck, tables, outputs, errors);
    expectFaithful(`mysqldump differential (${label})`, c, outputs.size, tables.length);
  });

  it("mysqldump --skip-tz-utc: TIMESTAMP kept as the wall clock it wrote, no instant guessed", async () => {
    const result = await convert("skip-tz-utc", ["--skip-tz-utc"]);
    const outputs = new Map(result.tables.map((t) => [t.table, t.parquetPath]));
    const errors = result.errors.map((e) => `${e.table}: ${e.message}`);
    const wall = tables.map((t) => ({
      ...t,
      columns: t.columns.map((c) => (c.canon === MY_TIMESTAMP ? { ...c, canon: MY_TIMESTAMP_WALL } : c)),
    }));
    const c = await compareDump(db.query, duck, wall, outputs, errors);
    expectFaithful("mysqldump differential (--skip-tz-utc)", c, outputs.size, tables.length);
  });

  it("sees a difference when there is one (the comparison's own control)", async () => {
    const result = await convert("control", []);
    const path = (name: string) => result.tables.find((t) => t.table === name)?.parquetPath as string;
    const numbers = tables.find((t) => t.name === "numbers") as DiffTable;
    const shifted = path("numbers").replace(/\.parquet$/, ".shifted.parquet");
    await duck(`COPY (SELECT * REPLACE (id + 1 AS id) FROM read_parquet('${path("numbers")}')) TO '${shifted}'`);
    const offByOne = await compareTable(db.query, duck, numbers, shifted);
    expect(offByOne.mismatches.length).toBeGreaterThanOrEqual(numbers.columns.length);
  });
});
