import pg from "pg";
import { isConnectionError } from "../../core/retry.js";

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

/**
 * Errors worth waiting out: the server is away or restarting, or a transaction lost a race it can simply retry.
 * The list itself is the retry module's (connection-class SQLSTATEs, pg's own connection errors, the network).
 */
export const isTransient = isConnectionError;
