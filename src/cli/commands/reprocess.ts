import type { RunConfig } from "../../config/config.js";
import { SluiceError } from "../../core/errors.js";
import { ManifestWriter } from "../../manifest/manifest-writer.js";
import { type ReprocessOutcome, refusal, reprocessFile } from "../../pipeline/reprocess/reprocess-file.js";
import {
  newOwner,
  type ReprocessDeps,
  recoverReprocesses,
  reprocessManifestName,
} from "../../pipeline/reprocess/reprocess-finish.js";
import { sinceInstant, storedSince } from "../../pipeline/reprocess/select.js";
import { createLogger } from "../../telemetry/logger.js";
import { wire } from "../wire.js";
import { loadRunConfig } from "./run.js";

/** One file's line of the text report. */
function line(o: ReprocessOutcome): string {
  if (!o.ok) return `${o.ingestId} ${o.name ?? ""} refused: ${o.code}: ${o.message}\n`;
  const rows = o.processing.outputs
    .filter((x) => x.profile)
    .map((x) => `${x.table ? `${x.table}: ` : ""}${x.profile?.rowCount} rows`)
    .join(", ");
  const invalid = o.processing.invalidCount ? `, ${o.processing.invalidCount} invalid` : "";
  return `${o.ingestId} ${o.name} → generation ${o.generation} (${o.processing.status}: ${rows || "no table"}${invalid})\n`;
}

/**
 * `sluice reprocess ID… | --since TIME [--schema NAME|FILE]`: re-derives stored files' outputs from their raw
 * bytes with today's processors and schema (pipeline/reprocess/). Safe beside a running `sluice run`/`serve`
 * on the same state, and on several nodes. Exit 0: every file reprocessed (or none selected); 1: some refused;
 * 2: unusable setup or arguments.
 */
export async function reprocessCommand(ids: string[], flags: Record<string, unknown>): Promise<number> {
  const config = loadRunConfig(flags);
  if (typeof config === "number") return config;
  const since = typeof flags.since === "string" ? flags.since : "";
  let sinceMs: number | null = null;
  try {
    if (since) sinceMs = sinceInstant(since);
    if (ids.length === 0 && sinceMs === null) {
      throw new SluiceError("SLUICE_ERR_CONFIG", "name the files to reprocess (ID…) or select them with --since");
    }
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    return 2;
  }
  // The report is stdout; the log goes to stderr.
  const log = createLogger(config.logLevel === "debug" ? "debug" : "warn", 2);
  let wired: Awaited<ReturnType<typeof wire>>;
  try {
    wired = await wire({ ...config, once: true } as RunConfig, log, { prometheus: false });
  } catch (err) {
    process.stderr.write(`sluice: cannot start: ${(err as Error).message}\n`);
    return 2;
  }
  const { ctx } = wired;
  const deps: ReprocessDeps = {
    ctx,
    manifests: new ManifestWriter(config.manifests, ctx.dirs, reprocessManifestName(ctx)),
    owner: newOwner(),
  };
  const stop = () => wired.abort.abort();
  process.once("SIGINT", stop).once("SIGTERM", stop);
  // Its `sluice.file.reprocessed` events are delivered from here too (a flush of at most 5 s at the end, as
  // `run --once` does); what is left waits in the outbox for the next run or serve with the same targets.
  wired.outbox?.start();
  const results: ReprocessOutcome[] = [];
  try {
    await recoverReprocesses(deps);
    let targets = ids;
    if (sinceMs !== null) {
      // --since selects what a processor handles today; a plain file in the range is not a refusal.
      const picked = (await storedSince(ctx.store, sinceMs)).filter((r) => refusal(ctx, r) === null);
      targets = [...new Set([...ids, ...picked.map((r) => r.ingestId)])];
    }
    for (const id of targets) {
      const o = await reprocessFile(deps, id);
      results.push(o);
      if (!flags.json) process.stdout.write(line(o));
    }
  } finally {
    await deps.manifests.close();
    await wired.outbox?.stop(5_000);
    await wired.close();
  }
  const refused = results.filter((r) => !r.ok).length;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ version: 1, reprocessed: results.length - refused, refused, results })}\n`,
    );
  } else if (results.length === 0) {
    process.stdout.write("nothing to reprocess\n");
  }
  return refused > 0 ? 1 : 0;
}
