import { errnoCode } from "../core/errors.js";
import { isRetryable, retry } from "../core/retry.js";
import type { Logger } from "../telemetry/logger.js";

/**
 * Retries an idempotent write until it succeeds, while it fails with an error on the allow-list
 * ({@link isRetryable}: a full or failing disk, permissions on sluice's own directories, a store that is busy or
 * away, the network). Used where giving up would mean failing a perfectly good file because the warehouse or
 * state disk is full or unreachable: ingestion pauses instead, visible in the logs as `write_retry`. Anything
 * else (a bug such as a TypeError, a SQL error, a verdict on the file, ownership lost to another node, a vanished
 * source, the shutdown) is thrown at once, after one call, for the caller to fail the file with.
 */
export function retryUntilDone<T>(what: string, fn: () => Promise<T>, log: Logger, signal: AbortSignal): Promise<T> {
  return retry(fn, {
    signal,
    retryable: isRetryable,
    baseMs: 100,
    capMs: 30_000,
    onRetry: (err, attempt, delayMs) =>
      log.warn({
        event: "write_retry",
        what,
        attempt,
        code: errnoCode(err),
        error: (err as Error).message,
        retry_in_ms: Math.round(delayMs),
      }),
  });
}
