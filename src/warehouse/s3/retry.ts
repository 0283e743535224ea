import { isRetriableS3Error } from "./errors.js";

/** How {@link withS3Retries} waits and reports. */
export interface S3RetryOptions {
  /** Stops the retrying (also during a wait): the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** First backoff ceiling; doubles per attempt. Default 250 ms. */
  baseMs?: number;
  /** Largest backoff ceiling. Default 30 s: an endpoint back after an outage is noticed within that. */
  maxMs?: number;
  /** Called before each wait, so the caller can log and count the retry. `attempt` counts from 1. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Full jitter: a uniform wait below an exponentially growing ceiling, so many clients do not retry in step. */
export function fullJitterMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.random() * ceiling;
}

/**
 * Runs `fn` until it succeeds, retrying with exponential backoff and full
 * jitter while it fails with a retriable error ({@link isRetriableS3Error}).
 * There is no attempt limit: an endpoint down for minutes stalls the caller
 * instead of failing its file. Anything else — a permanent or integrity
 * error, a local error, a bug — is rethrown at once, as is the abort reason
 * when `signal` fires. `fn` must be safe to repeat (a deterministic key).
 */
export async function withS3Retries<T>(fn: () => Promise<T>, opts: S3RetryOptions = {}): Promise<T> {
  const { signal, baseMs = 250, maxMs = 30_000, onRetry } = opts;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (!isRetriableS3Error(err)) throw err;
      const delayMs = fullJitterMs(attempt, baseMs, maxMs);
      onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}
