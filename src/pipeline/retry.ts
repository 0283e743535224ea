import type { Logger } from "../telemetry/logger.js";
import { NotReadyError, ShutdownError, VanishedError } from "./outcomes.js";

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ShutdownError("shutting down"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new ShutdownError("shutting down"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return exp / 2 + Math.random() * (exp / 2);
}

/**
 * Retries an idempotent write until it succeeds. Used where giving up would
 * mean failing a perfectly good file because the warehouse or state disk is
 * full or unreachable: ingestion pauses instead, visible in the logs.
 */
export async function retryUntilDone<T>(
  what: string,
  fn: () => Promise<T>,
  log: Logger,
  signal: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw new ShutdownError("shutting down");
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ShutdownError || err instanceof VanishedError || err instanceof NotReadyError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // Another node adopted the file (this one was presumed dead): retrying cannot succeed, and must not.
      if (code === "SLUICE_OWNERSHIP_LOST") throw err;
      const delay = backoffMs(attempt, 100, 30_000);
      log.warn({
        event: "write_retry",
        what,
        attempt,
        code,
        error: (err as Error).message,
        retry_in_ms: Math.round(delay),
      });
      await sleep(delay, signal);
    }
  }
}
