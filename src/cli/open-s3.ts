import type { Logger } from "../telemetry/logger.js";
import type { ResolvedS3Config } from "../warehouse/s3/config.js";
import { S3Warehouse } from "../warehouse/s3/s3-warehouse.js";
import { describeS3Error, S3Sink, smallPutRequests, withS3Retries } from "../warehouse/s3/sink.js";

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
    // How every small object will be put (docs/s3.md, "Requests per object"): decided now, logged once.
    const f = await withS3Retries(() => sink.putFeatures(), { signal, onRetry: onRetry("s3: probe put features") });
    log.info({
      event: "s3_put_features",
      conditional_put: f.conditionalPut,
      payload_hash_verified: f.payloadHashVerified,
      checksum_verified: f.checksumVerified,
      requests_per_small_put: smallPutRequests(f),
    });
  } catch (err) {
    sink.close();
    throw err;
  }
  return objects;
}
