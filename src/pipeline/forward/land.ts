import { lstatSync, renameSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { crashPoint, pausePoint } from "../../durable/crash-points.js";
import type { IngestContext } from "../context.js";
import { emitFinished } from "../file-events.js";
import { NotReadyError } from "../outcomes.js";
import type { MemberIngest } from "../processing/archive-members.js";
import { processorFor, processWithRetry } from "../processing/process-file.js";
import { retryUntilDone } from "../retry.js";
import { finishWithoutRaw } from "../stages/finish.js";
import { landStage } from "../stages/land.js";
import { commitStored, freeTarget, landedWrongFile, ourInodeAt, stillOurs } from "../stages/store.js";
import { type Item, provenance, recordOf, srcOf } from "./item.js";

/** Where the land step sends a file that does not go on with its batch. */
export interface Routes {
  /** It failed: handleFailure judges it. */
  fail: (it: Item, err: unknown) => void;
  /** It left the common case: `work` runs for it alone, then its tail. */
  alone: (it: Item, work: () => Promise<void>) => void;
  /** How an archive's members go forward (the driver's ingestMember, passed in: no import cycle). */
  members: MemberIngest;
}

/**
 * The land step, for decided items: a duplicate only drops its temp copy; new content goes into the warehouse
 * and `stored` is committed. Content that needs only a local move (no processor, local warehouse) takes the
 * move together with the others: one pass of rename(2), one fsync per directory, one group commit of `stored`.
 * Anything else, and any file that leaves that common case (a name taken, a source replaced, a failed rename, a
 * source written to after it was judged ready), lands on its own through the careful path below (`landOne`):
 * free the name, process, land with retries. Returns the items ready for the tail.
 */
export async function landStep(ctx: IngestContext, items: Item[], routes: Routes): Promise<Item[]> {
  const paused = pausePoint("before-land");
  if (paused) await paused;
  const { fail, members } = routes;
  const next: Item[] = [];
  const plain: Item[] = [];
  const careful: Item[] = [];
  const dropping: Promise<unknown>[] = [];
  for (const it of items) {
    const d = it.decision;
    if (!d) throw new Error(`internal: ${it.file.ingestId} reached the land step undecided`);
    if (d.kind === "duplicate") {
      const src = srcOf(it);
      it.known = recordOf(it.file, src, d);
      if (!src.tmpPath) next.push(it);
      else
        dropping.push(
          rm(src.tmpPath, { force: true }).then(
            () => next.push(it),
            (err: unknown) => fail(it, err),
          ),
        );
    } else if (ctx.warehouse.directory && processorFor(ctx, it.c.name, it.depth) === null) plain.push(it);
    else careful.push(it);
  }
  const landing = Promise.all(
    careful.map(async (it) => {
      try {
        await landOne(ctx, it, members);
        if (it.outcome === null) next.push(it);
      } catch (err) {
        fail(it, err);
      }
    }),
  );
  const legs = plain.map((it) => it.leg);
  try {
    next.push(...(await movePlain(ctx, plain, routes)));
  } catch (err) {
    plain.forEach((it, k) => {
      if (it.outcome === null && it.leg === legs[k]) fail(it, err);
    });
  }
  await Promise.all([landing, ...dropping]);
  return next;
}

/**
 * The careful landing of one item: free the reserved name (or move to the collision name), run the processor
 * from the descriptor that was hashed before anything moves (a file that cannot be processed is quarantined
 * whole, and the outputs land with the raw file in one step), then land and commit `stored`.
 */
export async function landOne(ctx: IngestContext, it: Item, members: MemberIngest): Promise<void> {
  const src = srcOf(it);
  const d = it.decision;
  if (d?.kind !== "new") throw new Error(`internal: ${it.file.ingestId} lands without a new decision`);
  const { ingestId } = it.file;
  const t0 = performance.now();
  it.target = await freeTarget(ctx, ingestId, d.warehousePath, src.sha256);
  const processed = await processWithRetry(ctx, {
    ingestId,
    name: it.c.name,
    inputPath: `/proc/self/fd/${src.fd}`,
    target: it.target,
    sha256: src.sha256,
    depth: it.depth,
    sourcePath: it.c.path,
    mtimeMs: it.file.mtimeMs,
    members,
  });
  ctx.metrics.observeStage("process", (performance.now() - t0) / 1000);
  it.stored = true;
  it.processed = processed;
  if (processed?.result.rawDiscarded) {
    const rec = await finishWithoutRaw(ctx, ingestId, processed.result, { sourceMoved: it.member });
    emitFinished(ctx, rec, it.startedAt, provenance(it));
    it.outcome = "ingested";
    return;
  }
  let s: Awaited<ReturnType<typeof landStage>>;
  try {
    s = await landStage(ctx, ingestId, it.c.path, src, it.target, processed);
  } catch (err) {
    // An S3 upload that found the source changing stored nothing: unless members of it were stored (an
    // archive), the file is simply not ready yet and is looked at again.
    if (!ctx.warehouse.directory && err instanceof NotReadyError && processed?.result.record.processor !== "archive") {
      it.stored = false;
    }
    throw err;
  }
  // After a rehash into a duplicate the row changed under us: it is read back at the tail.
  it.known =
    s.outcome === "new"
      ? {
          ...recordOf(it.file, src, { warehousePath: it.target, duplicateOf: null, ...s }),
          processing: processed?.result.record ?? null,
        }
      : ingestId;
}

/**
 * The common case, for many files at once: the reserved name is free, the source is still the inode hashed,
 * rename(2) succeeds. Then one fsync per warehouse directory, and `stored` for all in one group commit.
 */
async function movePlain(ctx: IngestContext, items: Item[], routes: Routes): Promise<Item[]> {
  const dir = ctx.warehouse.directory;
  if (items.length === 0) return [];
  if (!dir) throw new Error("internal: movePlain renames into a directory warehouse");
  const { fail, alone, members } = routes;
  const { log, signal } = ctx;
  const dirs = new Set(items.map((it) => dirname((it.decision as { warehousePath: string }).warehousePath)));
  // A directory that cannot be made (a file holds its name, a full disk) sends its files the careful way, which
  // finds out whether that is the name's fault (they fail alone) or the machine's (waited out).
  const unmade = new Set<string>();
  await Promise.all(
    [...dirs].map((d) =>
      dir.ensureDir(d).catch(() => {
        unmade.add(d);
      }),
    ),
  );
  const carefully = (it: Item) => alone(it, () => landOne(ctx, it, members));
  let landed: Item[] = [];
  const written = new Set<Item>();
  for (const it of items) {
    const src = srcOf(it);
    const target = (it.decision as { warehousePath: string }).warehousePath;
    const moved = !src.tmpPath;
    try {
      if (
        unmade.has(dirname(target)) ||
        lstatSync(target, { throwIfNoEntry: false }) !== undefined ||
        (moved && !stillOurs(it.c.path, src))
      ) {
        carefully(it);
        continue;
      }
      try {
        dir.seal(src);
        renameSync(src.tmpPath ?? it.c.path, target);
      } catch {
        carefully(it);
        continue;
      }
      it.stored = true;
      it.target = target;
      if (moved) {
        // One lstat of the landed name says both whether it is the inode hashed and whether a writer that kept
        // writing after the file was judged ready changed it (its size or mtime): that file is rehashed on its own.
        const landedAs = ourInodeAt(target, src);
        if (landedAs === null) {
          fail(it, landedWrongFile(target, it.c.path));
          continue;
        }
        if (landedAs.size !== src.identity.size || landedAs.mtimeMs !== src.identity.mtimeMs) written.add(it);
      }
      landed.push(it);
    } catch (err) {
      // An lstat that failed: before the rename the careful path meets it again; after it the row is left for
      // recovery (handleFailure, as the item is stored).
      if (it.stored) fail(it, err);
      else carefully(it);
    }
  }
  const synced = new Set(landed.map((it) => dirname(it.target)));
  await Promise.all([...synced].map((d) => retryUntilDone("warehouse: move in", () => ctx.dirs.sync(d), log, signal)));
  crashPoint("after-store", landed.length);
  landed = landed.filter((it) => {
    if (!written.has(it)) return true;
    const src = srcOf(it);
    alone(it, async () => {
      const s = await commitStored(ctx, it.file.ingestId, src, it.target);
      it.known =
        s.outcome === "new"
          ? recordOf(it.file, src, { warehousePath: it.target, duplicateOf: null, ...s })
          : it.file.ingestId;
    });
    return false;
  });
  const at = new Date();
  const storedAt = { ingestedAt: at.toISOString(), manifestPath: ctx.manifests.pathFor(at) };
  await Promise.all(
    landed.map((it) =>
      retryUntilDone(
        "state: stored",
        () => ctx.store.markStored(it.file.ingestId, storedAt.ingestedAt, storedAt.manifestPath),
        log,
        signal,
      ),
    ),
  );
  crashPoint("after-stored", landed.length);
  for (const it of landed) {
    it.known = recordOf(it.file, srcOf(it), { warehousePath: it.target, duplicateOf: null, ...storedAt });
  }
  return landed;
}
