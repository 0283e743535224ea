import { closeSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { SluiceError, withHint } from "../../core/errors.js";
import type { FileRecord } from "../../core/file-record.js";
import type { WarehouseDirectory } from "../../warehouse/warehouse.js";
import type { IngestContext } from "../context.js";
import { ingestMember } from "../forward/driver.js";
import { NotReadyError, VanishedError } from "../outcomes.js";
import { placeOutputs } from "../processing/outputs.js";
import { type Processed, processWithRetry } from "../processing/process-file.js";
import { retryUntilDone } from "../retry.js";
import { warehouseCall } from "../warehouse-calls.js";
import { finishStage, finishWithoutRaw } from "./finish.js";
import { landStage } from "./land.js";
import { quarantineStage, removeUnstoredOutputs } from "./quarantine.js";
import { hashSource, openSource } from "./read-source.js";

/*
 * The steps for a record at rest in `hashed` (its content claimed and its name reserved, then a crash or a dead
 * node): find out whether the content landed, and finish from there. Used by the state table (advance.ts).
 */

/** The name was reserved; did the content land before the crash? */
export async function recoverHashed(
  ctx: IngestContext,
  row: FileRecord,
  confirm: (p: string) => Promise<boolean>,
): Promise<FileRecord> {
  const target = row.warehousePath as string;
  // Only a directory warehouse holds a stored copy that can be read in place (and processed again).
  if (ctx.warehouse.directory && (await landedLocally(ctx.warehouse.directory, row, target, confirm))) {
    // The raw file is in place but `stored` (and the processing result) was not committed: process the
    // stored copy again, which rewrites the same outputs.
    const processed = await reprocess(ctx, row, target, target);
    // The stored copy already has its final mode (set before its rename): the outputs take theirs from it.
    if (processed) await placeOutputs(ctx, row.ingestId, processed.outputs, statSync(target).mode);
    await ctx.dirs.sync(dirname(target));
    return markStoredAndFinish(ctx, row, processed, confirm);
  }
  // Not in the warehouse (or in an object store, where a put is simply repeated or found done): from the source again.
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
        await ctx.work.removeTmp(row.ingestId);
        const info = { code: err.code, message: withHint(err.code, err.message), attempts: 1 };
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
    if (!ctx.warehouse.directory && (await landedRemotely(ctx, row, target))) {
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
  dir: WarehouseDirectory,
  row: FileRecord,
  target: string,
  confirm: (p: string) => Promise<boolean>,
): Promise<boolean> {
  const there = await dir.occupant(target);
  return (
    there !== null &&
    ((there.dev === row.device && there.ino === row.inode) || (there.size === row.size && (await confirm(target))))
  );
}

/** Is the object at `target` the recorded content (its stored SHA-256 and size)? */
async function landedRemotely(ctx: IngestContext, row: FileRecord, target: string): Promise<boolean> {
  const there = await warehouseCall(ctx, "head", target, () => ctx.warehouse.head(target, { signal: ctx.signal }));
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
    members: ingestMember,
  });
}

/** Nothing of this row reached the warehouse: it ends failed (vanished), its content claim released. */
export async function abandon(ctx: IngestContext, row: FileRecord, message: string): Promise<FileRecord> {
  await ctx.work.removeTmp(row.ingestId);
  // Outputs an earlier attempt placed before the crash go before the row ends failed (W5).
  await removeUnstoredOutputs(ctx, row.ingestId);
  await ctx.store.beginQuarantine(row.ingestId, { code: "SLUICE_ERR_VANISHED", message, attempts: row.attempts }, null);
  await ctx.store.finishFailed(row.ingestId);
  return (await ctx.store.get(row.ingestId)) as FileRecord;
}
