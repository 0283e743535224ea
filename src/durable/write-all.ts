import type { FileHandle } from "node:fs/promises";

/**
 * Writes every byte of `data`, looping over short writes. A write(2) that hits a full disk part-way returns the
 * bytes it managed without an error; FileHandle.write passes that on, so a caller that ignores `bytesWritten`
 * takes a cut-off write for a whole one. The next call then fails with ENOSPC, which is thrown.
 */
export async function writeAll(fh: FileHandle, data: string | Uint8Array, position?: number): Promise<void> {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.byteLength) {
    const at = position === undefined ? null : position + off;
    const { bytesWritten } = await fh.write(buf, off, buf.byteLength - off, at);
    if (bytesWritten === 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    off += bytesWritten;
  }
}

/** Thrown when a failed append could not be cut back: bytes of it may remain after `sizeBefore`. */
export class FragmentLeftError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly sizeBefore: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Appends `data` to a file opened for appending and fdatasyncs it, as one unit: all of it durable, or (a full
 * disk part-way, a failed sync) none of it, the file being cut back to its size before, so that a retry neither
 * doubles lines nor leaves a torn one between whole ones. If even the cut fails, {@link FragmentLeftError} says
 * where the file must be cut before anything else is appended to it.
 */
export async function appendDurably(fh: FileHandle, data: string | Uint8Array): Promise<void> {
  const before = (await fh.stat()).size;
  try {
    await writeAll(fh, data);
    await fh.datasync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    try {
      await fh.truncate(before);
    } catch (cut) {
      throw new FragmentLeftError(`${(err as Error).message}; cutting the partial append back failed`, code, before, {
        cause: cut,
      });
    }
    throw err;
  }
}
