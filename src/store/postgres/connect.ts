import pg from "pg";

const INT8 = 20;

/**
 * A pool whose BIGINT columns come back as numbers (sizes, inodes and row
 * numbers all fit in 2^53), the same shapes the SQLite dialect returns.
 */
export function openPool(url: string, max = 8): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // A dead server must not hang a query forever: the store retries on its own schedule.
    connectionTimeoutMillis: 5_000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client whose server went away emits here; without a listener that would crash the process.
  pool.on("error", () => {});
  return pool;
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01", // admin_shutdown: the server is restarting
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or in recovery
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "53300", // too_many_connections
]);

/** Errors worth waiting out: the server is away or restarting, or a transaction lost a race it can simply retry. */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    e.message ?? "",
  );
}
