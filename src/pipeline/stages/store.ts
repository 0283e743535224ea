import { fstatSync, lstatSync, renameSync, type Stats } from "node:fs";
import { rm } from "node:fs/promises";
import { SluiceError } from "../../core/errors.js";
import type { ProcessingResult } from "../../core/processing.js";
import { sleep } from "../../core/retry.js";
import { crashPoint } from "../../durable/crash-points.js";
import { collisionName, lastSegment, siblingPath } from "../../warehouse/warehouse-paths.js";
import type { IngestContext } from "../context.js";
import { VanishedError } from "../outcomes.js";
import { retryUntilDone } from "../retry.js";
import { warehouseCall } from "../warehouse-calls.js";
import type { HashedSource } from "./read-source.js";

/**
 * Never overwrite: if something not recorded by sluice sits at the reserved
 * name, move the reservation to the content-tagged name (and fail if even
 * that is taken, which takes a foreign file with the same hash prefix).
 */
function sameInode(st: Stats | undefined, src: HashedSource): boolean {
  return st !== undefined && st.ino === src.identity.inode && st.dev === src.identity.device;
}

/** Returns a file moved into the warehouse by mistake to staging, never over another file. */
function putBack(target: string, sourcePath: string): void {
  const back = lstatSync(sourcePath, { throwIfNoEntry: false }) ? `${sourcePath}.returned-${Date.now()}` : sourcePath;
  renameSync(target, back);
}

export async function freeTarget(
  ctx: IngestContext,
  ingestId: string,
  reserved: string,
  sha256: string,
): Promise<string> {
  // An object or file holding these very bytes is an earlier attempt's landing (a replay after a crash, e.g. an
  // archive member copied in before `stored` was committed): the name is ours, and the rename replaces it with the
  // same bytes. Treating it as foreign would move this file to the collision name and leave that copy orphaned.
  const taken = (path: string) =>
    warehouseCall(ctx, "head", path, () => ctx.warehouse.heldByOther(path, sha256, { signal: ctx.signal }));
  if (!(await taken(reserved))) return reserved;
  const alt = siblingPath(reserved, collisionName(lastSegment(reserved), sha256));
  if (alt !== reserved && !(await taken(alt))) {
    await retryUntilDone("state: reassign path", () => ctx.store.reassignPath(ingestId, alt), ctx.log, ctx.signal);
    return alt;
  }
  throw new SluiceError("SLUICE_ERR_NAME_COLLISION", `foreign files occupy ${reserved} and ${alt}`);
}

/**
 * Puts the content in the warehouse (at a target freeTarget checked free).
 * Same filesystem: rename() the source in — the bytes do not move, and sluice
 * does not fsync bytes it did not write (their durability is the upstream
 * writer's, exactly as before the rename). Other filesystem: rename in the
 * temp copy sluice wrote and fdatasync'ed while hashing. Either way the
 * directory is fsynced before `stored` is committed, so the name survives.
 */
export async function storeStage(
  ctx: IngestContext,
  ingestId: string,
  sourcePath: string,
  src: HashedSource,
  target: string,
  /** What processing produced: committed with `stored`, so the record and the outputs appear together. */
  processing?: ProcessingResult,
): Promise<{ outcome: "new" | "duplicate"; ingestedAt: string; manifestPath: string }> {
  const dir = ctx.warehouse.directory;
  if (!dir) throw new Error("internal: storeStage renames into a directory warehouse");
  const from = src.tmpPath ?? sourcePath;
  if (!src.tmpPath) {
    // rename() moves whatever has the name now: make sure it is still the inode we hashed.
    if (!sameInode(lstatSync(sourcePath, { throwIfNoEntry: false }), src)) {
      throw new VanishedError(`${sourcePath} was replaced before it was stored; the new file is ingested on its own`);
    }
  }
  await retryUntilDone(
    "warehouse: move in",
    async () => {
      try {
        // Owner and mode are final before the name appears in the warehouse (see WarehouseDirectory.seal).
        dir.seal(src);
        await dir.moveIn(from, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        // A previous attempt may have renamed it before failing on the directory fsync.
        const there = await dir.occupant(target);
        if (there && (src.tmpPath || there.ino === src.identity.inode)) return;
        throw new VanishedError(`${sourcePath} left staging before it was stored`);
      }
    },
    ctx.log,
    ctx.signal,
  );
  if (!src.tmpPath && !sameInode(lstatSync(target, { throwIfNoEntry: false }), src)) {
    throw landedWrongFile(target, sourcePath);
  }
  crashPoint("after-store");
  return commitStored(ctx, ingestId, src, target, processing);
}

/**
 * The source was replaced in the microseconds between the check and the rename: puts the newcomer back,
 * unstored, and returns the error that fails this file.
 */
export function landedWrongFile(target: string, sourcePath: string): VanishedError {
  putBack(target, sourcePath);
  return new VanishedError(`${sourcePath} was replaced while it was stored; the new file is ingested on its own`);
}

/** Is the name at `path` (lstat) still the inode that was hashed? */
export function stillOurs(path: string, src: HashedSource): boolean {
  return ourInodeAt(path, src) !== null;
}

/** The lstat of `path` when it is still the inode that was hashed (its size and mtime tell a late writer), else null. */
export function ourInodeAt(path: string, src: HashedSource): Stats | null {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && sameInode(st, src) ? st : null;
}

/** Once the content is in place (and its directory fsynced): checks it is what was hashed, then commits `stored`. */
export async function commitStored(
  ctx: IngestContext,
  ingestId: string,
  src: HashedSource,
  target: string,
  processing?: ProcessingResult,
): Promise<{ outcome: "new" | "duplicate"; ingestedAt: string; manifestPath: string }> {
  const at = new Date();
  const ingestedAt = at.toISOString();
  const manifestPath = ctx.manifests.pathFor(at);
  if ((await verifyLanded(ctx, ingestId, src, target)) === "duplicate") {
    return { outcome: "duplicate", ingestedAt, manifestPath };
  }
  await retryUntilDone(
    "state: stored",
    () => ctx.store.markStored(ingestId, ingestedAt, manifestPath, processing),
    ctx.log,
    ctx.signal,
  );
  crashPoint("after-stored");
  return { outcome: "new", ingestedAt, manifestPath };
}

/**
 * What landed must be what was hashed. A same-filesystem rename moves the
 * inode we still hold open, so a writer that kept writing after the file was
 * judged ready shows up in fstat; then the landed bytes are hashed again and
 * the record corrected (never a stale hash). Returns "duplicate" if the new
 * bytes turn out to be stored already, in which case the landed copy is removed.
 */
async function verifyLanded(
  ctx: IngestContext,
  ingestId: string,
  src: HashedSource,
  target: string,
): Promise<"new" | "duplicate"> {
  if (src.tmpPath) return "new"; // the temp copy was hashed as it was written: it is what was hashed
  for (;;) {
    const now = fstatSync(src.fd);
    if (now.size === src.identity.size && now.mtimeMs === src.identity.mtimeMs) return "new";
    const rehashed = await ctx.hasher.hash(src.fd, now.size);
    const after = fstatSync(src.fd);
    if (after.size !== now.size || after.mtimeMs !== now.mtimeMs || rehashed.bytes !== now.size) continue;
    ctx.log.warn({
      event: "file_changed_after_ready",
      ingest_id: ingestId,
      old_sha256: src.sha256,
      sha256: rehashed.sha256,
    });
    src.sha256 = rehashed.sha256;
    src.identity = { ...src.identity, size: now.size, mtimeMs: now.mtimeMs };
    for (let round = 1; ; round++) {
      const outcome = await retryUntilDone(
        "state: rehash",
        () => {
          const at = new Date();
          return ctx.store.rehash(
            ingestId,
            rehashed.sha256,
            { size: now.size, mtimeMs: now.mtimeMs },
            { ingestedAt: at.toISOString(), manifestPath: ctx.manifests.pathFor(at) },
          );
        },
        ctx.log,
        ctx.signal,
      );
      if (outcome === "new") return "new";
      if (outcome === "duplicate") {
        await rm(target, { force: true });
        return "duplicate";
      }
      await sleep(Math.min(20 * round, 500), ctx.signal);
    }
  }
}
