import { retry } from "../core/retry.js";
import type { IngestContext } from "../pipeline/context.js";

/**
 * Aborts the multipart uploads left under the warehouse prefix by work that is gone, so storage is not held by
 * parts nobody will complete. Run at start, before recovery (`includeSelf: false`: this node's own uploads are
 * its previous run's, which is dead), and, with several nodes, every few leases while running (`includeSelf:
 * true`). An upload is left alone while it may belong to live work: an unfinished file owned by a node whose
 * heartbeat is within the lease, whose object is the upload's key or whose outputs sit beside it (`KEY.parquet`,
 * `KEY.tables/…`). A node that died mid-upload less than a lease ago keeps its upload until a later sweep. A lone
 * node (embedded state) owns every upload under its prefix.
 */
export async function sweepStaleUploads(ctx: IngestContext, includeSelf = false): Promise<void> {
  const leases = ctx.store.leases;
  const { failures } = ctx.warehouse;
  // Blips are retried; a refusal (no permission to list uploads) is thrown, not waited out: at start it must
  // say so rather than hold the node before recovery.
  const aborted = await retry(
    () => ctx.warehouse.abortStaleUploads(async (path) => (leases ? leases.uploadMayBeLive(path, includeSelf) : false)),
    {
      signal: ctx.signal,
      retryable: failures.transient,
      baseMs: 250,
      capMs: 30_000,
      onRetry: (err, attempt, delayMs) =>
        ctx.log.warn({
          event: "write_retry",
          what: "warehouse: abort stale uploads",
          attempt,
          error: failures.describe(err),
          retry_in_ms: Math.round(delayMs),
        }),
    },
  );
  if (aborted.length > 0) {
    ctx.log.info({ event: "s3_stale_uploads_aborted", count: aborted.length, keys: aborted.slice(0, 100) });
  }
}
