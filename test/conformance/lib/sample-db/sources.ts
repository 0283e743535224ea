import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { createConnection } from "mysql2/promise";
import pg from "pg";
import { createTestDatabase } from "../../../support/postgres.js";
import { mysqlColumn, type PgAttribute, pgColumn, type SourceColumn, sourceCanonical } from "./kinds.js";

/**
 * The restored side of the comparison: a dump restored by the real client (psql, mariadb) into a database of its
 * own on the machine's server, every table read back as canonical texts (kinds.ts), and the database dropped.
 */

export type Canonical = string | null;

export interface SourceTable {
  /** The table as the dump names it: `public.film` (pg_dump qualifies), `film` (mysqldump does not). */
  name: string;
  columns: SourceColumn[];
  /** Primary-key columns (rows are matched by them); empty when the table has none. */
  key: string[];
  rows: Canonical[][];
}

export interface Restored {
  server: string;
  database: string;
  /** Every ordinary table, with or without rows (a partitioned parent holds none of its own). */
  tables: SourceTable[];
}

/** Runs a client with a file as its standard input (or none), failing with its stderr. */
function client(bin: string, args: string[], stdinFile?: string): Promise<void> {
  const fd = stdinFile ? openSync(stdinFile, "r") : "ignore";
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [fd, "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (typeof fd === "number") closeSync(fd);
      if (code === 0) resolve();
      else reject(new Error(`${bin} ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

const text = (v: unknown): Canonical =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString("utf8") : String(v);

/** Restores a pg_dump script with psql into a fresh database and reads every table back. */
export async function restorePostgres(file: string): Promise<Restored> {
  const db = await createTestDatabase("sluice_conformance");
  try {
    // One transaction (-1): the --inserts dump is 50,000 statements, each its own commit (and fsync) otherwise.
    await client("psql", ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", file]);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      // Fixed output forms, whatever the server's defaults: UTC, ISO dates, shortest exact floats.
      await c.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1");
      const server = String((await c.query("SELECT version() AS v")).rows[0]?.v).split(" on ")[0] ?? "PostgreSQL";
      const rels = await c.query<{ oid: string; nspname: string; relname: string }>(
        `SELECT c.oid::text AS oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 2, 3`,
      );
      const tables: SourceTable[] = [];
      for (const rel of rels.rows) {
        const attrs = await c.query<PgAttribute>(
          `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS declared, t.typname, t.typtype,
                  et.typname AS elem
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
           WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [rel.oid],
        );
        const key = await c.query<{ name: string }>(
          `SELECT a.attname AS name FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
           WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
          [rel.oid],
        );
        const columns = attrs.rows.map(pgColumn);
        const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
        // ONLY: a partitioned parent's rows are its partitions', which are compared as the tables pg_dump wrote.
        const sql = `SELECT ${columns.map((x) => x.select).join(", ")} FROM ONLY ${ident(rel.nspname)}.${ident(rel.relname)}`;
        const rows = await c.query<unknown[]>({ text: sql, rowMode: "array" });
        tables.push({
          name: `${rel.nspname}.${rel.relname}`,
          columns,
          key: key.rows.map((k) => k.name),
          rows: rows.rows.map((r) => r.map((v, i) => sourceCanonical(columns[i] as SourceColumn, text(v)))),
        });
      }
      return { server, database: db.name, tables };
    } finally {
      await c.end();
    }
  } finally {
    await db.drop();
  }
}

/** The MariaDB/MySQL server the tests use: root without a password on 127.0.0.1:3306; SLUICE_TEST_MYSQL overrides. */
export const MYSQL_URL = new URL(process.env.SLUICE_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306/");

/** Restores a mysqldump script with the mariadb client into a fresh database and reads every table back. */
export async function restoreMariaDb(file: string): Promise<Restored> {
  const database = `sluice_conformance_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const login = {
    host: MYSQL_URL.hostname,
    port: Number(MYSQL_URL.port || 3306),
    user: decodeURIComponent(MYSQL_URL.username || "root"),
    password: decodeURIComponent(MYSQL_URL.password),
    charset: "utf8mb4",
  };
  const admin = await createConnection(login);
  try {
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
    const args = ["-h", login.host, "-P", String(login.port), "-u", login.user];
    if (login.password) args.push(`-p${login.password}`);
    await client("mariadb", [...args, database], file);
    const c = await createConnection({ ...login, database });
    try {
      // TIMESTAMP columns are then shown as UTC instants, as mysqldump (--tz-utc) wrote them.
      await c.query("SET time_zone = '+00:00'");
      const [version] = (await c.query("SELECT VERSION() AS v")) as unknown as [{ v: string }[]];
      const [names] = (await c.query(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
        [database],
      )) as unknown as [{ name: string }[]];
      const tables: SourceTable[] = [];
      for (const { name } of names) {
        const [cols] = (await c.query(
          `SELECT COLUMN_NAME AS name, DATA_TYPE AS dt, COLUMN_TYPE AS ct FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
          [database, name],
        )) as unknown as [{ name: string; dt: string; ct: string }[]];
        const [key] = (await c.query(
          `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
           WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
          [database, name],
        )) as unknown as [{ name: string }[]];
        const columns = cols.map((x) => mysqlColumn(text(x.name) ?? "", text(x.dt) ?? "", text(x.ct) ?? ""));
        const sql = `SELECT ${columns.map((x) => x.select).join(", ")} FROM \`${name.replaceAll("`", "``")}\``;
        const [rows] = (await c.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
        const canonical = rows.map((r) => r.map((v, i) => sourceCanonical(columns[i] as SourceColumn, text(v))));
        tables.push({ name, columns, key: key.map((k) => k.name), rows: canonical });
      }
      return { server: `MariaDB ${version[0]?.v ?? "?"}`, database, tables };
    } finally {
      await c.end();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {});
    await admin.end();
  }
}
