import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { SETUP } from "./pg-tables.js";
import { type DiffTable, sqlName } from "./tables.js";

const run = promisify(execFile);

/**
 * Fills a fresh database with the differential tables. The database's time zone is one with a historical offset
 * in seconds (Amsterdam was +00:19:32 until 1937), so pg_dump writes timestamptz values with such offsets.
 */
export async function fillDatabase(url: string, name: string, tables: DiffTable[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`ALTER DATABASE ${name} SET timezone TO 'Europe/Amsterdam'`);
    await client.query("SET timezone TO 'Europe/Amsterdam'");
    for (const sql of SETUP) await client.query(sql);
    for (const t of tables) {
      const defs = t.columns.map((c) => `${sqlName(c)} ${c.type}`);
      await client.query(`CREATE TABLE ${t.name} (id integer PRIMARY KEY, ${defs.join(", ")})`);
      // Many rows per statement (at most 65,535 parameters), so the bulk table loads in a few round trips.
      // Generated columns get no value: PostgreSQL computes them.
      const stored = t.columns.filter((c) => !c.generated);
      const width = stored.length + 1;
      const per = Math.max(1, Math.floor(2000 / width));
      for (let k = 0; k < t.rows.length; k += per) {
        const chunk = t.rows.slice(k, k + per);
        const tuples = chunk.map(
          (_, j) => `(${Array.from({ length: width }, (_, c) => `$${j * width + c + 1}`).join(", ")})`,
        );
        const values = chunk.flatMap((row, j) => [k + j + 1, ...row]);
        await client.query(
          `INSERT INTO ${t.name} (id, ${stored.map(sqlName).join(", ")}) VALUES ${tuples.join(", ")}`,
          values,
        );
      }
    }
  } finally {
    await client.end();
  }
}

/** Whether the server can make a citext column (the contrib package may be missing). */
export async function hasCitext(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS citext");
    return true;
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

/**
 * The real pg_dump, plain format, into `file`; `extra` picks the form (`--inserts`, …) and `options` server
 * settings for its session (PGOPTIONS: `-c bytea_output=escape` makes it write bytea in the escape format).
 */
export async function pgDump(url: string, file: string, extra: string[], options = ""): Promise<void> {
  const env = { ...process.env, PGOPTIONS: options };
  await run("pg_dump", ["--no-owner", "--no-privileges", ...extra, "-f", file, url], { maxBuffer: 1 << 26, env });
}

/** A client for the comparison queries, with the settings pg_dump itself uses for its text output. */
export async function comparisonClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("SET datestyle TO ISO; SET intervalstyle TO postgres; SET extra_float_digits TO 3");
  return client;
}
