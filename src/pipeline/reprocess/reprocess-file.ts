import { stat } from "node:fs/promises";
import { type ErrorCode, isErrorCode, SluiceError } from "../../core/errors.js";
import type { FileRecord } from "../../core/file-record.js";
import type { ProcessingRecordV1 } from "../../core/processing.js";
import { ShutdownError } from "../../core/retry.js";
import { crashPoint, pausePoint } from "../../durable/crash-points.js";
import type { IngestContext } from "../context.js";
import { placeOutputs } from "../processing/outputs.js";
import { processorFor, processWithRetry } from "../processing/process-file.js";
import { retryUntilDone } from "../retry.js";
import { warehouseCall } from "../warehouse-calls.js";
import {
  finishSwitched,
  REPROCESS_HEARTBEAT_MS,
  type ReprocessDeps,
  removeOutputs,
  workKey,
} from "./reprocess-finish.js";

/** How one file's reprocess came out: the new generation, or why nothing changed. */
export type ReprocessOutcome =
  | {
      ingestId: string;
      name: string;
      ok: true;
      generation: number;
      processing: ProcessingRecordV1;
    }
  | { ingestId: string; name: string | null; ok: false; code: ErrorCode; message: string };

const refuse = (code: ErrorCode, message: string) => new SluiceError(code, message);

/** Why `rec` cannot be reprocessed, or null. Checked before anything is taken or read. */
export function refusal(ctx: IngestContext, rec: FileRecord): SluiceError | null {
  if (rec.duplicateOf) {
    return refuse(
      "SLUICE_ERR_NOT_REPROCESSABLE",
      `${rec.ingestId} is a duplicate of ${rec.duplicateOf}: reprocess the original, which holds the bytes`,
    );
  }
  if (rec.state !== "done") return refuse("SLUICE_ERR_NOT_REPROCESSABLE", `${rec.ingestId} is ${rec.state}, not done`);
  if (rec.processing?.processor === "archive" || processorFor(ctx, rec.name, 0) === "archive") {
    return refuse(
      "SLUICE_ERR_NOT_REPROCESSABLE",
      `${rec.ingestId} is an archive: its members are files of their own, reprocess them by their ids`,
    );
  }
  if (!rec.warehousePath || rec.processing?.rawKept === false) {
    return refuse("SLUICE_ERR_NOT_REPROCESSABLE", `the raw bytes of ${rec.ingestId} were not kept`);
  }
  if (!processorFor(ctx, rec.name, 0)) {
    return refuse("SLUICE_ERR_NOT_REPROCESSABLE", `no processor handles ${rec.name} (not a table or a SQL dump)`);
  }
  return null;
}

/**
 * Re-derives one stored file's outputs from its raw bytes with today's processors and schema (issue 21).
 *
 * 1. The intent is taken (one reprocess per file; compare-and-set on the generation read).
 * 2. The raw bytes are fetched from the warehouse into the work area and hashed: a missing object or another
 *    SHA-256 refuses the file, nothing changed.
 * 3. The processor writes the new outputs in the work area; their final names (`RAW.gN.parquet`, …: new names,
 *    never the current ones) are recorded in the intent, then they are placed (renamed in, or uploaded).
 * 4. One transaction switches the file's processing document and generation (compare-and-set), its invalid
 *    rows and history. Readers following state see the old set before it and the new set after it, never a mix.
 * 5. The old outputs go, the `reprocessed` manifest line is written once, the intent goes (finishSwitched).
 * A kill at any point is finished or undone by the next run (recoverReprocesses).
 */
export async function reprocessFile(deps: ReprocessDeps, ingestId: string): Promise<ReprocessOutcome> {
  const { ctx, owner } = deps;
  const rec = await ctx.store.get(ingestId);
  if (!rec) return { ingestId, name: null, ok: false, code: "SLUICE_ERR_NOT_FOUND", message: `no file ${ingestId}` };
  const fail = (err: unknown): ReprocessOutcome => {
    const code =
      err instanceof SluiceError
        ? err.code
        : isErrorCode((err as { code?: unknown }).code)
          ? (err as { code: ErrorCode }).code
          : "SLUICE_ERR_INTERNAL";
    return { ingestId, name: rec.name, ok: false, code, message: (err as Error).message ?? String(err) };
  };
  const refused = refusal(ctx, rec);
  if (refused) return fail(refused);
  const from = rec.generation ?? 0;
  const start = await ctx.store.reprocessBegin(ingestId, from, owner);
  if (start.kind === "missing") return fail(refuse("SLUICE_ERR_NOT_FOUND", `no file ${ingestId}`));
  if (start.kind === "moved") {
    return fail(refuse("SLUICE_ERR_REPROCESS_BUSY", `${ingestId} moved to generation ${start.generation} meanwhile`));
  }
  if (start.kind === "busy") {
    const i = start.intent;
    return fail(
      refuse("SLUICE_ERR_REPROCESS_BUSY", `${ingestId} is being reprocessed by ${i.owner} since ${i.startedAt}`),
    );
  }
  const heartbeat = setInterval(() => {
    ctx.store.reprocessTouch(ingestId, owner).catch(() => undefined);
  }, REPROCESS_HEARTBEAT_MS);
  heartbeat.unref();
  const key = workKey(ingestId);
  let placed: string[] = [];
  let switched = false;
  try {
    const generation = from + 1;
    const processing = await derive(ctx, rec, key, generation, owner, (paths) => {
      placed = paths;
    });
    const manifestPath = deps.manifests.pathFor(new Date());
    const oldOutputs = (rec.processing?.outputs ?? []).map((o) => o.path);
    // What survives a kill here: before the commit the file is at its old generation and the intent `placing`
    // names the new outputs (recovery removes them); after it, the new generation is current and the intent
    // `switched` names the old outputs (recovery removes them and writes the manifest line).
    const won = await retryUntilDone(
      "state: reprocess switch",
      () => ctx.store.reprocessSwitch(ingestId, owner, from, processing, oldOutputs, manifestPath),
      ctx.log,
      ctx.signal,
    );
    if (won === "lost") {
      throw refuse("SLUICE_ERR_REPROCESS_BUSY", `${ingestId} moved on from generation ${from} meanwhile`);
    }
    switched = true;
    crashPoint("reprocess-after-switch");
    const intent = (await ctx.store.reprocessIntents()).find((i) => i.ingestId === ingestId);
    if (!intent) throw new Error(`internal: the switched reprocess of ${ingestId} has no intent`);
    await finishSwitched(deps, intent);
    ctx.log.info({ event: "file_reprocessed", ingest_id: ingestId, name: rec.name, generation });
    return { ingestId, name: rec.name, ok: true, generation, processing: processing.record };
  } catch (err) {
    // After the switch the new generation stands: what is left is recovery's (a later run finishes it).
    if (!switched && !(err instanceof ShutdownError)) await undo(deps, ingestId, placed);
    ctx.log.warn({ event: "reprocess_refused", ingest_id: ingestId, error: (err as Error).message });
    return fail(err);
  } finally {
    clearInterval(heartbeat);
    await ctx.work.removeTmp(key).catch(() => undefined);
  }
}

/** Steps 2 and 3: the raw bytes checked, the processor run, the new outputs recorded and placed. */
async function derive(
  ctx: IngestContext,
  rec: FileRecord,
  key: string,
  generation: number,
  owner: string,
  onPlacing: (paths: string[]) => void,
) {
  const raw = rec.warehousePath as string;
  const copy = ctx.work.tmpPathFor(key);
  await ctx.work.removeTmp(key);
  const got = await warehouseCall(ctx, "fetch raw", raw, () => ctx.warehouse.fetch(raw, copy, { signal: ctx.signal }));
  if (!got) throw refuse("SLUICE_ERR_RAW_INTEGRITY", `the stored raw file ${raw} is missing`);
  if (got.size !== rec.size || got.sha256 !== rec.sha256) {
    throw refuse(
      "SLUICE_ERR_RAW_INTEGRITY",
      `the stored raw file ${raw} has ${got.size} bytes with SHA-256 ${got.sha256}; state says ${rec.size} bytes, ${rec.sha256}`,
    );
  }
  const processed = await processWithRetry(ctx, {
    ingestId: key,
    name: rec.name,
    inputPath: copy,
    // Outputs are named after the generation (`RAW.gN.parquet`): never the current set's names.
    target: `${raw}.g${generation}`,
    sha256: rec.sha256 as string,
    depth: 0,
    sourcePath: rec.sourcePath,
    mtimeMs: rec.mtimeMs,
    members: async () => {
      throw new Error("internal: an archive is never reprocessed");
    },
  });
  if (!processed) throw refuse("SLUICE_ERR_NOT_REPROCESSABLE", `no processor handles ${rec.name}`);
  const paths = [
    ...new Set([...processed.outputs.map((o) => o.final), ...processed.result.record.outputs.map((o) => o.path)]),
  ];
  // What survives a kill here: the intent names every path the new set may occupy before any of it is placed.
  await ctx.store.reprocessPlacing(rec.ingestId, owner, paths);
  onPlacing(paths);
  const mode = ctx.warehouse.directory ? (await stat(raw)).mode : 0o644;
  await placeOutputs(ctx, key, processed.outputs, mode);
  crashPoint("reprocess-after-outputs");
  await pausePoint("reprocess-before-switch");
  return processed.result;
}

/** A reprocess that did not switch leaves nothing: its placed outputs go, then its intent. */
async function undo(deps: ReprocessDeps, ingestId: string, placed: string[]): Promise<void> {
  try {
    await removeOutputs(deps.ctx, placed);
    await deps.ctx.store.reprocessEnd(ingestId, deps.owner);
  } catch (err) {
    // Left for recovery (the intent names what to remove once this process is gone).
    deps.ctx.log.warn({ event: "reprocess_undo_failed", ingest_id: ingestId, error: (err as Error).message });
  }
}
