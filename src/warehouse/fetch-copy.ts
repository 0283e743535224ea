import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { StoredObject } from "./warehouse.js";

/**
 * Streams `body` into `dest` (created anew, mode 0600: only sluice reads its work area) and hashes the bytes on
 * the way: what comes back is what was written, whatever the store claims about the object. One buffer in memory
 * whatever the size.
 */
export async function copyHashed(body: NodeJS.ReadableStream, dest: string): Promise<StoredObject> {
  const h = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      h.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(body, tap, createWriteStream(dest, { mode: 0o600 }));
  return { size, sha256: h.digest("hex") };
}
