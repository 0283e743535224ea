import { crashPoint, pausePoint } from "../../durable/crash-points.js";
import type { IngestContext } from "../context.js";
import { placeOutputs } from "../processing/outputs.js";
import type { Processed } from "../processing/process-file.js";
import type { HashedSource } from "./read-source.js";
import { storeStage } from "./store.js";
import { storeByPut } from "./store-put.js";

/**
 * Puts a processed file and its outputs into the warehouse and commits
 * `stored`. In a directory warehouse the outputs are renamed in first, so the raw file never
 * appears without them; in an object store the raw object goes first (an upload that finds
 * the source changed must leave nothing behind), and the manifest line is
 * the signal that a file and its outputs are complete.
 */
export async function landStage(
  ctx: IngestContext,
  ingestId: string,
  sourcePath: string,
  src: HashedSource,
  target: string,
  processed: Processed | null,
): Promise<{ outcome: "new" | "duplicate"; ingestedAt: string; manifestPath: string }> {
  if (!ctx.warehouse.directory) return storeByPut(ctx, ingestId, src, target, processed);
  if (processed) {
    await placeOutputs(ctx, ingestId, processed.outputs, src.owner.mode);
    crashPoint("after-outputs-placed");
    const paused = pausePoint("after-outputs-placed");
    if (paused) await paused;
  }
  return storeStage(ctx, ingestId, sourcePath, src, target, processed?.result);
}
