import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { HashWorkerPool } from "./worker-pool.js";

export interface HashOutcome {
  sha256: string;
  bytes: number;
}

/**
 * Streams a file's bytes through SHA-256 (and optionally into a new file on
 * another filesystem in the same pass). Small files are done on the main
 * thread, where a worker round-trip would cost more than the hash; large
 * ones in the worker pool. Memory is one buffer per job, whatever the size.
 */
export class Hasher {
  constructor(
    private readonly pool: HashWorkerPool,
    private readonly inlineMaxBytes: number,
  ) {}

  async hash(fh: FileHandle, size: number): Promise<HashOutcome> {
    if (size > this.inlineMaxBytes) return this.pool.run({ fd: fh.fd });
    return this.inline(fh, size, null);
  }

  /** Copies into `dst` (created exclusively, fdatasync'ed) while hashing. */
  async copyAndHash(fh: FileHandle, size: number, dst: string): Promise<HashOutcome> {
    if (size > this.inlineMaxBytes) return this.pool.run({ fd: fh.fd, copyTo: dst });
    const out = await open(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      const r = await this.inline(fh, size, out);
      await out.datasync();
      return r;
    } finally {
      await out.close();
    }
  }

  private async inline(fh: FileHandle, size: number, out: FileHandle | null): Promise<HashOutcome> {
    const hash = createHash("sha256");
    // One byte more than expected, so growth since the stat shows up as bytes != size.
    const buf = Buffer.allocUnsafe(Math.min(size + 1, this.inlineMaxBytes + 1));
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      if (out) await out.write(chunk, 0, bytesRead, pos);
      pos += bytesRead;
    }
    return { sha256: hash.digest("hex"), bytes: pos };
  }
}
