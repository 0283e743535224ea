import { closeSync, constants, fstatSync, openSync } from "node:fs";
import type { Hasher } from "./hasher.js";

/** SHA-256 of the file at `path` (no symlinks followed); used by recovery to confirm identity. */
export async function hashPath(hasher: Hasher, path: string): Promise<string | null> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    return (await hasher.hash(fd, st.size)).sha256;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
