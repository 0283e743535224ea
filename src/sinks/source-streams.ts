import { createHash } from "node:crypto";
import { read } from "node:fs";
import { Readable, Transform } from "node:stream";
import { S3IntegrityError } from "./s3-errors.js";

/** Bytes per read from the source: large enough for throughput, small next to a 5 MiB part. */
export const READ_CHUNK = 1024 * 1024;

/**
 * Reads a caller's descriptor with pread from offset 0, so a retry reads it
 * again from the start and the file offset is untouched. Never closes it:
 * fs.createReadStream({ fd, autoClose: false }) still closes on destroy().
 */
export function preadStream(fd: number): Readable {
  let position = 0;
  return new Readable({
    highWaterMark: READ_CHUNK,
    read() {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      read(fd, buf, 0, READ_CHUNK, position, (err, n) => {
        if (this.destroyed) return;
        if (err) return void this.destroy(err);
        if (n === 0) return void this.push(null);
        position += n;
        this.push(n === READ_CHUNK ? buf : buf.subarray(0, n));
      });
    },
  });
}

/**
 * Counts and hashes the bytes on their way to the upload, and fails the
 * stream before its end is reported if they are not the bytes the caller
 * hashed: the upload is then never completed (the multipart upload is
 * aborted, the single PUT never sent), so the key cannot hold bytes whose
 * metadata lies about them.
 */
export function verifying(key: string, meta: { sha256: string; size: number }): Transform {
  const hash = createHash("sha256");
  let bytes = 0;
  const mismatch = (got: string) =>
    new S3IntegrityError(
      `source for ${key} changed since it was hashed: expected ${meta.size} bytes sha256 ${meta.sha256}, read ${got}`,
      "source",
    );
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > meta.size) return done(mismatch(`more than ${meta.size} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const hex = hash.digest("hex");
      if (bytes !== meta.size || hex !== meta.sha256) return done(mismatch(`${bytes} bytes sha256 ${hex}`));
      done();
    },
  });
}
