import { closeSync, type Dirent, fsyncSync, openSync } from "node:fs";
import { mkdir, open, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Batcher } from "./batcher.js";

/** fsync a directory so the renames and creates inside it survive a power loss (or a file, its data). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * fsync each of `paths`: a file's data, or a directory's every file and
 * subdirectory and then its own entries. The pipeline calls it on what a
 * processor wrote (plain files, no fsync of their own) before anything records
 * them; renaming them into place and syncing the destination directory is the
 * caller's next step.
 */
export async function fsyncTrees(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    let entries: Dirent[] | null = null;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOTDIR") throw err;
    }
    if (entries) await fsyncTrees(entries.map((e) => join(path, e.name)));
    await fsyncDir(path);
  }
}

/**
 * Directory fsyncs, grouped: many files renamed into the same partition in one
 * turn of the event loop share one fsync of that directory.
 */
export class DirSyncer {
  private readonly batcher = new Batcher<string, void>(async (dirs) => {
    const unique = [...new Set(dirs)];
    const outcome = new Map<string, Error | undefined>();
    await Promise.all(
      unique.map(async (d) => {
        try {
          await fsyncDir(d);
          outcome.set(d, undefined);
        } catch (err) {
          outcome.set(d, err as Error);
        }
      }),
    );
    return dirs.map((d) => outcome.get(d) ?? undefined) as (undefined | Error)[];
  });

  sync(dir: string): Promise<void> {
    return this.batcher.submit(dir);
  }
}

/**
 * mkdir -p, then fsync the parent of every directory it created, so the new
 * path survives a power loss, not just the files later put in it.
 */
export async function mkdirDurable(dir: string, dirs: DirSyncer): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (!created) return;
  for (let d = dir; ; d = dirname(d)) {
    await dirs.sync(dirname(d));
    if (d === created || dirname(d) === d) break;
  }
}
