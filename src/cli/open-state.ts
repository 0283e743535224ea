import type { RunConfig } from "../config/config.js";
import { isConnectionError, retry } from "../core/retry.js";
import { SqliteStateStore } from "../store/sqlite/sqlite-store.js";
import type { StateStore } from "../store/state-store.js";
import type { Logger } from "../telemetry/logger.js";

/** How long a starting node waits for an unreachable PostgreSQL before giving up with exit code 2. */
const START_WAIT_MS = 60_000;

/**
 * The state store the configuration asks for: the SQLite file (in memory for
 * a dry run), or the shared PostgreSQL database. A server that is restarting
 * when the node starts is waited for (a cluster restarting together must not
 * fail on ordering); a wrong URL, password or database fails at once.
 */
export async function openState(config: RunConfig, log: Logger): Promise<StateStore> {
  if (config.dryRun || !config.stateUrl) return new SqliteStateStore(config.dryRun ? ":memory:" : config.statePath);
  const url = config.stateUrl;
  // Loaded only for a shared state: `pg` is start-up time a single SQLite node does not need.
  const { PostgresStateStore } = await import("../store/postgres/postgres-store.js");
  const deadline = Date.now() + START_WAIT_MS;
  try {
    return await retry(
      () =>
        PostgresStateStore.open(url, {
          node: config.nodeId,
          leaseSeconds: config.leaseSeconds,
          onRetry: (err, n) => {
            // Every 10th retry of one call: enough to see a stall in the log without flooding it.
            if (n % 10 === 1) log.warn({ event: "state_retry", error: err.message, attempt: n });
          },
        }),
      {
        // A server that is down or restarting is waited for, until the deadline; a wrong URL, password or
        // database is not (connection-class errors only).
        retryable: (err) => isConnectionError(err) && Date.now() <= deadline,
        baseMs: 200,
        capMs: 2_000,
        onRetry: (err, attempt) => log.warn({ event: "state_waiting", error: (err as Error).message, attempt }),
      },
    );
  } catch (err) {
    throw new Error(`PostgreSQL state: ${(err as Error).message}`, { cause: err });
  }
}
