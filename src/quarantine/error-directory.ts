import { constants } from "node:fs";
import { copyFile, lstat, open, rename, rm, stat, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { fitName } from "../core/fit-name.js";
import type { DirSyncer } from "../durable/fsync.js";
import { writeAll } from "../durable/write-all.js";
import { compactTimestamp } from "../warehouse/warehouse-paths.js";

/** The document written beside a failed file as `<file>.error.json`. */
export interface ErrorDocV1 {
  version: 1;
  ingest_id: string;
  path: string;
  code: string;
  reason: string;
  attempts: number;
  failed_at: string;
  sha256?: string;
}

/**
 * `ERRORS/<UTC timestamp>_<name>` plus `.error.json` beside it. The reason is
 * written (atomically) before the file moves, so a file in the error directory
 * always has its reason next to it.
 */
export class ErrorDirectory {
  private device = -1;

  constructor(
    readonly root: string,
    private readonly dirs: DirSyncer,
  ) {}

  async open(): Promise<void> {
    this.device = (await stat(this.root)).dev;
  }

  /** A name not used yet: the timestamp, then the ingest id if two failures share a millisecond. */
  async reservePath(name: string, at: Date, ingestId: string): Promise<string> {
    const base = fitName(basename(name));
    const first = join(this.root, `${compactTimestamp(at)}_${base}`);
    try {
      await lstat(first);
    } catch {
      return first;
    }
    return join(this.root, `${compactTimestamp(at)}_${ingestId.slice(-12)}_${base}`);
  }

  async writeReason(errorPath: string, doc: ErrorDocV1): Promise<void> {
    const final = `${errorPath}.error.json`;
    const tmp = join(this.root, `.${basename(final)}.tmp`);
    const fh = await open(tmp, "w");
    try {
      await writeAll(fh, `${JSON.stringify(doc, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  }

  /** Moves `src` (identified by dev) to `dst`: rename on the same filesystem, else copy + fsync + unlink. */
  async moveIn(src: string, srcDev: number, dst: string): Promise<void> {
    if (srcDev === this.device) {
      await rename(src, dst);
    } else {
      const tmp = join(this.root, `.${basename(dst)}.tmp`);
      await copyFile(src, tmp, constants.COPYFILE_EXCL);
      const fh = await open(tmp, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, dst);
      await this.dirs.sync(this.root);
      await unlink(src);
    }
    await this.dirs.sync(this.root);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch {
      return false;
    }
  }

  async removeTemps(errorPath: string): Promise<void> {
    await rm(join(this.root, `.${basename(errorPath)}.tmp`), { force: true });
    await rm(join(this.root, `.${basename(errorPath)}.error.json.tmp`), { force: true });
  }
}
