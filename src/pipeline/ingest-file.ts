import { close, closeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { ERROR_CATALOG, type ErrorCode, SluiceError } from "../core/errors.js";
import type { FileRecord } from "../core/file-record.js";
import { newIngestId } from "../core/ids.js";
import { crashPoint, pausePoint } from "../durable/crash-points.js";
import type { NewFile } from "../store/state-store.js";
import type { Candidate } from "../watch/candidate.js";
import type { IngestContext } from "./context.js";
import { emitFinished } from "./file-events.js";
import {
  NotReadyError,
  type Outcome,
  resourceExhaustion,
  ShutdownError,
  SinkWriteError,
  SourceReadError,
  VanishedError,
} from "./outcomes.js";
import { processWithRetry } from "./processing/process-file.js";
import { backoffMs, retryUntilDone, sleep } from "./retry.js";
import { decideStage, type FinalDecision } from "./stages/decide.js";
import { finishStage, finishWithoutRaw } from "./stages/finish.js";
import { landStage } from "./stages/land.js";
import { quarantineStage, removeUnstoredOutputs } from "./stages/quarantine.js";
import { type HashedSource, hashSource, openSource } from "./stages/read-source.js";
import { freeTarget } from "./stages/store.js";

class GaveUpReading extends Error {
  constructor(
    readonly attempts: number,
    readonly last: SourceReadError,
  ) {
    super(last.message);
  }
}

/**
 * Opens and hashes the source; a source that cannot be read is tried
 * `maxAttempts` times with backoff, while a warehouse that cannot take the
 * temp copy is waited for indefinitely.
 */
async function readWithRetries(ctx: IngestContext, c: Candidate, ingestId: string): Promise<HashedSource> {
  let attempts = 0;
  for (let sinkRound = 1; ; ) {
    attempts++;
    try {
      const paused = pausePoint("before-open");
      if (paused) await paused;
      const opened = openSource(c.path, c.identity);
      try {
        return await hashSource(ctx, opened, ingestId);
      } catch (err) {
        closeSync(opened.fd);
        throw err;
      }
    } catch (err) {
      // A warehouse that cannot take the temp copy, or a descriptor table that is full (EMFILE: too many
      // connections or files at once), is the machine's state, not the file's: waited out, not counted.
      const exhausted = err instanceof SinkWriteError ? err.errno : resourceExhaustion(err);
      if (exhausted) {
        attempts--;
        const delay = backoffMs(sinkRound++, 100, 30_000);
        ctx.log.warn({
          event: "write_retry",
          what: err instanceof SinkWriteError ? "warehouse: temp copy" : "source: open",
          code: exhausted,
          error: (err as Error).message,
          retry_in_ms: Math.round(delay),
        });
        await sleep(delay, ctx.signal);
        continue;
      }
      if (!(err instanceof SourceReadError)) throw err;
      if (attempts >= ctx.config.maxAttempts) throw new GaveUpReading(attempts, err);
      ctx.log.warn({ event: "read_retry", path: c.path, attempt: attempts, code: err.errno, error: err.message });
      await sleep(backoffMs(attempts, 250, 5_000), ctx.signal);
    }
  }
}

/**
 * Closing the last descriptor of an unlinked file frees its blocks, which for
 * a large file takes long enough (~0.2 s per GiB on ext4) to stall every other
 * file if done on the event loop: large ones are closed on the thread pool.
 */
function closeSource(src: HashedSource): void {
  if (src.identity.size <= 1 << 20) closeSync(src.fd);
  else close(src.fd, () => undefined);
}

/**
 * The row as it stands once the content is safe, built from what this file's run already knows. Written out
 * field by field: built with two spreads it cost ~10 µs per file (V8 left the object in a slow shape).
 */
export function recordOf(
  file: NewFile,
  src: HashedSource,
  d: { warehousePath: string; duplicateOf?: string | null; ingestedAt: string; manifestPath: string },
): FileRecord {
  const now = new Date().toISOString();
  const id = src.identity;
  return {
    ingestId: file.ingestId,
    sourcePath: file.sourcePath,
    name: file.name,
    device: id.device,
    inode: id.inode,
    size: id.size,
    mtimeMs: id.mtimeMs,
    sha256: src.sha256,
    state: d.duplicateOf ? "hashed" : "stored",
    warehousePath: d.warehousePath,
    duplicateOf: d.duplicateOf ?? null,
    sidecarPath: file.sidecarPath,
    ingestedAt: d.ingestedAt,
    manifestPath: d.manifestPath,
    errorCode: null,
    errorMessage: null,
    errorPath: null,
    attempts: 1,
    discoveredAt: now,
    updatedAt: now,
    archiveIngestId: null,
    memberPath: null,
    memberIndex: null,
    processing: null,
  };
}

function errorInfo(code: ErrorCode, detail: string, attempts: number) {
  return { code, message: `${detail} (${ERROR_CATALOG[code].hint})`, attempts };
}

/**
 * A file the small-file batch (small-batch.ts) read, hashed and had decided, handed back to the per-file path
 * because it left the batch's fast path: it continues from the decision exactly as if it had come this way.
 */
export interface Resume {
  file: NewFile;
  src: HashedSource;
  startedAt: number;
  /** The batch's final decision, or null to decide again (the content was in flight for another file). */
  decision: FinalDecision | null;
  /** Set when the batch already failed the file before anything was stored: it fails the per-file way. */
  error?: unknown;
}

/** One ready file through the whole state machine (or, with `resume`, the rest of it). */
export async function ingestCandidate(ctx: IngestContext, c: Candidate, resume?: Resume): Promise<Outcome> {
  const outcome = await ingestOnce(ctx, c, resume);
  // A final outcome ends an API upload's wait; "not-ready" and "aborted" keep its id for the next attempt.
  if (ctx.uploads && outcome !== "not-ready" && outcome !== "aborted") ctx.uploads.settled(c.identity);
  return outcome;
}

async function ingestOnce(ctx: IngestContext, c: Candidate, resume?: Resume): Promise<Outcome> {
  const ingestId = resume?.file.ingestId ?? ctx.uploads?.idFor(c.identity) ?? newIngestId();
  const startedAt = resume?.startedAt ?? performance.now();
  if (!resume) {
    ctx.log.debug({ event: "file_ready", path: c.path, name: c.name, size: c.identity.size, ingest_id: ingestId });
  }
  const file: NewFile = resume?.file ?? {
    ingestId,
    sourcePath: c.path,
    name: c.name,
    ...c.identity,
    sidecarPath: c.sidecar?.path ?? null,
  };
  // A long hash is visible as `discovered` while it runs; a small file goes straight to `hashed` in one commit.
  const discovered =
    !resume && c.identity.size > ctx.config.inlineHashMaxBytes
      ? retryUntilDone("state: discovered", () => ctx.store.recordDiscovered(file), ctx.log, ctx.signal)
      : null;
  let src: HashedSource | null = resume?.src ?? null;
  let stored = false;
  let lapStart = startedAt;
  const lap = (stage: string) => {
    const now = performance.now();
    ctx.metrics.observeStage(stage, (now - lapStart) / 1000);
    lapStart = now;
  };
  try {
    if (!src) {
      try {
        src = await readWithRetries(ctx, c, ingestId);
      } finally {
        if (discovered) await discovered;
      }
      lap("hash");
      crashPoint("after-discover");
      if (src.tmpPath) crashPoint("after-copy");
      if (c.sidecar?.sha256 && c.sidecar.sha256 !== src.sha256) {
        const detail = `content SHA-256 ${src.sha256} does not match ${c.sidecar.sha256} in ${c.sidecar.path}`;
        throw new SluiceError("SLUICE_ERR_CHECKSUM_MISMATCH", detail);
      }
    }
    if (resume?.error) throw resume.error;
    let decision = resume?.decision ?? null;
    if (!decision) {
      decision = await decideStage(ctx, file, src.sha256);
      lap("decide");
      // (A decision the batch made passed this point there.)
      crashPoint("after-hash");
    }
    let known: FileRecord | string;
    if (decision.kind === "new") {
      const target = await freeTarget(ctx, ingestId, decision.warehousePath, src.sha256);
      // Processed from the descriptor we hashed, before anything moves: a file that cannot be processed is
      // quarantined whole, and the outputs land with the raw file in one step.
      const processed = await processWithRetry(ctx, {
        ingestId,
        name: c.name,
        inputPath: `/proc/self/fd/${src.fd}`,
        target,
        sha256: src.sha256,
        depth: 0,
        sourcePath: c.path,
        mtimeMs: c.identity.mtimeMs,
      });
      stored = true;
      lap("process");
      if (processed?.result.rawDiscarded) {
        const rec = await finishWithoutRaw(ctx, ingestId, processed.result);
        emitFinished(ctx, rec, startedAt);
        return "ingested";
      }
      let s: Awaited<ReturnType<typeof landStage>>;
      try {
        s = await landStage(ctx, ingestId, c.path, src, target, processed);
      } catch (err) {
        // An S3 upload that found the source changing stored nothing: unless members of it were stored (an
        // archive), the file is simply not ready yet and is looked at again.
        if (ctx.objects && err instanceof NotReadyError && processed?.result.record.processor !== "archive") {
          stored = false;
        }
        throw err;
      }
      // After a rehash into a duplicate the row changed under us: read it back.
      known =
        s.outcome === "new"
          ? {
              ...recordOf(file, src, { warehousePath: target, duplicateOf: null, ...s }),
              processing: processed?.result.record ?? null,
            }
          : ingestId;
    } else {
      if (src.tmpPath) await rm(src.tmpPath, { force: true });
      known = recordOf(file, src, decision);
    }
    // Only a local rename takes the source out of staging; an S3 upload leaves it for finishStage to remove.
    lap("store");
    const rec = await finishStage(ctx, known, { sourceMoved: stored && !src.tmpPath && !ctx.objects });
    lap("finish");
    emitFinished(ctx, rec, startedAt);
    return rec.state === "duplicate" ? "duplicate" : "ingested";
  } catch (err) {
    return await handleFailure(ctx, c, file, startedAt, err, stored);
  } finally {
    if (src) closeSource(src);
  }
}

async function handleFailure(
  ctx: IngestContext,
  c: Candidate,
  file: NewFile,
  startedAt: number,
  err: unknown,
  stored: boolean,
): Promise<Outcome> {
  const ingestId = file.ingestId;
  if (err instanceof ShutdownError) return "aborted";
  if ((err as { code?: string }).code === "SLUICE_OWNERSHIP_LOST") {
    // This node was presumed dead and the file adopted: the adopter finishes it; nothing here may touch it.
    ctx.log.warn({ event: "file_adopted_elsewhere", ingest_id: ingestId, path: c.path });
    return "aborted";
  }
  // Out of descriptors (EMFILE/ENFILE) or disk wherever it was raised before anything was stored (a name check
  // hashing a warehouse file, the processor, an archive reader, /proc/self/fd): the machine's state, never the
  // file's fault. Nothing of it is kept; after a pause it is handed back and taken again from the start. (A
  // SluiceError is a verdict on the file, whose message may quote its content: never read as exhaustion.)
  const exhausted = stored || err instanceof SluiceError ? undefined : resourceExhaustion(err);
  if (exhausted) {
    const delay = backoffMs(2, 250, 5_000);
    ctx.log.warn({
      event: "write_retry",
      what: "file: resources exhausted",
      ingest_id: ingestId,
      path: c.path,
      code: exhausted,
      error: (err as Error).message,
      retry_in_ms: Math.round(delay),
    });
    await retryUntilDone("warehouse: remove temp", () => ctx.warehouse.removeTmp(ingestId), ctx.log, ctx.signal);
    await retryUntilDone("state: forget", () => ctx.store.forget(ingestId), ctx.log, ctx.signal);
    await sleep(delay, ctx.signal).catch(() => undefined);
    return "not-ready";
  }
  // Failures before the decision may have no row yet: record the file so its fate is in state.
  if (!stored && !(err instanceof NotReadyError)) {
    await retryUntilDone("state: discovered", () => ctx.store.recordDiscovered(file), ctx.log, ctx.signal);
  }
  if (err instanceof NotReadyError && !stored) {
    ctx.log.debug({ event: "file_not_ready", path: c.path, reason: err.message });
    await ctx.warehouse.removeTmp(ingestId);
    await retryUntilDone("state: forget", () => ctx.store.forget(ingestId), ctx.log, ctx.signal);
    return "not-ready";
  }
  if (err instanceof VanishedError) {
    await ctx.warehouse.removeTmp(ingestId);
    await removeUnstoredOutputs(ctx, ingestId);
    await retryUntilDone(
      "state: vanished",
      () => ctx.store.beginQuarantine(ingestId, errorInfo("SLUICE_ERR_VANISHED", err.message, 1), null),
      ctx.log,
      ctx.signal,
    );
    await retryUntilDone("state: failed", () => ctx.store.finishFailed(ingestId), ctx.log, ctx.signal);
    const rec = await ctx.store.get(ingestId);
    if (rec) emitFinished(ctx, rec, startedAt);
    return "vanished";
  }
  if (stored) {
    // Past the point of no return (the content is in the warehouse): leave the row for recovery.
    ctx.log.error({
      event: "file_error",
      ingest_id: ingestId,
      path: c.path,
      error: (err as Error).message,
      stack: (err as Error).stack,
    });
    return "aborted";
  }
  let info: { code: string; message: string; attempts: number };
  if (err instanceof GaveUpReading) info = errorInfo("SLUICE_ERR_SOURCE_UNREADABLE", err.message, err.attempts);
  else if (err instanceof SluiceError) info = errorInfo(err.code, err.message, 1);
  else {
    ctx.log.error({
      event: "file_error",
      ingest_id: ingestId,
      path: c.path,
      error: (err as Error).message,
      stack: (err as Error).stack,
    });
    info = { code: "SLUICE_ERR_INTERNAL", message: (err as Error).message, attempts: 1 };
  }
  await ctx.warehouse.removeTmp(ingestId);
  const rec = await quarantineStage(ctx, ingestId, c.name, info);
  emitFinished(ctx, rec, startedAt);
  return "failed";
}
