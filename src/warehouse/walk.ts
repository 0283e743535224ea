import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Every file below `dir` (depth first), skipping the paths `skip` names; a directory that cannot be read yields nothing. */
export async function* walkFiles(dir: string, skip: (path: string) => boolean): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) yield* walkFiles(p, skip);
    else yield p;
  }
}
