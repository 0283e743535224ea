import { retry, ShutdownError } from "../../core/retry.js";
import { isRetriableS3Error } from "./errors.js";

export { fullJitterMs } from "../../core/retry.js";

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
  try {
    return await retry(fn, { signal, retryable: isRetriableS3Error, baseMs, capMs: maxMs, onRetry });
  } catch (err) {
    // This module's callers (outside the pipeline too) expect the signal's own reason, not the pipeline's error.
    if (signal?.aborted && err instanceof ShutdownError) throw abortReason(signal);
    throw err;
  }
}
