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

/** One part of an upload, received whole into its hidden temp file and fsynced: not in staging under its name yet. */
export interface ReceivedPart {
  id: string;
  name: string;
  tmp: string;
  identity: { device: number; inode: number; size: number; mtimeMs: number };
}

/**
 * Streams one part into a hidden temp name in staging (ignored by the
 * watcher), created with O_EXCL, and fsyncs it. Nothing is handed to the
 * pipeline here: `commitParts` does that once the whole request has been read,
 * so a request refused later (a part too large, too many parts, a body cut
 * off) ingests none of its parts. On any error the temp file goes.
 */
export async function receivePart(
  deps: ReceiveDeps,
  stream: Readable,
  name: string,
  /** Throws (e.g. 413) after the stream ends if the body was cut by a limit. */
  checkComplete: () => void,
): Promise<ReceivedPart> {
  const id = newIngestId();
  const tmp = join(deps.input, `.upload-${id}.tmp`);
  const fh = await open(tmp, "wx", 0o644);
  // autoClose off: the handle is fsynced and stat'ed after the stream ends, then closed below.
  // 1 MiB writes: the default 16 KiB buffer keeps one 64 KiB write in flight and caps a 1 GiB upload (bench k).
  const out = fh.createWriteStream({ autoClose: false, highWaterMark: 1 << 20 });
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
    return { id, name, tmp, identity: { device: st.dev, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs } };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    // A FileHandle's close() waits for every stream made from it: this one must let go first.
    out.destroy();
    await fh.close();
  }
}

/** Removes the temp files of parts that will not be committed (the request failed or died). */
export async function discardParts(parts: readonly ReceivedPart[]): Promise<void> {
  await Promise.all(parts.map((p) => unlink(p.tmp).catch(() => undefined)));
}

/**
 * Puts every received part of one request into staging and hands them to the
 * pipeline. Each is registered by its inode before its link, so however fast
 * the pipeline (or the watcher) sees the file, it ingests it under the id
 * returned here; each is linked under its staging name, never over an existing
 * file. The pipeline gets nothing until every part is linked: if a link fails
 * (a disk error), the parts linked so far are unlinked again and the request
 * fails whole. The temp names are removed either way.
 */
export async function commitParts(deps: ReceiveDeps, parts: readonly ReceivedPart[]): Promise<WaitingUpload[]> {
  const linked: { part: ReceivedPart; upload: WaitingUpload; path: string }[] = [];
  try {
    for (const part of parts) {
      const upload: WaitingUpload = {
        id: part.id,
        name: part.name,
        size: part.identity.size,
        uploadTime: new Date().toISOString(),
      };
      deps.registry.add(upload, part.identity.device, part.identity.inode);
      let name: string | null = null;
      try {
        for (const candidate of [part.name, alternativeName(part.name, part.id)]) {
          try {
            await link(part.tmp, join(deps.input, candidate));
            name = candidate;
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
          }
        }
        if (!name) throw new Error(`staging already holds ${part.name} and ${alternativeName(part.name, part.id)}`);
      } catch (err) {
        deps.registry.settled(part.identity);
        throw err;
      }
      upload.name = name;
      linked.push({ part, upload, path: join(deps.input, name) });
    }
  } catch (err) {
    for (const l of linked) {
      await unlink(l.path).catch(() => undefined);
      deps.registry.settled(l.part.identity);
    }
    await discardParts(parts);
    throw err;
  }
  await discardParts(parts);
  await deps.dirs.sync(deps.input);
  for (const { part, upload, path } of linked) {
    deps.offer({ path, name: upload.name, identity: part.identity, sidecar: null });
  }
  return linked.map((l) => l.upload);
}
