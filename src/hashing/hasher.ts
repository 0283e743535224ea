import { createHash } from "node:crypto";
import { closeSync, constants, fdatasync, openSync, readSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import type { HashWorkerPool } from "./worker-pool.js";

const fdatasyncAsync = promisify(fdatasync);

export interface HashOutcome {
  sha256: string;
  bytes: number;
}

/**
 * Streams a file's bytes through SHA-256 (and optionally into a new file on
 * another filesystem in the same pass). Small files are read with plain
 * synchronous reads on the main thread: for a few KiB in the page cache that
 * costs microseconds, far less than a thread-pool or worker round trip.
 * Large files go to the worker pool so the event loop stays responsive.
 * Memory is one buffer per job, whatever the file size.
 */
export class Hasher {
  private readonly buf: Buffer;

  constructor(
    private readonly pool: HashWorkerPool,
    private readonly inlineMaxBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(inlineMaxBytes + 1);
  }

  async hash(fd: number, size: number): Promise<HashOutcome> {
    if (size > this.inlineMaxBytes) return this.pool.run({ fd });
    return this.inline(fd, -1);
  }

  /** Copies into `dst` (created exclusively, fdatasync'ed) while hashing. */
  async copyAndHash(fd: number, size: number, dst: string): Promise<HashOutcome> {
    if (size > this.inlineMaxBytes) return this.pool.run({ fd, copyTo: dst });
    const out = openSync(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      const r = this.inline(fd, out);
      await fdatasyncAsync(out);
      return r;
    } finally {
      closeSync(out);
    }
  }

  /**
   * For the small-file batch: hashes now, on this thread, copying into the open descriptor `out` unless it is
   * -1. The caller fdatasyncs `out`, so that a batch's copies are synced together.
   */
  hashSync(fd: number, out = -1): HashOutcome {
    return this.inline(fd, out);
  }

  /**
   * Reads until EOF (not just `size` bytes), so growth since the stat shows
   * up as bytes != size. The shared buffer is safe: this runs without awaiting.
   */
  private inline(fd: number, out: number): HashOutcome {
    const hash = createHash("sha256");
    const buf = this.buf;
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      if (out >= 0) {
        let off = 0;
        while (off < n) off += writeSync(out, buf, off, n - off, pos + off);
      }
      pos += n;
    }
    return { sha256: hash.digest("hex"), bytes: pos };
  }
}
