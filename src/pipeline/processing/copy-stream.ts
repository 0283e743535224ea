import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { writeAll } from "../../durable/write-all.js";
import { SinkWriteError } from "../outcomes.js";

const SINK_SIDE_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EEXIST"]);

/**
 * Writes a member's bytes to `dst` (created exclusively) while hashing them,
 * then fdatasyncs: one pass, one chunk in memory at a time, and the copy is
 * durable before anything is recorded about it. Errors of the input stream
 * (a damaged archive) propagate as they are; write errors become SinkWriteError.
 */
export async function copyStreamHashing(input: Readable, dst: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  const fh = await open(dst, "wx", 0o644).catch((err) => {
    input.destroy();
    throw asSinkError(err);
  });
  try {
    for await (const chunk of input) {
      const buf = chunk as Buffer;
      hash.update(buf);
      await writeAll(fh, buf).catch((err) => {
        throw asSinkError(err);
      });
      bytes += buf.length;
    }
    await fh.datasync().catch((err) => {
      throw asSinkError(err);
    });
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest("hex"), bytes };
}

function asSinkError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && SINK_SIDE_ERRNOS.has(code)) {
    return new SinkWriteError(`cannot write the warehouse temp copy: ${(err as Error).message}`, code, { cause: err });
  }
  return err;
}
