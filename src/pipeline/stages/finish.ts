import { lstatSync, unlinkSync } from "node:fs";
import { lstat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { type FileRecord, identityOf, sameIdentity } from "../../core/file-record.js";
import { MANIFEST_INVALID_ROWS, type ManifestLineV1, type ManifestProcessing } from "../../core/manifest-line.js";
import type { ProcessingRecordV1, ProcessingResult } from "../../core/processing.js";
import type { InvalidRow } from "../../core/profile.js";
import { crashPoint, faultPoint } from "../../durable/crash-points.js";
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

/** A file whose content is safe (stored, or known to be a duplicate), to be finished. */
export interface Finishing {
  /** The record as the caller knows it (saves a read), or its id to load it (recovery). */
  record: FileRecord | string;
  manifestAlreadyWritten?: boolean;
  /** Confirms by content that the file in staging is the one recorded (after a restart an inode may be reused). */
  confirm?: (path: string) => Promise<boolean>;
  /** The source was renamed into the warehouse by this process: nothing left to remove but a sidecar. */
  sourceMoved?: boolean;
}

/**
 * The tail every file shares once its content is safe: one manifest line, then the source leaves staging,
 * then the terminal state. Each step is idempotent for recovery. Several files take each step together
 * (their manifest lines share one fdatasync, their state changes one commit, their staging directory one
 * fsync) before any takes the next: one file and a batch of small ones run this same code.
 */
export async function finishStages(ctx: IngestContext, items: Finishing[]): Promise<FileRecord[]> {
  const recs = await Promise.all(
    items.map(async (it) => {
      const rec = typeof it.record === "string" ? await ctx.store.get(it.record) : it.record;
      if (!rec?.manifestPath) throw new Error(`internal: ${String(it.record)} has no manifest path at finish`);
      return rec;
    }),
  );
  const { log, signal } = ctx;
  const writing = recs.filter((rec, k) => rec.state !== "manifested" && !items[k]?.manifestAlreadyWritten);
  await Promise.all(
    writing.map(async (rec) => {
      // Only a processed original's line carries invalid rows: no query for the rest (most files).
      const invalid =
        rec.processing && !rec.duplicateOf ? await ctx.store.invalidRows(rec.ingestId, 0, MANIFEST_INVALID_ROWS) : [];
      const line = manifestLine(rec, invalid);
      await retryUntilDone(
        "manifest: append",
        () => ctx.manifests.append(rec.manifestPath as string, line),
        log,
        signal,
      );
    }),
  );
  crashPoint("after-manifest", writing.length);
  // With nothing left in staging to remove, `manifested` would be followed at once by `done`: skip the extra
  // commit (recovery of a `stored` row looks for its manifest line anyway).
  const nothingToRelease = (k: number) => items[k]?.sourceMoved === true && !recs[k]?.sidecarPath;
  const marking = recs.filter((rec, k) => rec.state !== "manifested" && !nothingToRelease(k));
  await Promise.all(
    marking.map((rec) =>
      retryUntilDone("state: manifested", () => ctx.store.markManifested(rec.ingestId), log, signal),
    ),
  );
  crashPoint("after-manifested", marking.length);
  await releaseSources(
    ctx,
    recs.map((rec, k) => ({ rec, confirm: items[k]?.confirm, sourceMoved: items[k]?.sourceMoved === true })),
  );
  crashPoint("after-source-removed", recs.length);
  const terminal = (rec: FileRecord) => (rec.duplicateOf ? "duplicate" : "done");
  await Promise.all(
    recs.map((rec) =>
      retryUntilDone(
        "state: finish",
        async () => {
          faultPoint("finish", rec.name);
          return ctx.store.finish(rec.ingestId, terminal(rec));
        },
        log,
        signal,
      ),
    ),
  );
  return recs.map((rec) => ({ ...rec, state: terminal(rec) }));
}

/**
 * `--no-keep-archives`: an expanded archive is recorded as stored (its members are) with what processing made
 * of it and without its own bytes in the warehouse; its temp copy goes, then the tail every file takes.
 */
export async function finishWithoutRaw(
  ctx: IngestContext,
  ingestId: string,
  result: ProcessingResult,
  opts: Omit<Finishing, "record"> = {},
): Promise<FileRecord> {
  const at = new Date();
  await retryUntilDone(
    "state: stored",
    () => ctx.store.markStored(ingestId, at.toISOString(), ctx.manifests.pathFor(at), result),
    ctx.log,
    ctx.signal,
  );
  await ctx.work.removeTmp(ingestId);
  return finishStage(ctx, ingestId, opts);
}

/** finishStages for one file. */
export async function finishStage(
  ctx: IngestContext,
  record: FileRecord | string,
  opts: Omit<Finishing, "record"> = {},
): Promise<FileRecord> {
  return (await finishStages(ctx, [{ record, ...opts }]))[0] as FileRecord;
}

/**
 * releaseSource for many files: the common case (a copied or uploaded source, no sidecar, nothing to confirm
 * by content) checks and unlinks with synchronous calls and fsyncs each staging directory once; anything else,
 * or anything that fails, takes releaseSource with its retries.
 */
async function releaseSources(
  ctx: IngestContext,
  items: { rec: FileRecord; confirm: ((path: string) => Promise<boolean>) | undefined; sourceMoved: boolean }[],
): Promise<void> {
  const touched = new Set<string>();
  const slow: typeof items = [];
  for (const it of items) {
    const { rec } = it;
    if (it.sourceMoved && !rec.sidecarPath) continue;
    if (it.sourceMoved || it.confirm || rec.sidecarPath) {
      slow.push(it);
      continue;
    }
    try {
      const st = lstatSync(rec.sourcePath, { throwIfNoEntry: false });
      if (st?.isFile() && sameIdentity(identityOf(st), rec)) {
        unlinkSync(rec.sourcePath);
        touched.add(dirname(rec.sourcePath));
      } else if (st) {
        ctx.log.debug({
          event: "source_kept",
          ingest_id: rec.ingestId,
          path: rec.sourcePath,
          reason: "a different file now has this name",
        });
      }
    } catch {
      slow.push(it);
    }
  }
  const { log, signal } = ctx;
  await Promise.all([
    ...[...touched].map((d) => retryUntilDone("staging: release source", () => ctx.dirs.sync(d), log, signal)),
    ...slow.map((it) =>
      retryUntilDone(
        "staging: release source",
        () => releaseSource(ctx, it.rec, it.confirm, it.sourceMoved),
        log,
        signal,
      ),
    ),
  ]);
}
