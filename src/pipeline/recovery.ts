import { closeSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { FileRecord } from "../core/file-record.js";
import { hashPath } from "../hashing/hash-path.js";
import type { IngestContext } from "./context.js";
import { emitFinished } from "./file-events.js";
import { NotReadyError, VanishedError } from "./outcomes.js";
import { retryUntilDone } from "./retry.js";
import { finishStage } from "./stages/finish.js";
import { completeQuarantine } from "./stages/quarantine.js";
import { hashSource, openSource } from "./stages/read-source.js";
import { storeStage } from "./stages/store.js";

/**
 * Finishes what a crash interrupted, before any new file is looked at. Each
 * non-terminal row re-runs the step its state stands for; the side effects
 * are idempotent, and the disk is checked before each one (is the content
 * already in the warehouse? is the manifest line already written?) so
 * nothing is done twice.
 */
export async function recover(ctx: IngestContext): Promise<number> {
  const rows = ctx.store.activeRecords();
  if (rows.length > 0) {
    ctx.log.info({ event: "recovery_started", files: rows.length, by_state: countStates(rows) });
    const written = await manifestLinesPresent(ctx, rows);
    for (const row of rows) {
      const started = performance.now();
      const rec = await recoverOne(ctx, row, written.has(row.ingestId));
      if (rec) emitFinished(ctx, rec, started, { recovered: true });
    }
  }
  await clearTempArea(ctx);
  if (rows.length > 0) ctx.log.info({ event: "recovery_finished", files: rows.length });
  return rows.length;
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

/** The name was reserved; did the move happen before the crash? */
async function recoverHashed(
  ctx: IngestContext,
  row: FileRecord,
  confirm: (p: string) => Promise<boolean>,
): Promise<FileRecord> {
  const target = row.warehousePath as string;
  const there = await ctx.warehouse.occupant(target);
  const landed =
    there !== null &&
    ((there.dev === row.device && there.ino === row.inode) || (there.size === row.size && (await confirm(target))));
  if (landed) {
    await ctx.dirs.sync(dirname(target));
    const at = new Date();
    await retryUntilDone(
      "state: stored",
      () => ctx.store.markStored(row.ingestId, at.toISOString(), ctx.manifests.pathFor(at)),
      ctx.log,
      ctx.signal,
    );
    return finishStage(ctx, row.ingestId, { confirm });
  }
  try {
    const opened = openSource(row.sourcePath, row);
    try {
      const src = await hashSource(ctx, opened, row.ingestId);
      if (src.sha256 !== row.sha256) throw new NotReadyError("content differs from the recorded hash");
      await storeStage(ctx, row.ingestId, row.sourcePath, src, target);
      return finishStage(ctx, row.ingestId, { confirm });
    } finally {
      closeSync(opened.fd);
    }
  } catch (err) {
    if (!(err instanceof VanishedError || err instanceof NotReadyError)) throw err;
    // The recorded generation is gone from staging and never reached the warehouse: nothing to keep.
    await ctx.warehouse.removeTmp(row.ingestId);
    const message = `${row.sourcePath} left staging (or changed) before it was stored; a changed file is ingested anew`;
    await ctx.store.beginQuarantine(
      row.ingestId,
      { code: "SLUICE_ERR_VANISHED", message, attempts: row.attempts },
      null,
    );
    await ctx.store.finishFailed(row.ingestId);
    return ctx.store.get(row.ingestId) as FileRecord;
  }
}

/** Temp copies belong to in-flight files; after recovery none is in flight. */
async function clearTempArea(ctx: IngestContext): Promise<void> {
  const names = await readdir(ctx.warehouse.tmpDir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(join(ctx.warehouse.tmpDir, n), { force: true })));
}
