import { createHash } from "node:crypto";
import { closeSync, constants, fdatasyncSync, openSync, readSync, write } from "node:fs";
import { promisify } from "node:util";
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
/** Two buffers: one being written out while the next one is read and hashed. */
const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
const writeAsync = promisify(write);

/** Writes `n` bytes of `chunk` at `pos`, on libuv's pool: it runs while this thread hashes the next chunk. */
async function writeAll(out: number, chunk: Buffer, n: number, pos: number): Promise<void> {
  let off = 0;
  while (off < n) off += (await writeAsync(out, chunk, off, n - off, pos + off)).bytesWritten;
}

async function run(job: HashJob): Promise<HashResult> {
  const hash = createHash("sha256");
  let out = -1;
  let pos = 0;
  // The copy's write of the previous chunk, in flight while this chunk is hashed: SHA-256 is the slow part, so the
  // copy costs almost nothing on top of it (one pass, two threads).
  let writing: Promise<void> | null = null;
  try {
    if (job.copyTo) {
      out = openSync(job.copyTo, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    }
    for (let k = 0; ; k++) {
      // This buffer last held chunk k - 2, whose write was awaited in the previous round.
      const buf = bufs[k & 1] as Buffer;
      const n = readSync(job.fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      const w = out >= 0 ? writeAll(out, buf, n, pos) : null;
      // A failed write must not go unheard while the hash runs; it is rethrown when awaited below.
      w?.catch(() => {});
      hash.update(buf.subarray(0, n));
      if (writing) await writing;
      writing = w;
      pos += n;
    }
    if (writing) await writing;
    writing = null;
    if (out >= 0) fdatasyncSync(out);
    return { id: job.id, sha256: hash.digest("hex"), bytes: pos };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { id: job.id, error: { message: e.message, code: e.code } };
  } finally {
    // Never close the copy under a write still in flight.
    if (writing) await writing.catch(() => {});
    if (out >= 0) closeSync(out);
  }
}

// One job at a time per worker (the pool hands a worker its next job only after this answer), so the two buffers
// are never shared between jobs.
parentPort?.on("message", (job: HashJob) => {
  void run(job).then((r) => parentPort?.postMessage(r));
});
