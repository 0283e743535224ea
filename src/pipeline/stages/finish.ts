import { lstat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { type FileRecord, identityOf, sameIdentity } from "../../core/file-record.js";
import { MANIFEST_INVALID_ROWS, type ManifestLineV1, type ManifestProcessing } from "../../core/manifest-line.js";
import type { ProcessingRecordV1 } from "../../core/processing.js";
import { crashPoint } from "../../durable/crash-points.js";
import type { InvalidRow } from "../../processors/profile.js";
import type { IngestContext } from "../context.js";
import { retryUntilDone } from "../retry.js";

function processingSummary(p: ProcessingRecordV1, invalidRows: InvalidRow[]): ManifestProcessing {
  const out: ManifestProcessing = {
    processor: p.processor,
    status: p.status,
    outputs: p.outputs.map((o) => ({
      kind: o.kind,
      path: o.path,
      ...(o.table ? { table: o.table } : {}),
      ...(o.profile
        ? {
            row_count: o.profile.rowCount,
            columns: o.profile.columns.map((c) => ({
              name: c.name,
              ...(c.source !== undefined ? { source: c.source } : {}),
              type: c.type,
              null_count: c.nullCount,
              min: c.min,
              max: c.max,
            })),
          }
        : {}),
    })),
    processing_ms: p.processingMs,
  };
  if (p.aggregations) out.aggregations = p.aggregations;
  if (p.members) out.members = p.members;
  if (p.note) out.note = p.note;
  if (p.dialect) {
    const d = p.dialect;
    out.dialect = {
      delimiter: d.delimiter,
      quote: d.quote,
      escape: d.escape,
      header: d.header,
      preamble_lines: d.preambleLines,
      footer_lines: d.footerLines,
      encoding: d.encoding,
    };
  }
  if (p.duplicateKeys) out.duplicate_keys = p.duplicateKeys;
  if (p.invalidCount !== undefined) {
    out.invalid_count = p.invalidCount;
    out.invalid_rows = invalidRows.slice(0, MANIFEST_INVALID_ROWS);
    const more = p.invalidCount - out.invalid_rows.length;
    if (more > 0) out.invalid_rows_more = more;
  }
  return out;
}

/** `invalidRows`: the first invalid rows of a processed file (the line carries a few; state holds them all). */
export function manifestLine(rec: FileRecord, invalidRows: InvalidRow[] = []): ManifestLineV1 {
  const line: ManifestLineV1 = {
    version: 1,
    ingest_id: rec.ingestId,
    status: rec.duplicateOf ? "duplicate" : "ingested",
    path: rec.sourcePath,
    name: rec.name,
    sha256: rec.sha256 ?? "",
    device: rec.device,
    inode: rec.inode,
    size: rec.size,
    mtime: new Date(rec.mtimeMs).toISOString(),
    warehouse_path: rec.warehousePath ?? "",
    ingested_at: rec.ingestedAt ?? "",
  };
  if (rec.duplicateOf) line.duplicate_of = rec.duplicateOf;
  if (rec.archiveIngestId) line.archive_ingest_id = rec.archiveIngestId;
  if (rec.memberPath) line.member_path = rec.memberPath;
  if (rec.processing && !rec.duplicateOf) line.processing = processingSummary(rec.processing, invalidRows);
  return line;
}

/**
 * Decides whether the file now at `rec.sourcePath` is the one this record
 * describes. Same (dev, ino, size, mtime) while we still hold it open is
 * proof enough; after a restart an inode may have been reused, so the caller
 * passes `confirm` to compare content as well.
 */
async function isOurSource(rec: FileRecord, confirm?: (path: string) => Promise<boolean>): Promise<boolean> {
  try {
    const st = await lstat(rec.sourcePath);
    const same = st.isFile() && sameIdentity(identityOf(st), rec);
    if (!same) return false;
    return confirm ? confirm(rec.sourcePath) : true;
  } catch {
    return false;
  }
}

async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the source (when it was not renamed away) and its sidecar from
 * staging, only after the content is durable in the warehouse and the
 * manifest. A source that changed since it was hashed stays: it is a new
 * generation and will be ingested as such.
 */
export async function releaseSource(
  ctx: IngestContext,
  rec: FileRecord,
  confirm?: (path: string) => Promise<boolean>,
  sourceMoved = false,
): Promise<void> {
  if (sourceMoved && !rec.sidecarPath) return;
  let touched = false;
  if (sourceMoved) {
    // Renamed into the warehouse: whatever has this name now is a new file.
  } else if (await isOurSource(rec, confirm)) {
    touched = await unlinkIfPresent(rec.sourcePath);
  } else if (await exists(rec.sourcePath)) {
    ctx.log.debug({
      event: "source_kept",
      ingest_id: rec.ingestId,
      path: rec.sourcePath,
      reason: "a different file now has this name",
    });
  }
  // A sidecar goes with its file, unless a new file of the same name has arrived and owns it now.
  if (rec.sidecarPath && !(await exists(rec.sourcePath))) touched = (await unlinkIfPresent(rec.sidecarPath)) || touched;
  if (touched) await ctx.dirs.sync(dirname(rec.sourcePath));
}

/**
 * The tail every file shares once its content is safe (stored, or known to
 * be a duplicate): one manifest line, then the source leaves staging, then
 * the terminal state. Each step is idempotent for recovery.
 */
export async function finishStage(
  ctx: IngestContext,
  /** The record as the caller knows it (saves a read), or its id to load it (recovery). */
  record: FileRecord | string,
  opts: {
    manifestAlreadyWritten?: boolean;
    confirm?: (path: string) => Promise<boolean>;
    /** The source was renamed into the warehouse by this process: nothing left to remove but a sidecar. */
    sourceMoved?: boolean;
  } = {},
): Promise<FileRecord> {
  let rec = typeof record === "string" ? await ctx.store.get(record) : record;
  if (!rec?.manifestPath) throw new Error(`internal: ${String(record)} has no manifest path at finish`);
  const ingestId = rec.ingestId;
  if (rec.state !== "manifested" && !opts.manifestAlreadyWritten) {
    const path = rec.manifestPath;
    // Only a processed original's line carries invalid rows: no query for the rest (most files).
    const invalid =
      rec.processing && !rec.duplicateOf ? await ctx.store.invalidRows(ingestId, 0, MANIFEST_INVALID_ROWS) : [];
    const line = manifestLine(rec, invalid);
    await retryUntilDone("manifest: append", () => ctx.manifests.append(path, line), ctx.log, ctx.signal);
    crashPoint("after-manifest");
  }
  // With nothing left in staging to remove, `manifested` would be followed at once by `done`: skip the extra commit
  // (recovery of a `stored` row looks for its manifest line anyway).
  const nothingToRelease = opts.sourceMoved && !rec.sidecarPath;
  if (rec.state !== "manifested" && !nothingToRelease) {
    await retryUntilDone("state: manifested", () => ctx.store.markManifested(ingestId), ctx.log, ctx.signal);
    crashPoint("after-manifested");
  }
  await retryUntilDone(
    "staging: release source",
    () => releaseSource(ctx, rec as FileRecord, opts.confirm, opts.sourceMoved),
    ctx.log,
    ctx.signal,
  );
  crashPoint("after-source-removed");
  const terminal = rec.duplicateOf ? "duplicate" : "done";
  await retryUntilDone("state: finish", () => ctx.store.finish(ingestId, terminal), ctx.log, ctx.signal);
  rec = { ...rec, state: terminal };
  return rec;
}
