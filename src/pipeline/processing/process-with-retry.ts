import type { IngestContext } from "../context.js";
import { SinkWriteError } from "../outcomes.js";
import { backoffMs, sleep } from "../retry.js";
import { type Processed, type ProcessJob, processFile } from "./process-file.js";

/**
 * A full warehouse (ENOSPC) while writing members or Parquet is waited out,
 * not held against the file: the processor is simply run again (archive
 * members already recorded are skipped by the replay).
 */
export async function processWithRetry(ctx: IngestContext, job: ProcessJob): Promise<Processed | null> {
  for (let round = 1; ; round++) {
    try {
      return await processFile(ctx, job);
    } catch (err) {
      if (!(err instanceof SinkWriteError)) throw err;
      const delay = backoffMs(round, 100, 30_000);
      ctx.log.warn({
        event: "write_retry",
        what: "warehouse: processing output",
        code: err.errno,
        error: err.message,
        retry_in_ms: Math.round(delay),
      });
      await sleep(delay, ctx.signal);
    }
  }
}
