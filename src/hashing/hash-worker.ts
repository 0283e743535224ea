import { createHash } from "node:crypto";
import { closeSync, constants, fdatasyncSync, openSync, readSync, writeSync } from "node:fs";
import { parentPort } from "node:worker_threads";

/**
 * Hashes (and optionally copies) a file off the main thread. The fd is opened
 * by the main thread (O_NOFOLLOW, already identity-checked) and is shared,
 * since worker threads live in the same process.
 */
export interface HashJob {
  id: number;
  fd: number;
  /** When set, the bytes are also written to this new file (O_EXCL) and fdatasync'ed. */
  copyTo?: string;
}

export interface HashResult {
  id: number;
  sha256?: string;
  bytes?: number;
  error?: { message: string; code?: string };
}

const CHUNK = 1 << 20;
const buf = Buffer.allocUnsafe(CHUNK);

function run(job: HashJob): HashResult {
  const hash = createHash("sha256");
  let out = -1;
  let pos = 0;
  try {
    if (job.copyTo) {
      out = openSync(job.copyTo, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    }
    for (;;) {
      const n = readSync(job.fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      if (out >= 0) {
        let off = 0;
        while (off < n) off += writeSync(out, chunk, off, n - off, pos + off);
      }
      pos += n;
    }
    if (out >= 0) fdatasyncSync(out);
    return { id: job.id, sha256: hash.digest("hex"), bytes: pos };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { id: job.id, error: { message: e.message, code: e.code } };
  } finally {
    if (out >= 0) closeSync(out);
  }
}

parentPort?.on("message", (job: HashJob) => {
  parentPort?.postMessage(run(job));
});
