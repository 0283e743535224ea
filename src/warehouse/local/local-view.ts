import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import { dirname, relative, sep } from "node:path";
import { walkFiles } from "../walk.js";
import type { StoredObject, WarehouseView } from "../warehouse.js";

/** The SHA-256 of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** A warehouse directory as `sluice verify` reads it: objects are files below it; the work area is excluded. */
export class LocalWarehouseView implements WarehouseView {
  constructor(
    readonly root: string,
    private readonly tmp: string,
  ) {}

  async inspect(path: string): Promise<StoredObject | null> {
    const st = await lstat(path).catch(() => null);
    if (!st?.isFile()) return null;
    return { size: st.size, sha256: await sha256OfFile(path) };
  }

  async exists(path: string): Promise<boolean> {
    return (await lstat(path).catch(() => null)) !== null;
  }

  objects(): AsyncIterable<string> {
    return walkFiles(this.root, (p) => p === this.tmp);
  }

  async temps(): Promise<string[]> {
    const out: string[] = [];
    for await (const p of walkFiles(this.tmp, () => false)) out.push(p);
    return out;
  }

  async removeTemp(path: string): Promise<void> {
    // Only ever inside the work area: a bug here must not be able to delete stored data.
    if (relative(this.tmp, path).startsWith("..") || !path.startsWith(this.tmp + sep)) {
      throw new Error(`refusing to remove ${path}: not in ${this.tmp}`);
    }
    await rm(path, { force: true });
  }

  async removeOutput(path: string): Promise<void> {
    if (!path.startsWith(this.root + sep) || path.startsWith(this.tmp + sep)) {
      throw new Error(`refusing to remove ${path}: not a warehouse object`);
    }
    await rm(path, { force: true });
    // A table of a `NAME.tables/` directory: the directory goes once it is empty.
    for (let dir = dirname(path); dir.startsWith(this.root + sep) && dir.includes(".tables"); dir = dirname(dir)) {
      if ((await readdir(dir).catch(() => ["?"])).length > 0) break;
      await rmdir(dir).catch(() => undefined);
    }
  }
}
