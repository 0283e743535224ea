import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { FileRecord } from "../core/file-record.js";
import { ManifestWriter } from "../manifest/manifest-writer.js";
import { advance } from "./advance.js";
import type { IngestContext } from "./context.js";
import { emitFinished } from "./file-events.js";
import { newOwner, recoverReprocesses, reprocessManifestName } from "./reprocess/reprocess-finish.js";

/** Rows recovered together: their shared steps are one commit each. */
const RECOVERY_SLICE = 128;

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
  await recoverCutOffReprocesses(ctx);
  return rows.length;
}

/** Reprocesses a kill cut off (issue 21) are finished or undone at start too, not only by the next reprocess. */
async function recoverCutOffReprocesses(ctx: IngestContext): Promise<void> {
  const manifests = new ManifestWriter(ctx.config.manifests, ctx.dirs, reprocessManifestName(ctx));
  try {
    await recoverReprocesses({ ctx, manifests, owner: newOwner() });
  } finally {
    await manifests.close();
  }
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
      const [rec] = await advance(ctx, [row], written);
      if (rec) emitFinished(ctx, rec, started, { recovered: true, adopted: true });
    });
    // The path is being worked by this node's pipeline right now: tried again on the next round.
    if (!ran) deferred.push(row);
  }
  return deferred;
}

async function recoverRows(ctx: IngestContext, rows: FileRecord[], extra: Record<string, unknown>): Promise<void> {
  const written = await manifestLinesPresent(ctx, rows);
  // A slice at a time: each state's step takes the slice's rows of that state together (one commit per step).
  for (let i = 0; i < rows.length; i += RECOVERY_SLICE) {
    const slice = rows.slice(i, i + RECOVERY_SLICE);
    const started = performance.now();
    const recs = await advance(ctx, slice, written);
    for (const rec of recs) if (rec) emitFinished(ctx, rec, started, extra);
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

/** Temp copies belong to in-flight files; after recovery none is in flight. */
async function clearTempArea(ctx: IngestContext): Promise<void> {
  const names = await readdir(ctx.work.tmpDir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(join(ctx.work.tmpDir, n), { recursive: true, force: true })));
}
