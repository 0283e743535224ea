import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import type { Query } from "./compare.js";
import type { DiffTable, DiffValue } from "./tables.js";

const run = promisify(execFile);

/**
 * The SQLite side of the differential test: the database is made by the real `sqlite3` CLI from SQL literals (so
 * each value's storage class is exactly the one written, then SQLite's affinity rules apply to it), dumped by the
 * same CLI's `.dump`, and read back with better-sqlite3: integers as bigints, reals as numbers, blobs as Buffers.
 */

/** A value as an SQL literal: strings are text, JS integers INTEGER, other numbers REAL, Buffers blobs. */
export function sqliteLiteral(v: DiffValue): string {
  if (v === null) return "NULL";
  if (typeof v === "object" && "toSqlString" in v) return v.toSqlString();
  if (Buffer.isBuffer(v)) return `X'${v.toString("hex")}'`;
  if (typeof v === "bigint") return String(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return v > 0 ? "1e999" : "-1e999";
    const s = String(v);
    return Number.isInteger(v) || /[.e]/.test(s) ? s : `${s}.0`;
  }
  // SQLite's text literal: only the quote is escaped. The CLI's .read drops CR from a script, so CR is char(13).
  return v
    .split("\r")
    .map((part) => `'${part.replaceAll("'", "''")}'`)
    .join(" || char(13) || ");
}

/**
 * Creates `file` with the tables (their CREATE TABLE as given, `id INTEGER PRIMARY KEY` first) and then the
 * statements of `after` (indexes, ANALYZE), by the sqlite3 CLI.
 */
export async function createSqliteDatabase(
  file: string,
  script: string,
  tables: DiffTable[],
  after: string[] = [],
): Promise<void> {
  const lines = ["BEGIN;"];
  for (const t of tables) {
    const items = [`id ${t.idType ?? "INTEGER PRIMARY KEY"}`, ...t.columns.map((c) => `${c.name} ${c.type}`.trimEnd())];
    lines.push(
      `CREATE TABLE ${t.sql ?? t.name} (${[...items, ...(t.constraints ?? [])].join(", ")})${t.options ?? ""};`,
    );
    const names = ["id", ...t.columns.filter((c) => !c.generated).map((c) => c.name)].join(", ");
    t.rows.forEach((row, i) => {
      lines.push(
        `INSERT INTO ${t.sql ?? t.name} (${names}) VALUES (${[i + 1, ...row].map(sqliteLiteral).join(", ")});`,
      );
    });
  }
  lines.push(...after, "COMMIT;");
  writeFileSync(script, `${lines.join("\n")}\n`);
  await run("sqlite3", ["-bail", file, `.read ${script}`], { maxBuffer: 1 << 26 });
}

/** `sqlite3 FILE .dump`, byte for byte, into `out`. */
export async function sqliteDump(file: string, out: string): Promise<void> {
  const { stdout } = await run("sqlite3", [file, ".dump"], { encoding: "buffer", maxBuffer: 1 << 28 });
  writeFileSync(out, stdout);
}

export interface SqliteSource {
  query: Query;
  close(): void;
}

/** Reads the source database as SQLite holds it: 64-bit integers exact (bigint), reals as doubles, blobs as bytes. */
export function openSource(file: string): SqliteSource {
  const db = new Database(file, { readonly: true });
  db.defaultSafeIntegers(true);
  return {
    query: async (sql) => db.prepare(sql).all() as Record<string, unknown>[],
    close: () => db.close(),
  };
}
