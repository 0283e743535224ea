import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { Hasher } from "./hasher.js";

/** SHA-256 of the file at `path` (no symlinks followed); used by recovery to confirm identity. */
export async function hashPath(hasher: Hasher, path: string): Promise<string | null> {
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) return null;
      return (await hasher.hash(fh, st.size)).sha256;
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}
