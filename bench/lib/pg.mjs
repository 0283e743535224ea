// The machine's PostgreSQL for the scenarios that put sluice's state there (a on PostgreSQL, l):
// a fresh database per run, and the transactions committed in it (pg_stat_database.xact_commit).
// The server is SLUICE_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test), used as the admin connection.
import { setTimeout as sleep } from "node:timers/promises";

export const ADMIN_URL = process.env.SLUICE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/** True when the harness runs in CI (CI=true, as CI services set it): there a missing PostgreSQL is a failure. */
export const IN_CI = !!process.env.CI && !["false", "0"].includes(process.env.CI.toLowerCase());

/**
 * @param {string} url
 * @param {number} [connectTimeoutMs]
 * @returns {Promise<import("pg").Client>}
 */
export async function pgClient(url, connectTimeoutMs = 10_000) {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  await c.connect();
  return c;
}

/**
 * Whether the admin server answers: null when it does, else why not (for "ANCHOR MISSING: PostgreSQL (…)").
 * @returns {Promise<string | null>}
 */
export async function pgUnavailable() {
  try {
    const c = await pgClient(ADMIN_URL, 5_000);
    await c.query("SELECT 1");
    await c.end();
    return null;
  } catch (e) {
    return `${redact(ADMIN_URL)}: ${e instanceof Error ? e.message || e.constructor.name : e}`;
  }
}

/** The admin URL without a password, for logs and the results JSON. */
export function redact(/** @type {string} */ url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable SLUICE_BENCH_PG)";
  }
}

/**
 * @typedef {object} Db
 * @property {string} name
 * @property {string} url
 * @property {() => Promise<number>} xactCommit
 *           xact_commit of the database once it is settled: call it after every client of the database has
 *           disconnected (a backend flushes its counts when it exits, a moment after its client left)
 */

/**
 * Creates database `name` (dropped first if a crashed run left it), runs `work`, drops it.
 * @template T
 * @param {string} name
 * @param {(url: string, db: Db) => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function withDatabase(name, work) {
  const admin = await pgClient(ADMIN_URL);
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  /** @type {Db} */
  const db = { name, url: url.toString(), xactCommit: () => settledXactCommit(admin, name) };
  try {
    return await work(db.url, db);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * pg_stat_database.xact_commit of `name`, read through the admin connection (another database, so the reads
 * add nothing to it). Waits (up to ~2 s) until no backend is connected to the database and two reads 100 ms
 * apart agree; past that, returns the last value.
 * @param {import("pg").Client} admin
 * @param {string} name
 */
async function settledXactCommit(admin, name) {
  const read = async () => {
    await admin.query("SELECT pg_stat_clear_snapshot()");
    const r = await admin.query(
      `SELECT coalesce((SELECT xact_commit FROM pg_stat_database WHERE datname = $1), 0)::bigint AS x,
              (SELECT count(*) FROM pg_stat_activity WHERE datname = $1)::int AS backends`,
      [name],
    );
    return { x: Number(r.rows[0].x), backends: r.rows[0].backends };
  };
  const deadline = Date.now() + 2_000;
  let prev = await read();
  while (Date.now() < deadline) {
    await sleep(100);
    const cur = await read();
    if (cur.backends === 0 && prev.backends === 0 && cur.x === prev.x) return cur.x;
    prev = cur;
  }
  return prev.x;
}
