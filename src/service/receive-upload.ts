import { fstatSync } from "node:fs";
import { link, open, unlink } from "node:fs/promises";
import { extname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { newIngestId } from "../core/ids.js";
import type { DirSyncer } from "../durable/fsync.js";
import type { Candidate } from "../watch/candidate.js";
import type { UploadRegistry, WaitingUpload } from "./upload-registry.js";

/** Why an upload's name was refused: the API answers 400 "Invalid Parameter Type". */
export class UnacceptableNameError extends Error {}

/**
 * The name an upload gets in staging: the last segment of what the client
 * sent (either separator), with control characters removed. A client's name
 * is never a path. Names sluice would ignore (hidden, `.tmp`, `.part`,
 * `.swp`) or treat as a sidecar (`.ok`) are refused, since the file would
 * never be ingested.
 */
export function stagingNameFor(clientName: string | undefined, isIgnored: (name: string) => boolean): string {
  const base =
    (clientName ?? "")
      .split(/[\\/]/)
      .pop()
      ?.replace(/[\u0000-\u001f\u007f]/g, "")
      .trim() ?? "";
  if (base === "" || base === "." || base === "..") {
    throw new UnacceptableNameError(`"${clientName ?? ""}" is not a usable file name`);
  }
  if (Buffer.byteLength(base) > 255) throw new UnacceptableNameError("the file name is longer than 255 bytes");
  if (isIgnored(base) || base.toLowerCase().endsWith(".ok")) {
    throw new UnacceptableNameError(
      `"${base}" is a name sluice does not ingest (hidden, .tmp, .part, .swp or an .ok sidecar)`,
    );
  }
  return base;
}

/** `report.csv` → `report.<id8>.csv`: a second upload of the same name while the first still waits in staging. */
function alternativeName(name: string, id: string): string {
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}.${id.slice(-8)}${ext}`;
}

export interface ReceiveDeps {
  input: string;
  registry: UploadRegistry;
  dirs: DirSyncer;
  /** Hands the complete file to the pipeline at once (no stability wait: it is complete by construction). */
  offer(c: Candidate): void;
}

/**
 * Streams one upload into staging: into a hidden temp name (ignored by the
 * watcher), fsynced, then linked under its staging name — never over an
 * existing file — and the temp name removed. The upload is registered by its
 * inode before the link, so however fast the pipeline sees the file, it
 * ingests it under the id returned here. On any error the temp file goes.
 */
export async function receiveUpload(
  deps: ReceiveDeps,
  stream: Readable,
  name: string,
  /** Throws (e.g. 413) after the stream ends if the body was cut by a limit. */
  checkComplete: () => void,
): Promise<WaitingUpload> {
  const id = newIngestId();
  const tmp = join(deps.input, `.upload-${id}.tmp`);
  const fh = await open(tmp, "wx", 0o644);
  // autoClose off: the handle is fsynced and stat'ed after the stream ends, then closed below.
  // 1 MiB writes: the default 16 KiB buffer keeps one 64 KiB write in flight and caps a 1 GiB upload (bench k).
  const out = fh.createWriteStream({ autoClose: false, highWaterMark: 1 << 20 });
  let linked: string | null = null;
  let registered: { device: number; inode: number; size: number; mtimeMs: number } | null = null;
  try {
    // A part the parser already gave up on (the body ended without the part's closing boundary) is destroyed
    // before we get here, and pipeline() would wait on it for ever: refuse it now.
    if (stream.destroyed && !stream.readableEnded) {
      throw new Error("the body ended inside a file part (no closing multipart boundary)");
    }
    await pipeline(stream, out);
    checkComplete();
    await fh.datasync();
    const st = fstatSync(fh.fd);
    const upload: WaitingUpload = { id, name, size: st.size, uploadTime: new Date().toISOString() };
    deps.registry.add(upload, st.dev, st.ino);
    registered = { device: st.dev, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    for (const candidate of [name, alternativeName(name, id)]) {
      try {
        await link(tmp, join(deps.input, candidate));
        linked = candidate;
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    if (!linked) throw new Error(`staging already holds ${name} and ${alternativeName(name, id)}`);
    await unlink(tmp);
    await deps.dirs.sync(deps.input);
    upload.name = linked;
    deps.offer({
      path: join(deps.input, linked),
      name: linked,
      identity: { device: st.dev, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs },
      sidecar: null,
    });
    return upload;
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (registered && !linked) deps.registry.settled(registered);
    throw err;
  } finally {
    // A FileHandle's close() waits for every stream made from it: this one must let go first.
    out.destroy();
    await fh.close();
  }
}
