import { basename } from "node:path";
import { type ErrorCode, SluiceError, withHint } from "../../core/errors.js";
import { fullJitterMs, sleep } from "../../core/retry.js";
import type { IngestContext } from "../context.js";
import { emitFinished } from "../file-events.js";
import { NotReadyError, type Outcome, resourceExhaustion, ShutdownError, VanishedError } from "../outcomes.js";
import { retryUntilDone } from "../retry.js";
import { quarantineStage, removeUnstoredOutputs } from "../stages/quarantine.js";
import { type Item, provenance } from "./item.js";
import { GaveUpReading } from "./read.js";

function errorInfo(code: ErrorCode, detail: string, attempts: number) {
  return { code, message: withHint(code, detail), attempts };
}

/** An unexpected error (a bug, an error no rule foresaw), named by its class so the reason says what it was. */
export function internalDetail(err: unknown): string {
  if (!(err instanceof Error)) return `unexpected error: ${String(err)}`;
  return `unexpected error: ${err.name === "Error" ? "" : `${err.name}: `}${err.message}`;
}

function logFileError(ctx: IngestContext, it: Item, err: unknown): void {
  ctx.log.error({
    event: "file_error",
    ingest_id: it.file.ingestId,
    path: it.c.path,
    code: err instanceof SluiceError ? err.code : "SLUICE_ERR_INTERNAL",
    error: (err as Error).message,
    stack: (err as Error).stack,
  });
}

/**
 * What becomes of a file a step could not move on, by what went wrong and how far it got: the one place that
 * decides it, whichever step and however many files the step was taking. Before anything is stored, the file is
 * handed back (not ready, resources exhausted), failed as vanished, or quarantined with its error; once it is
 * stored, its row is left for recovery.
 */
export async function handleFailure(ctx: IngestContext, it: Item, err: unknown): Promise<Outcome> {
  const { file, c, stored, startedAt } = it;
  const ingestId = file.ingestId;
  if (err instanceof ShutdownError) return "aborted";
  if (err instanceof SluiceError && err.code === "SLUICE_ERR_OWNERSHIP_LOST") {
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
    const delay = fullJitterMs(2, 250, 5_000);
    ctx.log.warn({
      event: "write_retry",
      what: "file: resources exhausted",
      ingest_id: ingestId,
      path: c.path,
      code: exhausted,
      error: (err as Error).message,
      retry_in_ms: Math.round(delay),
    });
    await retryUntilDone("warehouse: remove temp", () => ctx.work.removeTmp(ingestId), ctx.log, ctx.signal);
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
    await ctx.work.removeTmp(ingestId);
    await retryUntilDone("state: forget", () => ctx.store.forget(ingestId), ctx.log, ctx.signal);
    return "not-ready";
  }
  if (err instanceof VanishedError) {
    await ctx.work.removeTmp(ingestId);
    await removeUnstoredOutputs(ctx, ingestId);
    await retryUntilDone(
      "state: vanished",
      () => ctx.store.beginQuarantine(ingestId, errorInfo("SLUICE_ERR_VANISHED", err.message, 1), null),
      ctx.log,
      ctx.signal,
    );
    await retryUntilDone("state: failed", () => ctx.store.finishFailed(ingestId), ctx.log, ctx.signal);
    const rec = await ctx.store.get(ingestId);
    if (rec) emitFinished(ctx, rec, startedAt, provenance(it));
    return "vanished";
  }
  if (stored) {
    // Past the point of no return (the content is in the warehouse): the row is left as it is, for recovery at the
    // next start, and this run does not take the file again (outcome "aborted": not re-offered). A bug here cannot
    // spin: it costs one file_error line per run. (docs/state-machine.md, "Unexpected errors".)
    logFileError(ctx, it, err);
    return "aborted";
  }
  let info: { code: string; message: string; attempts: number };
  if (err instanceof GaveUpReading) info = errorInfo("SLUICE_ERR_SOURCE_UNREADABLE", err.message, err.attempts);
  else if (err instanceof SluiceError) info = errorInfo(err.code, err.message, 1);
  else {
    logFileError(ctx, it, err);
    info = errorInfo("SLUICE_ERR_INTERNAL", internalDetail(err), 1);
  }
  // A member's bytes are its temp copy: kept for the error directory once it was read whole and its processor
  // ran (a member whose name could not be placed has no bytes worth keeping); a staging file's copy is a copy.
  if (!(it.member && it.target)) await ctx.work.removeTmp(ingestId);
  const rec = await quarantineStage(ctx, ingestId, it.member ? basename(file.memberPath ?? file.name) : c.name, info);
  emitFinished(ctx, rec, startedAt, provenance(it));
  return "failed";
}
