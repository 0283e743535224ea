import { retry, sleep } from "../core/retry.js";
import type { IngestContext } from "./context.js";
import { ShutdownError } from "./outcomes.js";

/**
 * How often a refused call (no bucket, access denied) is tried again: an operator may fix it meanwhile. The
 * environment variable is a test hook (a refusal waited out in seconds), not an option.
 */
const REFUSED_RETRY_MS = Number(process.env.SLUICE_WAREHOUSE_REFUSED_RETRY_MS) || 30_000;
/** One error line per distinct refusal per this period, not one per file per attempt. */
const REFUSED_LOG_EVERY_MS = 5 * 60_000;
const lastLogged = new Map<string, number>();

/**
 * Runs one warehouse call for the pipeline until it succeeds, judging its failures by the warehouse's own rules
 * ({@link Warehouse.failures}). A transient failure (throttling, 5xx, a timeout, an endpoint down) is retried
 * with capped full-jitter backoff, each retry logged as `write_retry` and counted. A refusal that retrying will
 * not cure is logged once per cause (the store's event, e.g. `s3_permanent_error`) and then tried again every
 * 30 s, quietly: the file stays where it is (in staging, its state unchanged) and resumes by itself once the
 * bucket or the permission is fixed. While waiting, the file counts in `sluice_warehouse_waiting_files`.
 * Anything else is thrown at once, to be judged as the file's error. Shutdown ends the wait with ShutdownError.
 */
export async function warehouseCall<T>(
  ctx: IngestContext,
  op: string,
  path: string,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  const { failures, requests } = ctx.warehouse;
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
        const once = () => fn(++attempt);
        return await retry(() => (requests ? requests.run(once) : once()), {
          signal: ctx.signal,
          retryable: failures.transient,
          baseMs: 250,
          capMs: 30_000,
          onRetry: (err, n, delayMs) => {
            startWaiting();
            ctx.metrics.sinkRetry(op, "transient");
            ctx.log.warn({
              event: "write_retry",
              what: `warehouse: ${op}`,
              key: path,
              attempt: n,
              error: failures.describe(err),
              retry_in_ms: Math.round(delayMs),
            });
          },
        });
      } catch (err) {
        if (ctx.signal.aborted) throw new ShutdownError("shutting down");
        const refusal = failures.refusal(err);
        if (!refusal) throw err;
        startWaiting();
        ctx.metrics.sinkRetry(op, "permanent");
        const now = Date.now();
        // Keyed by the refusal, not the object: a missing bucket is one line, however many files wait on it.
        const which = `${op} ${refusal.cause}`;
        if (now - (lastLogged.get(which) ?? 0) >= REFUSED_LOG_EVERY_MS) {
          lastLogged.set(which, now);
          ctx.log.error({
            event: refusal.event,
            op,
            key: path,
            error: refusal.message,
            retry_every_ms: REFUSED_RETRY_MS,
            note: "files stay in staging and resume once this is fixed",
          });
        }
        await sleep(REFUSED_RETRY_MS, ctx.signal);
      }
    }
  } finally {
    if (waiting) ctx.metrics.warehouseWait(-1);
  }
}
