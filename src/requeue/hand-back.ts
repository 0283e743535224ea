import { constants } from "node:fs";
import { copyFile, link, lstat, open, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { crashPoint } from "../durable/crash-points.js";
import { type DirSyncer, mkdirDurable } from "../durable/fsync.js";

/** Where a quarantined copy goes back to, and where it is now. */
export interface HandBackPaths {
  /** The copy in the error directory (`ERRORS/<ts>_<name>`); its `.error.json` and `.ok` sit beside it. */
  errorCopy: string;
  /** Its place in staging: `INPUT/<name>`. */
  staging: string;
}

/** What the move found: the copy is in staging now (or was already), or it could not be put there. */
export type HandBackResult = "in-staging" | "name-taken" | "copy-missing";

const exists = (p: string) => lstat(p).catch(() => null);

/**
 * Moves a quarantined copy back into staging under its name, never over another file, with the bytes in exactly
 * one place at every moment a kill can land (or, for an instant, in two names of one inode, or two identical copies
 * of which a rerun removes the error one). Idempotent: rerun after a kill at any point, it finishes the move.
 *
 * - same filesystem: `link()` (fails rather than replace a file that took the name) then `unlink()` of the error
 *   copy. A kill in between leaves two names of one inode: the rerun sees the same inode and unlinks the copy.
 * - another filesystem: copy to `.<name>.requeue.tmp` beside the target (a hidden `*.tmp` name the watcher
 *   ignores), fsync, `link()` into the name, unlink the temp name, fsync the directory, then unlink the error copy.
 *   A kill after the link leaves two copies with the same bytes: the rerun compares them and unlinks the copy.
 *
 * `linked()` says whether the pipeline already linked a new attempt (it then consumed the staging copy: an error
 * copy still there is the leftover of a kill before its unlink). Asked after the filesystem was looked at, so a file
 * ingested in between is seen as linked, never as missing.
 */
export async function handBack(
  p: HandBackPaths,
  dirs: DirSyncer,
  linked: () => Promise<boolean>,
): Promise<HandBackResult> {
  await mkdirDurable(dirname(p.staging), dirs);
  for (let round = 0; round < 5; round++) {
    const [src, dst] = [await exists(p.errorCopy), await exists(p.staging)];
    if (!src) {
      if (dst || (await linked())) return "in-staging";
      return "copy-missing";
    }
    if (dst) {
      const ours = (src.dev === dst.dev && src.ino === dst.ino) || (await sameBytes(p.errorCopy, p.staging));
      if (!ours) return (await linked()) ? await dropCopy(p, dirs) : "name-taken";
      return dropCopy(p, dirs);
    }
    if (await linked()) return dropCopy(p, dirs);
    // What survives a kill here: the error copy alone (nothing moved yet); the rerun starts over.
    const placed = await place(p, src.dev, dirs);
    if (placed === "taken") continue; // a file took the name meanwhile: looked at again
    crashPoint("after-requeue-link");
    return dropCopy(p, dirs);
  }
  return "name-taken";
}

/** The bytes are in staging: the error copy goes (and the directory entry is made durable). */
async function dropCopy(p: HandBackPaths, dirs: DirSyncer): Promise<HandBackResult> {
  await rm(p.errorCopy, { force: true });
  await dirs.sync(dirname(p.errorCopy));
  return "in-staging";
}

async function place(p: HandBackPaths, srcDev: number, dirs: DirSyncer): Promise<"placed" | "taken"> {
  const stagingDev = (await lstat(dirname(p.staging))).dev;
  try {
    if (srcDev === stagingDev) {
      await link(p.errorCopy, p.staging);
      await dirs.sync(dirname(p.staging));
      return "placed";
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return "taken";
    // A filesystem without hard links: copy, as across filesystems.
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV" && code !== "EMLINK") throw err;
  }
  const tmp = join(dirname(p.staging), `.${basename(p.staging)}.requeue.tmp`);
  await copyFile(p.errorCopy, tmp);
  const fh = await open(tmp, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  crashPoint("after-requeue-copy");
  try {
    await link(tmp, p.staging);
  } catch (err) {
    await rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return "taken";
    throw err;
  }
  await unlink(tmp);
  await dirs.sync(dirname(p.staging));
  return "placed";
}

/** Moves the `.ok` sidecar back beside the file (sidecar mode), after the file: it is what makes the file ready. */
export async function handBackSidecar(p: HandBackPaths, dirs: DirSyncer): Promise<void> {
  const from = `${p.errorCopy}.ok`;
  const st = await exists(from);
  if (!st?.isFile()) return;
  const to = `${p.staging}.ok`;
  if (await exists(to)) {
    await rm(from, { force: true });
  } else if (st.dev === (await lstat(dirname(p.staging))).dev) {
    await rename(from, to);
  } else {
    await copyFile(from, `${to}.requeue.tmp`, constants.COPYFILE_FICLONE);
    await rename(`${to}.requeue.tmp`, to);
    await rm(from, { force: true });
  }
  await dirs.sync(dirname(p.staging));
  await dirs.sync(dirname(p.errorCopy));
}

/** Removes the `.error.json` beside the error copy: only once the copy is back in staging. */
export async function dropReason(p: HandBackPaths, dirs: DirSyncer): Promise<void> {
  await rm(`${p.errorCopy}.error.json`, { force: true });
  await dirs.sync(dirname(p.errorCopy));
}

/** Whether two files hold the same bytes (read side by side; a rare path: a rerun after a kill mid-copy). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = [await open(a, "r"), await open(b, "r")];
  try {
    const [sa, sb] = [await fa.stat(), await fb.stat()];
    if (sa.size !== sb.size) return false;
    const [ba, bb] = [Buffer.alloc(1 << 16), Buffer.alloc(1 << 16)];
    for (let pos = 0; pos < sa.size; ) {
      const [ra, rb] = [await fa.read(ba, 0, ba.length, pos), await fb.read(bb, 0, bb.length, pos)];
      if (ra.bytesRead !== rb.bytesRead || ra.bytesRead === 0) return ra.bytesRead === rb.bytesRead;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      pos += ra.bytesRead;
    }
    return true;
  } finally {
    await fa.close();
    await fb.close();
  }
}
