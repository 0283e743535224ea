import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { createInterface } from "node:readline";
import { MANIFEST_INVALID_ROWS, type ManifestLineV1 } from "../../core/manifest-line.js";
import { crashPoint } from "../../durable/crash-points.js";
import type { ManifestWriter } from "../../manifest/manifest-writer.js";
import type { ReprocessIntent } from "../../store/state-store.js";
import type { IngestContext } from "../context.js";
import { retryUntilDone } from "../retry.js";
import { manifestLine } from "../stages/finish.js";
import { warehouseCall } from "../warehouse-calls.js";

/** What a reprocess runs with: the pipeline's context, the writer of `reprocessed` lines, who this process is. */
export interface ReprocessDeps {
  ctx: IngestContext;
  /** Writes `MANIFESTS/…/HH/manifest[.NODE].reprocessed.jsonl`: only reprocesses append there. */
  manifests: ManifestWriter;
  /** `host:pid:token`: the intent's owner, by which a cut-off reprocess is told from a live one. */
  owner: string;
}

/** The file name of the hourly file `reprocessed` lines go to (beside the ingest's `manifest[.NODE].jsonl`). */
export function reprocessManifestName(ctx: IngestContext): string {
  return ctx.store.capabilities.multiWriter
    ? `manifest.${ctx.config.nodeId}.reprocessed.jsonl`
    : "manifest.reprocessed.jsonl";
}

/** A heartbeat older than this from another host means its reprocess was cut off (same host: its pid is gone). */
export const REPROCESS_LEASE_MS = 120_000;
/** How often a running reprocess proves it is alive. */
export const REPROCESS_HEARTBEAT_MS = 20_000;

/** The work-area key of a file's reprocess: its raw copy and the outputs being built, apart from an ingest's. */
export function workKey(ingestId: string): string {
  return `${ingestId}.reprocess`;
}

export function newOwner(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(16).slice(2, 10)}`;
}

/** Was the reprocess holding `intent` cut off (killed), so that its intent is ours to finish or undo? */
export function isCutOff(intent: ReprocessIntent, now = Date.now()): boolean {
  const [host, pidText] = intent.owner.split(":");
  if (host === hostname()) {
    const pid = Number(pidText);
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
    } catch {
      // ESRCH: no such process. EPERM: a process of another user has the pid now, so ours is gone too.
      return true;
    }
  }
  return now - Date.parse(intent.heartbeatAt) > REPROCESS_LEASE_MS;
}

/** Removes outputs no current state names (the previous generation, or a half-written set); safe to repeat. */
export async function removeOutputs(ctx: IngestContext, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await warehouseCall(ctx, "remove output", path, () => ctx.warehouse.remove(path, { signal: ctx.signal }));
  }
}

/** Does `path` hold the `reprocessed` line of this file's generation already? (A kill may have come after it.) */
async function lineWritten(path: string, ingestId: string, generation: number): Promise<boolean> {
  if (!(await stat(path).catch(() => null))) return false;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of rl) {
    if (!text.includes(ingestId)) continue;
    try {
      const l = JSON.parse(text) as ManifestLineV1;
      if (l.ingest_id === ingestId && l.status === "reprocessed" && l.generation === generation) return true;
    } catch {
      // A torn tail is cut by repairTail before this is asked; anything else is not our line.
    }
  }
  return false;
}

/**
 * Everything after the switch commit, for a live reprocess and for the recovery of a cut-off one alike: the
 * previous generation's outputs go, then the file's one `reprocessed` line for this generation is appended
 * (looked for first: a kill after the append must not double it), then the intent row goes. Each step is safe to
 * repeat, so a kill anywhere here is finished by the next run.
 */
export async function finishSwitched(deps: ReprocessDeps, intent: ReprocessIntent): Promise<void> {
  const { ctx } = deps;
  // What survives a kill here: the switch is committed; readers follow state, which names only the new outputs.
  await removeOutputs(ctx, intent.oldOutputs);
  crashPoint("reprocess-after-old-removed");
  const path = intent.manifestPath;
  if (!path) throw new Error(`internal: switched reprocess of ${intent.ingestId} has no manifest path`);
  if (await deps.manifests.repairTail(path)) ctx.log.warn({ event: "manifest_tail_repaired", path });
  if (!(await lineWritten(path, intent.ingestId, intent.generation))) {
    const rec = await ctx.store.get(intent.ingestId);
    if (!rec) throw new Error(`internal: reprocessed file ${intent.ingestId} has no row`);
    const invalid = await ctx.store.invalidRows(rec.ingestId, 0, MANIFEST_INVALID_ROWS);
    const line: ManifestLineV1 = {
      ...manifestLine(rec, invalid),
      status: "reprocessed",
      generation: intent.generation,
      reprocessed_at: intent.heartbeatAt,
    };
    // What survives a kill here: the line is durable (fdatasync) once append resolves; a kill before it leaves the
    // intent `switched`, and recovery looks for the line before writing it.
    await retryUntilDone("manifest: append", () => deps.manifests.append(path, line), ctx.log, ctx.signal);
  }
  crashPoint("reprocess-after-manifest");
  await retryUntilDone(
    "state: reprocess end",
    () => ctx.store.reprocessEnd(intent.ingestId, deps.owner),
    ctx.log,
    ctx.signal,
  );
}

/**
 * Finishes or undoes every reprocess that was cut off (its process killed): `writing` left nothing in the
 * warehouse; `placing` may have left part of the new outputs, which go; `switched` is finished. Run before a
 * reprocess starts and by `sluice run`/`serve` at start. A live reprocess (its process alive, or its heartbeat
 * recent) is left alone; taking an intent over is a compare-and-set on its owner, so two recoveries never both act.
 */
export async function recoverReprocesses(deps: ReprocessDeps): Promise<number> {
  const { ctx } = deps;
  let n = 0;
  for (const intent of await ctx.store.reprocessIntents()) {
    if (!isCutOff(intent)) continue;
    if (!(await ctx.store.reprocessTouch(intent.ingestId, intent.owner, deps.owner))) continue;
    ctx.log.info({
      event: "reprocess_recovered",
      ingest_id: intent.ingestId,
      phase: intent.phase,
      generation: intent.generation,
    });
    if (intent.phase === "switched") {
      await finishSwitched(deps, intent);
    } else {
      await removeOutputs(ctx, intent.newOutputs);
      await ctx.work.removeTmp(workKey(intent.ingestId));
      await ctx.store.reprocessEnd(intent.ingestId, deps.owner);
    }
    n++;
  }
  return n;
}
