import { sleep } from "../core/retry.js";
// From the SDK-free modules, not sink.ts: a local-warehouse run never loads the AWS SDK (~80 ms of start-up).
import { describeS3Error, S3PermanentError } from "../warehouse/s3/errors.js";
import { withS3Retries } from "../warehouse/s3/retry.js";
import type { IngestContext } from "./context.js";
import { ShutdownError } from "./outcomes.js";

/** How often a refused request (no bucket, access denied) is tried again: an operator may fix it meanwhile. */
const PERMANENT_RETRY_MS = Number(process.env.SLUICE_S3_PERMANENT_RETRY_MS) || 30_000;
/** One error line per distinct refusal per this period, not one per file per attempt. */
const PERMANENT_LOG_EVERY_MS = 5 * 60_000;
const lastLogged = new Map<string, number>();

/**
 * Runs one S3 operation for the pipeline until it succeeds. Transient
 * failures (5xx, throttling, timeouts, resets, endpoint down) are retried with
 * backoff and jitter, each retry logged as `write_retry` and counted. A
 * refusal that retrying will not cure is logged once as `s3_permanent_error`
 * and then tried again every 30 s, quietly: the file stays where it is (in
 * staging, its state unchanged) and resumes by itself once the bucket or the
 * permission is fixed. While waiting, the file counts in
 * `sluice_warehouse_waiting_files`. Shutdown ends the wait with ShutdownError.
 */
export async function s3Call<T>(
  ctx: IngestContext,
  op: string,
  key: string,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  let attempt = 0;
  let waiting = false;
  const startWaiting = () => {
    if (!waiting) ctx.metrics.warehouseWait(1);
    waiting = true;
  };
  try {
    for (;;) {
      try {
        // A slot per attempt, never held through a backoff wait.
        const limiter = ctx.warehouse.requests;
        const once = () => fn(++attempt);
        return await withS3Retries(() => (limiter ? limiter.run(once) : once()), {
          signal: ctx.signal,
          onRetry: (err, n, delayMs) => {
            startWaiting();
            ctx.metrics.sinkRetry(op, "transient");
            ctx.log.warn({
              event: "write_retry",
              what: `s3: ${op}`,
              key,
              attempt: n,
              error: describeS3Error(err),
              retry_in_ms: Math.round(delayMs),
            });
          },
        });
      } catch (err) {
        if (ctx.signal.aborted) throw new ShutdownError("shutting down");
        if (!(err instanceof S3PermanentError)) throw err;
        startWaiting();
        ctx.metrics.sinkRetry(op, "permanent");
        const now = Date.now();
        // Keyed by the refusal, not the object: a missing bucket is one line, however many files wait on it.
        const which = `${op} ${err.code} ${err.httpStatus ?? ""}`;
        if (now - (lastLogged.get(which) ?? 0) >= PERMANENT_LOG_EVERY_MS) {
          lastLogged.set(which, now);
          ctx.log.error({
            event: "s3_permanent_error",
            op,
            key,
            error: err.message,
            retry_every_ms: PERMANENT_RETRY_MS,
            note: "files stay in staging and resume once this is fixed",
          });
        }
        await sleep(PERMANENT_RETRY_MS, ctx.signal);
      }
    }
  } finally {
    if (waiting) ctx.metrics.warehouseWait(-1);
  }
}
