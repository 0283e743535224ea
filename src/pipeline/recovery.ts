import { closeSync, statSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ERROR_CATALOG, SluiceError } from "../core/errors.js";
import type { FileRecord } from "../core/file-record.js";
import { hashPath } from "../hashing/hash-path.js";
import type { IngestContext } from "./context.js";
import { emitFinished } from "./file-events.js";
import { NotReadyError, VanishedError } from "./outcomes.js";
import { placeOutputs } from "./processing/outputs.js";
import type { Processed } from "./processing/process-file.js";
import { processWithRetry } from "./processing/process-file.js";
import { retryUntilDone } from "./retry.js";
import { s3Call } from "./s3-calls.js";
import { finishStage, finishWithoutRaw } from "./stages/finish.js";
import { landStage } from "./stages/land.js";
import { completeQuarantine, quarantineStage, removeUnstoredOutputs } from "./stages/quarantine.js";
import { hashSource, openSource } from "./stages/read-source.js";

/**
 * Finishes what a crash interrupted, before any new file is looked at. Each
 * non-terminal row re-runs the step its state stands for; the side effects
 * are idempotent, and the disk is checked before each one (is the content
 * already in the warehouse? is the manifest line already written?) so
 * nothing is done twice.
 */
export async function recover(ctx: IngestContext): Promise<number> {
  const rows = withoutReplayedMembers(await ctx.store.activeRecords());
  if (rows.length > 0) {
    ctx.log.info({ event: "recovery_started", files: rows.length, by_state: countStates(rows) });
    await recoverRows(ctx, rows, { recovered: true });
  }
  await clearTempArea(ctx);
  if (rows.length > 0) ctx.log.info({ event: "recovery_finished", files: rows.length });
  return rows.length;
}

/**
 * Finishes files this node adopted from a node presumed dead (a shared
 * state): the same steps as recovery after a crash, one file at a time under
 * `exclusive` (the runner's hold on the staging path, so this node's own
 * pipeline never works the same file meanwhile). Their temp copies, if any,
 * are in the dead node's work area: the source is read again instead.
 */
export async function recoverAdopted(
  ctx: IngestContext,
  adopted: FileRecord[],
  exclusive: (path: string, work: () => Promise<void>) => Promise<boolean>,
): Promise<FileRecord[]> {
  const rows = withoutReplayedMembers(adopted);
  const written = await manifestLinesPresent(ctx, rows);
  const deferred: FileRecord[] = [];
  for (const row of rows) {
    const ran = await exclusive(row.sourcePath, async () => {
      const started = performance.now();
      const rec = await recoverOne(ctx, row, written.has(row.ingestId));
      if (rec) emitFinished(ctx, rec, started, { recovered: true, adopted: true });
    });
    // The path is being worked by this node's pipeline right now: tried again on the next round.
    if (!ran) deferred.push(row);
  }
  return deferred;
}

async function recoverRows(ctx: IngestContext, rows: FileRecord[], extra: Record<string, unknown>): Promise<void> {
  const written = await manifestLinesPresent(ctx, rows);
  for (const row of rows) {
    const started = performance.now();
    const rec = await recoverOne(ctx, row, written.has(row.ingestId));
    if (rec) emitFinished(ctx, rec, started, extra);
  }
}

/**
 * A member whose archive is itself unfinished is redone by the archive's
 * replay (which finds it by archive id and member index), not on its own.
 */
function withoutReplayedMembers(rows: FileRecord[]): FileRecord[] {
  const active = new Set(rows.map((r) => r.ingestId));
  return rows.filter((r) => r.archiveIngestId === null || !active.has(r.archiveIngestId));
}

function countStates(rows: FileRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}

/** Cuts torn tails, then finds which unconfirmed manifest lines did reach the disk. */
async function manifestLinesPresent(ctx: IngestContext, rows: FileRecord[]): Promise<Set<string>> {
  const byPath = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!r.manifestPath || (r.state !== "stored" && r.state !== "hashed")) continue;
    const ids = byPath.get(r.manifestPath) ?? new Set<string>();
    ids.add(r.ingestId);
    byPath.set(r.manifestPath, ids);
  }
  const found = new Set<string>();
  for (const [path, ids] of byPath) {
    if (await ctx.manifests.repairTail(path)) ctx.log.warn({ event: "manifest_tail_repaired", path });
    for (const id of await ctx.manifests.findIngestIds(path, ids)) found.add(id);
  }
  return found;
}

async function recoverOne(ctx: IngestContext, row: FileRecord, lineWritten: boolean): Promise<FileRecord | null> {
  const confirm = async (path: string) => (await hashPath(ctx.hasher, path)) === row.sha256;
  if (row.archiveIngestId !== null && (row.state === "discovered" || row.state === "hashed")) {
    // Its archive is finished (failed mid-way): the member's bytes never reached the warehouse.
    return abandon(ctx, row, "the archive it came from ended before this member was stored");
  }
  switch (row.state) {
    case "discovered":
      // Nothing happened yet; the file (if still there) is found again by the first scan.
      await ctx.warehouse.removeTmp(row.ingestId);
      await ctx.store.forget(row.ingestId);
      return null;
    case "hashed":
      if (row.duplicateOf) return finishStage(ctx, row.ingestId, { manifestAlreadyWritten: lineWritten, confirm });
      return recoverHashed(ctx, row, confirm);
    case "stored":
      return finishStage(ctx, row.ingestId, { manifestAlreadyWritten: lineWritten, confirm });
    case "manifested":
      return finishStage(ctx, row.ingestId, { confirm });
    case "quarantine":
      return completeQuarantine(ctx, row.ingestId);
    default:
      return null;
  }
}

/** The name was reserved; did the content land before the crash? */
async function recoverHashed(
  ctx: IngestContext,
  row: FileRecord,
  confirm: (p: string) => Promise<boolean>,
): Promise<FileRecord> {
  const target = row.warehousePath as string;
  if (!ctx.objects && (await landedLocally(ctx, row, target, confirm))) {
    // The raw file is in place but `stored` (and the processing result) was not committed: process the
    // stored copy again, which rewrites the same outputs.
    const processed = await reprocess(ctx, row, target, target);
    // The stored copy already has its final mode (set before its rename): the outputs take theirs from it.
    if (processed) await placeOutputs(ctx, row.ingestId, processed.outputs, statSync(target).mode);
    await ctx.dirs.sync(dirname(target));
    return markStoredAndFinish(ctx, row, processed, confirm);
  }
  // Not in the warehouse (or in S3, where an upload is simply repeated or found done): from the source again.
  try {
    const opened = openSource(row.sourcePath, row);
    try {
      const src = await hashSource(ctx, opened, row.ingestId);
      if (src.sha256 !== row.sha256) throw new NotReadyError("content differs from the recorded hash");
      let processed: Processed | null;
      try {
        processed = await reprocess(ctx, row, `/proc/self/fd/${opened.fd}`, target);
      } catch (err) {
        if (!(err instanceof SluiceError)) throw err;
        await ctx.warehouse.removeTmp(row.ingestId);
        const info = { code: err.code, message: `${err.message} (${ERROR_CATALOG[err.code].hint})`, attempts: 1 };
        return await quarantineStage(ctx, row.ingestId, row.name, info);
      }
      if (processed?.result.rawDiscarded) return finishWithoutRaw(ctx, row.ingestId, processed.result, { confirm });
      await landStage(ctx, row.ingestId, row.sourcePath, src, target, processed);
      return finishStage(ctx, row.ingestId, { confirm });
    } finally {
      closeSync(opened.fd);
    }
  } catch (err) {
    if (!(err instanceof VanishedError || err instanceof NotReadyError)) throw err;
    if (ctx.objects && (await landedInS3(ctx, row, target))) {
      // Uploaded and verified, then the source was taken away before `stored`: the content is safe, but its
      // outputs cannot be made again without it.
      ctx.log.warn({
        event: "outputs_not_recreated",
        ingest_id: row.ingestId,
        path: row.sourcePath,
        reason: "the source left staging after its upload and before it was recorded",
      });
      return markStoredAndFinish(ctx, row, null, confirm);
    }
    // The recorded generation is gone from staging and never reached the warehouse: nothing to keep.
    return abandon(
      ctx,
      row,
      `${row.sourcePath} left staging (or changed) before it was stored; a changed file is ingested anew`,
    );
  }
}

async function landedLocally(
  ctx: IngestContext,
  row: FileRecord,
  target: string,
  confirm: (p: string) => Promise<boolean>,
): Promise<boolean> {
  const there = await ctx.warehouse.occupant(target);
  return (
    there !== null &&
    ((there.dev === row.device && there.ino === row.inode) || (there.size === row.size && (await confirm(target))))
  );
}

async function landedInS3(ctx: IngestContext, row: FileRecord, target: string): Promise<boolean> {
  const objects = ctx.objects as NonNullable<IngestContext["objects"]>;
  const key = objects.keyOf(target);
  const there = await s3Call(ctx, "head", key, () => objects.sink.head(key, { signal: ctx.signal }));
  return there !== null && there.sha256 === row.sha256 && there.size === row.size;
}

async function markStoredAndFinish(
  ctx: IngestContext,
  row: FileRecord,
  processed: Processed | null,
  confirm: (p: string) => Promise<boolean>,
): Promise<FileRecord> {
  const at = new Date();
  await retryUntilDone(
    "state: stored",
    () => ctx.store.markStored(row.ingestId, at.toISOString(), ctx.manifests.pathFor(at), processed?.result),
    ctx.log,
    ctx.signal,
  );
  return finishStage(ctx, row.ingestId, { confirm });
}

/** Runs the row's processor again (an archive's replay skips members already recorded); the caller places outputs. */
async function reprocess(
  ctx: IngestContext,
  row: FileRecord,
  inputPath: string,
  target: string,
): Promise<Processed | null> {
  return processWithRetry(ctx, {
    ingestId: row.ingestId,
    name: row.name,
    inputPath,
    target,
    sha256: row.sha256 as string,
    depth: 0,
    sourcePath: row.sourcePath,
    mtimeMs: row.mtimeMs,
  });
}

/** Nothing of this row reached the warehouse: it ends failed (vanished), its content claim released. */
async function abandon(ctx: IngestContext, row: FileRecord, message: string): Promise<FileRecord> {
  await ctx.warehouse.removeTmp(row.ingestId);
  // Outputs an earlier attempt placed before the crash go before the row ends failed (W5).
  await removeUnstoredOutputs(ctx, row.ingestId);
  await ctx.store.beginQuarantine(row.ingestId, { code: "SLUICE_ERR_VANISHED", message, attempts: row.attempts }, null);
  await ctx.store.finishFailed(row.ingestId);
  return (await ctx.store.get(row.ingestId)) as FileRecord;
}

/** Temp copies belong to in-flight files; after recovery none is in flight. */
async function clearTempArea(ctx: IngestContext): Promise<void> {
  const names = await readdir(ctx.warehouse.tmpDir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(join(ctx.warehouse.tmpDir, n), { recursive: true, force: true })));
}
