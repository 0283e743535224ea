import { rm } from "node:fs/promises";
import { crashPoint } from "../../durable/crash-points.js";
import { IntegrityError, OccupiedError } from "../../warehouse/warehouse.js";
import type { IngestContext } from "../context.js";
import { NotReadyError } from "../outcomes.js";
import { placeOutputs } from "../processing/outputs.js";
import type { Processed } from "../processing/process-file.js";
import { retryUntilDone } from "../retry.js";
import { warehouseCall } from "../warehouse-calls.js";
import type { HashedSource } from "./read-source.js";
import { freeTarget } from "./store.js";

/**
 * The store step of a warehouse without a directory to rename into (an
 * object store). The raw file is put from the
 * descriptor that was hashed (or from its temp copy, for an archive member),
 * with its SHA-256; the put re-hashes the bytes it sends and
 * checks the stored object afterwards, so `stored` is only committed for an
 * object proven to hold exactly the hashed content. Then the outputs, then
 * `stored`. The source stays in staging throughout: it is removed by the
 * finish step, after the manifest line. The key is deterministic, so a
 * replay after a crash finds the object already there ("exists") or
 * uploads it again to the same key; a multipart upload cut off by the crash
 * is aborted at the next start.
 */
export async function storeByPut(
  ctx: IngestContext,
  ingestId: string,
  src: HashedSource,
  target: string,
  processed: Processed | null,
): Promise<{ outcome: "new"; ingestedAt: string; manifestPath: string }> {
  const meta = { sha256: src.sha256, size: src.identity.size };
  const source = src.tmpPath ? { path: src.tmpPath } : { fd: src.fd };
  let uri = target;
  let replace = false;
  for (let round = 1; ; round++) {
    try {
      const how = await warehouseCall(ctx, "put", uri, () =>
        ctx.warehouse.put(uri, source, meta, {
          signal: ctx.signal,
          replace,
          onProgress: (sent) => {
            if (sent > 0 && sent < meta.size) crashPoint("mid-upload");
          },
        }),
      );
      // Already there with these bytes: an earlier attempt's upload, or the same content stored before this state.
      if (how === "exists") ctx.log.debug({ event: "s3_object_exists", ingest_id: ingestId, key: uri });
      break;
    } catch (err) {
      if (err instanceof IntegrityError && err.where === "source") {
        // The bytes read for the upload are not the bytes hashed: a writer is still at it. Nothing was stored.
        throw new NotReadyError(`changed while being uploaded (${err.message})`);
      }
      if (err instanceof IntegrityError && round < 5) {
        // The server kept something else than was sent (a proxy mangled it, a torn write): send it again.
        ctx.log.warn({ event: "s3_object_mismatch", ingest_id: ingestId, key: uri, error: err.message });
        replace = true;
        continue;
      }
      if (err instanceof OccupiedError && round < 3) {
        // Another writer took the key since freeTarget looked: move to the content-tagged key, as locally.
        uri = await freeTarget(ctx, ingestId, uri, meta.sha256);
        continue;
      }
      throw err;
    }
  }
  crashPoint("after-upload");
  if (processed) {
    await placeOutputs(ctx, ingestId, processed.outputs, src.owner.mode);
    crashPoint("after-outputs-placed");
  }
  if (src.tmpPath) await rm(src.tmpPath, { force: true });
  const at = new Date();
  const ingestedAt = at.toISOString();
  const manifestPath = ctx.manifests.pathFor(at);
  await retryUntilDone(
    "state: stored",
    () => ctx.store.markStored(ingestId, ingestedAt, manifestPath, processed?.result),
    ctx.log,
    ctx.signal,
  );
  crashPoint("after-stored");
  return { outcome: "new", ingestedAt, manifestPath };
}
