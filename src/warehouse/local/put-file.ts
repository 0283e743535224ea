import { createHash, randomUUID } from "node:crypto";
import { read } from "node:fs";
import { chmod, type FileHandle, link, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { IntegrityError, type PutOptions, type PutSource } from "../warehouse.js";
import type { LocalWarehouse } from "./local-warehouse.js";

const CHUNK = 1 << 20;

/**
 * The put of a directory warehouse (what an object store does by upload): the source is copied into the temp
 * area and hashed on the way (a source that is not the hashed bytes stores nothing), fsynced, given the
 * warehouse mode, then linked in (link(2) fails on an existing name: nothing is ever written over) or, for a
 * replace, renamed over; the directory is fsynced before this resolves. The pipeline lands plain files by
 * rename instead (see WarehouseDirectory); this is the same contract as every other store's put.
 */
export async function putFile(
  wh: LocalWarehouse,
  path: string,
  source: PutSource,
  meta: { sha256: string; size: number },
  opts: PutOptions,
): Promise<void> {
  const tmp = join(wh.tmpDir, `put-${randomUUID()}`);
  try {
    await copyHashed(source, tmp, meta, opts);
    // Only the owner bits of --warehouse-mode: the source's own mode is not known here, and storing never
    // makes content readable by more users than its producer allowed.
    await chmod(tmp, wh.modeFor(0o700));
    await wh.ensureDir(dirname(path));
    opts.signal?.throwIfAborted();
    if (opts.replace) await rename(tmp, path);
    else await link(tmp, path);
    await wh.dirSync(dirname(path));
  } finally {
    await rm(tmp, { force: true });
  }
}

async function copyHashed(
  source: PutSource,
  tmp: string,
  meta: { sha256: string; size: number },
  opts: PutOptions,
): Promise<void> {
  const from: FileHandle | number = "path" in source ? await open(source.path, "r") : source.fd;
  const out = await open(tmp, "wx", 0o600);
  try {
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const n = await readAt(from, buf, pos);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      await out.write(buf, 0, n);
      pos += n;
      opts.onProgress?.(pos);
    }
    const got = hash.digest("hex");
    if (pos !== meta.size || got !== meta.sha256) {
      throw new IntegrityError(
        `source changed since it was hashed: expected ${meta.size} bytes sha256 ${meta.sha256}, read ${pos} bytes sha256 ${got}`,
        "source",
      );
    }
    await out.datasync();
  } finally {
    await out.close();
    if (typeof from !== "number") await from.close();
  }
}

async function readAt(from: FileHandle | number, buf: Buffer, pos: number): Promise<number> {
  if (typeof from !== "number") return (await from.read(buf, 0, buf.length, pos)).bytesRead;
  return new Promise((resolve, reject) =>
    read(from, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n))),
  );
}
