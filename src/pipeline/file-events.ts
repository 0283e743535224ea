import type { FileRecord } from "../core/file-record.js";
import type { IngestContext } from "./context.js";

/** The stable log events of a file's end, each with its metric: one place, so they never drift apart. */
export function emitFinished(
  ctx: IngestContext,
  rec: FileRecord,
  startedAt: number,
  extra: Record<string, unknown> = {},
): void {
  const seconds = (performance.now() - startedAt) / 1000;
  const duration_ms = Math.round(seconds * 1000 * 10) / 10;
  if (rec.state === "duplicate") {
    ctx.metrics.record("duplicate", rec.size, seconds);
    ctx.log.info({
      event: "file_duplicate",
      ingest_id: rec.ingestId,
      path: rec.sourcePath,
      name: rec.name,
      sha256: rec.sha256,
      duplicate_of: rec.duplicateOf,
      warehouse_path: rec.warehousePath,
      bytes: rec.size,
      duration_ms,
      ...extra,
    });
  } else if (rec.state === "failed") {
    const vanished = rec.errorCode === "SLUICE_ERR_VANISHED";
    ctx.metrics.record(vanished ? "vanished" : "failed", rec.size, seconds);
    ctx.log[vanished ? "warn" : "error"]({
      event: vanished ? "file_vanished" : "file_failed",
      ingest_id: rec.ingestId,
      path: rec.sourcePath,
      name: rec.name,
      code: rec.errorCode,
      reason: rec.errorMessage,
      attempts: rec.attempts,
      error_path: rec.errorPath,
      duration_ms,
      ...extra,
    });
  } else {
    ctx.metrics.record("ingested", rec.size, seconds);
    ctx.log.info({
      event: "file_ingested",
      ingest_id: rec.ingestId,
      path: rec.sourcePath,
      name: rec.name,
      warehouse_path: rec.warehousePath,
      sha256: rec.sha256,
      bytes: rec.size,
      duration_ms,
      ...extra,
    });
  }
}
