import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { S3Warehouse } from "../warehouse/s3-warehouse.js";

/** What `sluice verify` asks of a warehouse, local or S3; paths are as state records them. */
export interface WarehouseView {
  readonly root: string;
  /** The object's size and SHA-256 (local: hashed now; S3: its `sha256` metadata), or null if it is not there. */
  inspect(path: string): Promise<{ size: number; sha256: string | null } | null>;
  exists(path: string): Promise<boolean>;
  /** Every stored object (temp area excluded). */
  objects(): AsyncIterable<string>;
  /** Files left in the temp area(s). */
  temps(): Promise<string[]>;
  removeTemp(path: string): Promise<void>;
  /** Removes an output no file records (`verify --repair`); absent where the view cannot delete (S3). */
  removeOutput?(path: string): Promise<void>;
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function* walk(dir: string, skip: (path: string) => boolean): AsyncGenerator<string> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) yield* walk(p, skip);
    else yield p;
  }
}

/** A warehouse directory: objects are files below it; `.sluice-tmp/` is the work area. */
export class LocalWarehouseView implements WarehouseView {
  private readonly tmp: string;

  constructor(readonly root: string) {
    this.tmp = join(root, ".sluice-tmp");
  }

  async inspect(path: string) {
    const st = await lstat(path).catch(() => null);
    if (!st?.isFile()) return null;
    return { size: st.size, sha256: await sha256Of(path) };
  }

  async exists(path: string): Promise<boolean> {
    return (await lstat(path).catch(() => null)) !== null;
  }

  objects(): AsyncIterable<string> {
    return walk(this.root, (p) => p === this.tmp);
  }

  async temps(): Promise<string[]> {
    const out: string[] = [];
    for await (const p of walk(this.tmp, () => false)) out.push(p);
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

/** An S3 warehouse: objects are keys under the prefix; the local scratch directory is the work area. */
export class S3WarehouseView implements WarehouseView {
  readonly root: string;
  private readonly local: LocalWarehouseView;

  constructor(
    private readonly s3: S3Warehouse,
    scratch: string,
  ) {
    this.root = s3.root;
    this.local = new LocalWarehouseView(scratch);
  }

  async inspect(path: string) {
    const o = await this.s3.sink.head(this.s3.keyOf(path));
    return o ? { size: o.size, sha256: o.sha256 } : null;
  }

  async exists(path: string): Promise<boolean> {
    return (await this.s3.sink.head(this.s3.keyOf(path))) !== null;
  }

  async *objects(): AsyncGenerator<string> {
    for await (const o of this.s3.sink.listObjects()) yield this.s3.uriOf(o.key);
  }

  async temps(): Promise<string[]> {
    const out: string[] = [];
    for await (const p of walk(this.local.root, () => false)) out.push(p);
    return out;
  }

  async removeTemp(path: string): Promise<void> {
    if (!path.startsWith(this.local.root + sep)) throw new Error(`refusing to remove ${path}: not in the scratch area`);
    await rm(path, { force: true });
  }
}
