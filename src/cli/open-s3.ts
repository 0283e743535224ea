import type { Logger } from "../telemetry/logger.js";
import type { ResolvedS3Config } from "../warehouse/s3/config.js";
import { S3Warehouse } from "../warehouse/s3/s3-warehouse.js";
import { describeS3Error, S3Sink, withS3Retries } from "../warehouse/s3/sink.js";

/**
 * Opens the S3 warehouse at start: the bucket must exist and the credentials
 * must reach it (a refusal is thrown: one clear line, exit 2, nothing
 * touched); an endpoint that is down is waited for, logged. (The multipart
 * uploads a crash left are aborted once the state is open: see
 * src/service/stale-uploads.ts.)
 */
export async function openS3Warehouse(
  s3: ResolvedS3Config,
  log: Logger,
  signal: AbortSignal,
  opts: { dryRun: boolean },
): Promise<S3Warehouse> {
  const sink = new S3Sink({ ...s3.options, log });
  const objects = new S3Warehouse(sink);
  log.info({ event: "s3_warehouse", root: objects.root, ...s3.sources });
  if (opts.dryRun) return objects;
  const onRetry = (what: string) => (err: unknown, attempt: number, delayMs: number) =>
    log.warn({ event: "write_retry", what, attempt, error: describeS3Error(err), retry_in_ms: Math.round(delayMs) });
  try {
    await withS3Retries(() => sink.check(), { signal, onRetry: onRetry("s3: check bucket") });
    // How small objects are put (docs/s3.md, "Requests per object") is probed before the first put, not here: the
    // probe's requests through a slow endpoint must not hold up the start (the node's lease heartbeat, recovery).
  } catch (err) {
    sink.close();
    throw err;
  }
  return objects;
}
