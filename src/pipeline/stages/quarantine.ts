import { lstat } from "node:fs/promises";
import type { FileRecord } from "../../core/file-record.js";
import { crashPoint, faultPoint } from "../../durable/crash-points.js";
import type { ErrorInfo } from "../../store/state-store.js";
import type { IngestContext } from "../context.js";
import { removeOutputs } from "../processing/outputs.js";
import { retryUntilDone } from "../retry.js";

/**
 * Sends a file that cannot be ingested to `ERRORS/<UTC ts>_<name>` with its
 * reason beside it. The state (with the reserved error path) is committed
 * first, so a crash mid-way is finished by recovery, never forgotten.
 */
export async function quarantineStage(
  ctx: IngestContext,
  ingestId: string,
  name: string,
  error: ErrorInfo,
): Promise<FileRecord> {
  await removeUnstoredOutputs(ctx, ingestId);
  const errorPath = await ctx.errorsDir.reservePath(name, new Date(), ingestId);
  await retryUntilDone(
    "state: quarantine",
    async () => {
      faultPoint("quarantine", name);
      return ctx.store.beginQuarantine(ingestId, error, errorPath);
    },
    ctx.log,
    ctx.signal,
  );
  crashPoint("after-quarantine-begin");
  return completeQuarantine(ctx, ingestId);
}

/**
 * Before a file that was never stored ends failed or vanished: removes the outputs an attempt placed beside the
 * name it reserved (W5: its Parquet stayed while the row said "nothing was stored"). Runs before the commit
 * that ends the row, which also clears the row's warehouse path: a crash in between leaves the row as it was,
 * and recovery comes back here. A duplicate's path is its original's, and a raw file at the path is not this
 * file's to judge: both are left untouched.
 */
export async function removeUnstoredOutputs(ctx: IngestContext, ingestId: string): Promise<void> {
  const rec = await ctx.store.get(ingestId);
  if (!rec?.warehousePath || !rec.sha256 || rec.duplicateOf) return;
  // In an object store nothing sits at a path before its put; removeOutputs has nothing to do there either.
  const dir = ctx.warehouse.directory;
  const occupied = await (dir ? dir.occupant(rec.warehousePath) : Promise.resolve(null)).catch((err: unknown) => {
    // A path no file can have (a directory on it is a file, too long: BUGS 1, 2) has no outputs beside it either.
    const code = (err as { code?: string }).code;
    if (code === "SLUICE_ERR_NAME_COLLISION" || code === "SLUICE_ERR_NAME_TOO_LONG") return "impossible" as const;
    throw err;
  });
  if (occupied) return;
  const [target, sha256] = [rec.warehousePath, rec.sha256];
  await retryUntilDone("warehouse: remove outputs", () => removeOutputs(ctx, target, sha256), ctx.log, ctx.signal);
  crashPoint("after-outputs-removed");
}

export async function completeQuarantine(ctx: IngestContext, ingestId: string): Promise<FileRecord> {
  const rec = await ctx.store.get(ingestId);
  if (!rec) throw new Error(`internal: no record ${ingestId}`);
  const errorPath = rec.errorPath;
  if (errorPath) {
    await retryUntilDone(
      "errors: move in",
      async () => {
        await ctx.errorsDir.removeTemps(errorPath);
        await ctx.errorsDir.writeReason(errorPath, {
          version: 1,
          ingest_id: rec.ingestId,
          path: rec.sourcePath,
          code: rec.errorCode ?? "SLUICE_ERR_INTERNAL",
          reason: rec.errorMessage ?? "",
          attempts: rec.attempts,
          failed_at: rec.updatedAt,
          ...(rec.sha256 ? { sha256: rec.sha256 } : {}),
        });
        if (!(await ctx.errorsDir.exists(errorPath))) {
          // An archive member has no staging file: its bytes, if kept, are in the warehouse temp area.
          const member = rec.archiveIngestId !== null;
          const from = member ? ctx.work.tmpPathFor(rec.ingestId) : rec.sourcePath;
          const st = await lstat(from).catch(() => null);
          if (st?.isFile() && (member || (st.ino === rec.inode && st.dev === rec.device))) {
            await ctx.errorsDir.moveIn(from, st.dev, errorPath);
          }
        }
        const sidecar = rec.sidecarPath ? await lstat(rec.sidecarPath).catch(() => null) : null;
        if (rec.sidecarPath && sidecar?.isFile() && !(await ctx.errorsDir.exists(rec.sourcePath))) {
          await ctx.errorsDir.moveIn(rec.sidecarPath, sidecar.dev, `${errorPath}.ok`);
        }
      },
      ctx.log,
      ctx.signal,
    );
    crashPoint("after-quarantine-move");
  }
  await ctx.work.removeTmp(ingestId);
  await retryUntilDone("state: failed", () => ctx.store.finishFailed(ingestId), ctx.log, ctx.signal);
  return { ...rec, state: "failed" };
}
