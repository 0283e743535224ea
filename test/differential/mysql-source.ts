import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { type Connection, type ConnectionOptions, createConnection } from "mysql2/promise";
import { floatText } from "./canonical.js";
import type { Query } from "./compare.js";
import { MY_FLOAT } from "./mysql-canonical.js";
import type { DiffTable } from "./tables.js";

const run = promisify(execFile);

/** The machine's MariaDB (root, no password, 127.0.0.1:3306), as the global setup probes it; SLUICE_TEST_MYSQL overrides. */
const URL_ = new URL(process.env.SLUICE_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306/");
const LOGIN: ConnectionOptions = {
  host: URL_.hostname,
  port: Number(URL_.port || 3306),
  user: decodeURIComponent(URL_.username || "root"),
  password: decodeURIComponent(URL_.password),
  charset: "utf8mb4",
};

/**
 * Insert session: strict (a value the column cannot hold fails the test instead of being truncated), zero dates
 * allowed (no NO_ZERO_DATE / NO_ZERO_IN_DATE: they are what the refused table holds), and a time zone other than
 * UTC, so TIMESTAMP values are converted by the server on the way in and by mysqldump (`--tz-utc`) on the way out.
 */
const SESSION = [
  "SET NAMES utf8mb4",
  "SET time_zone = '+05:30'",
  "SET sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
];

export interface MysqlDatabase {
  name: string;
  /** Runs a comparison query through the binary protocol (doubles exact, binary as Buffers, GEOMETRY as bytes). */
  query: Query;
  close(): Promise<void>;
}

/** A database of its own for this run (unique name), filled with `tables`; `close` drops it. */
export async function createFilledDatabase(tables: DiffTable[]): Promise<MysqlDatabase> {
  const name = `sluice_diff_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = await createConnection(LOGIN);
  let reader: Connection | undefined;
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await fill(name, tables);
    reader = await createConnection({
      ...LOGIN,
      database: name,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      // mysql2 would parse GEOMETRY into objects: its bytes are what mysqldump writes.
      typeCast: (field, next) => (field.type === "GEOMETRY" ? field.buffer() : next()),
    });
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => {});
    await admin.end();
    throw err;
  }
  const conn = reader;
  return {
    name,
    query: async (sql) => (await conn.execute(sql))[0] as Record<string, unknown>[],
    async close() {
      await conn.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

async function fill(database: string, tables: DiffTable[]): Promise<void> {
  const c = await createConnection({ ...LOGIN, database });
  try {
    for (const sql of SESSION) await c.query(sql);
    for (const t of tables) {
      const items = ["id INT PRIMARY KEY", ...t.columns.map((x) => `${x.name} ${x.type}`), ...(t.constraints ?? [])];
      await c.query(`CREATE TABLE ${t.sql ?? t.name} (${items.join(", ")}) ${t.options ?? ""}`);
      const names = ["id", ...t.columns.filter((x) => !x.generated).map((x) => x.name)];
      // Many rows per statement; values are escaped by mysql2 on the client (Buffers as X'…').
      const per = Math.max(1, Math.floor(4000 / names.length));
      for (let k = 0; k < t.rows.length; k += per) {
        const chunk = t.rows.slice(k, k + per);
        const tuple = `(${names.map(() => "?").join(", ")})`;
        await c.query(
          `INSERT INTO ${t.sql ?? t.name} (${names.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}`,
          chunk.flatMap((row, j) => [k + j + 1, ...row]),
        );
      }
    }
  } finally {
    await c.end();
  }
}

/** The real mysqldump of the whole database into `file`; `extra` picks the form (`--hex-blob`, …). */
export async function mysqldump(database: string, file: string, extra: string[]): Promise<void> {
  const args = ["-h", String(LOGIN.host), "-P", String(LOGIN.port), "-u", String(LOGIN.user)];
  if (LOGIN.password) args.push(`--password=${LOGIN.password}`);
  await run("mysqldump", [...args, ...extra, `--result-file=${file}`, database], { maxBuffer: 1 << 26 });
}

/**
 * FLOAT values whose server text (6 significant digits, all any dump holds) is not the float stored: mysqldump's
 * own loss, shown beside the figures (see MY_FLOAT).
 */
export async function floatsRoundedByServer(db: MysqlDatabase, tables: DiffTable[]): Promise<number> {
  let n = 0;
  for (const t of tables) {
    for (const c of t.columns.filter((x) => x.canon === MY_FLOAT)) {
      const rows = await db.query(`SELECT ${c.name} AS v, CAST(${c.name} AS CHAR) AS txt FROM ${t.sql ?? t.name}`);
      for (const r of rows) {
        if (r.v === null) continue;
        if (floatText(r.v as number) !== floatText(Math.fround(Number(r.txt)))) n++;
      }
    }
  }
  return n;
}
