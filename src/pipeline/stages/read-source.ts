import { closeSync, constants, fstatSync, openSync, rmSync } from "node:fs";
import { type FileIdentity, identityOf, sameIdentity } from "../../core/file-record.js";
import type { IngestContext } from "../context.js";
import { NotReadyError, SinkWriteError, SourceReadError, VanishedError } from "../outcomes.js";

const SINK_SIDE_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EEXIST"]);

export interface OpenedSource {
  /** A raw fd: it follows the inode through the rename into the warehouse. */
  fd: number;
  identity: FileIdentity;
  /** Who owns it, its permission bits and how many names it has: they decide rename or copy (and the stored mode). */
  owner: { uid: number; mode: number; nlink: number };
}

export interface HashedSource extends OpenedSource {
  sha256: string;
  /** Set when the bytes were copied to the warehouse's temp area in the same pass. */
  tmpPath: string | null;
}

/**
 * Opens a staging file without following symlinks and without blocking on a
 * FIFO, and checks it is still the generation that was judged ready. open and
 * fstat are synchronous on purpose: they cost microseconds, less than a trip
 * through libuv's thread pool.
 */
export function openSource(path: string, expected: FileIdentity): OpenedSource {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new VanishedError(`${path} left staging before it was read`);
    if (code === "ELOOP") throw new NotReadyError("replaced by a symlink");
    throw new SourceReadError(`cannot open ${path}: ${(err as Error).message}`, code, { cause: err });
  }
  const st = fstatSync(fd);
  const identity = identityOf(st);
  if (!st.isFile() || !sameIdentity(identity, expected)) {
    closeSync(fd);
    throw new NotReadyError(st.isFile() ? "changed since it was judged ready" : "no longer a regular file");
  }
  return { fd, identity, owner: { uid: st.uid, mode: st.mode & 0o7777, nlink: st.nlink } };
}

/**
 * Hashes the open source, copying it into the warehouse temp area in the same
 * pass when the warehouse is on another filesystem. Re-stats afterwards: a
 * file that grew or was touched while we read is not ready, and its hash is
 * thrown away rather than recorded stale.
 */
export async function hashSource(ctx: IngestContext, src: OpenedSource, ingestId: string): Promise<HashedSource> {
  const copy = ctx.warehouse.needsCopy(src.identity.device, src.owner);
  const tmpPath = copy ? ctx.work.tmpPathFor(ingestId) : null;
  let result: { sha256: string; bytes: number };
  try {
    if (tmpPath) {
      rmSync(tmpPath, { force: true });
      result = await ctx.hasher.copyAndHash(src.fd, src.identity.size, tmpPath);
    } else {
      result = await ctx.hasher.hash(src.fd, src.identity.size);
    }
  } catch (err) {
    if (tmpPath) rmSync(tmpPath, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (tmpPath && code && SINK_SIDE_ERRNOS.has(code)) {
      throw new SinkWriteError(`cannot write the warehouse temp copy: ${(err as Error).message}`, code, { cause: err });
    }
    throw new SourceReadError(`cannot read: ${(err as Error).message}`, code, { cause: err });
  }
  const after = fstatSync(src.fd);
  if (
    result.bytes !== src.identity.size ||
    after.size !== src.identity.size ||
    after.mtimeMs !== src.identity.mtimeMs
  ) {
    if (tmpPath) rmSync(tmpPath, { force: true });
    throw new NotReadyError("changed while being hashed");
  }
  return { ...src, sha256: result.sha256, tmpPath };
}
