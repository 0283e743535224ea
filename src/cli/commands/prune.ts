import type { RunConfig } from "../../config/config.js";
import { showDuration } from "../../config/units.js";
import { SluiceError } from "../../core/errors.js";
import { crashPoint } from "../../durable/crash-points.js";
import { addTally, emptyTally, type PruneTally, type ReclaimReport, tallyFiles } from "../../store/rules/prune.js";
import type { StateStore } from "../../store/state-store.js";
import { createLogger } from "../../telemetry/logger.js";
import { humanBytes } from "../client/format.js";
import { openState } from "../open-state.js";
import { commandConfig, requireState } from "./command-config.js";

/** `prune --json`: one document. */
export interface PruneReport {
  version: 1;
  dry_run: boolean;
  /** Files rows last changed before this instant were pruned (or, dry run, would be). */
  cutoff: string;
  older_than_ms: number;
  /** Rows deleted (dry run: that would be) per table; `files` by state too. */
  rows_deleted: { files: number; files_by_state: PruneTally["files"] } & Record<string, unknown>;
  /** Originals whose content row now holds what dedupe needs (first ingest id, warehouse path, ingest time). */
  originals_kept: number;
  batches: number;
  files_before: number;
  files_after: number;
  bytes: {
    before: number;
    after: number;
    /** Free pages left inside the state (SQLite without incremental vacuum). */
    free: number;
    per_file_before: number | null;
    /** `after` over the files the state knew before the prune: what each ingested file costs now. */
    per_file_after: number | null;
    /** `after` over the files rows that remain. */
    per_remaining_file: number | null;
  };
  reclaim: ReclaimReport | null;
}

const per = (bytes: number, files: number) => (files > 0 ? Math.round(bytes / files) : null);
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * `sluice prune --older-than DURATION [--dry-run]`: deletes finished files rows (done, duplicate, failed) last
 * changed longer ago than DURATION, with their detail (invalid rows, processing document, archive member rows),
 * keeping what dedupe needs in the content rows; then gives the space back as far as it can beside a running
 * service. Batches of `--prune-batch-rows`, one short transaction each: safe while `run`/`serve` uses the same
 * state, and a kill anywhere leaves a consistent state that a rerun finishes. Exit 0 done, 2 unusable setup (or
 * a prune cut short by the state: what was pruned is consistent, rerun it).
 */
export async function pruneCommand(flags: Record<string, unknown>): Promise<number> {
  let config: RunConfig;
  let olderThanMs: number;
  let batchRows: number;
  try {
    const read = commandConfig(flags, ["olderThan", "pruneBatchRows"]);
    config = read.config;
    const o = read.options;
    if (o.from.olderThan === "default") {
      throw new SluiceError("SLUICE_ERR_CONFIG", "--older-than is required, e.g. --older-than 90d");
    }
    olderThanMs = o.values.olderThan;
    batchRows = o.values.pruneBatchRows;
    requireState(config);
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    return 2;
  }
  const log = createLogger("warn", 2);
  for (const warning of config.warnings) log.warn({ event: "config_warning", warning });
  const dryRun = config.dryRun;
  let store: StateStore;
  try {
    // The real state even for a dry run (run's --dry-run means an in-memory state): a dry prune only counts.
    store = await openState({ ...config, dryRun: false }, log);
  } catch (err) {
    process.stderr.write(`sluice: cannot prune: ${(err as Error).message}\n`);
    return 2;
  }
  const cutoff = new Date(Date.now() - olderThanMs).toISOString();
  const tally = emptyTally();
  let batches = 0;
  try {
    const filesBefore = total(await store.countByState());
    const bytesBefore = await store.stateBytes();
    let reclaim: ReclaimReport | null = null;
    if (dryRun) addTally(tally, await store.countPrunable(cutoff));
    else {
      for (;;) {
        const t = await store.pruneBatch(cutoff, batchRows);
        if (tallyFiles(t) === 0) break;
        addTally(tally, t);
        batches++;
        // What survives a kill here: every committed batch; a rerun takes the rows left.
        crashPoint("prune-after-batch");
      }
      reclaim = await store.reclaimSpace();
    }
    const filesAfter = total(await store.countByState());
    const bytesAfter = await store.stateBytes();
    const report: PruneReport = {
      version: 1,
      dry_run: dryRun,
      cutoff,
      older_than_ms: olderThanMs,
      rows_deleted: { files: tallyFiles(tally), files_by_state: tally.files, ...tally.detail },
      originals_kept: tally.originalsKept,
      batches,
      files_before: filesBefore,
      files_after: filesAfter,
      bytes: {
        before: bytesBefore,
        after: bytesAfter,
        free: reclaim?.freeBytes ?? 0,
        per_file_before: per(bytesBefore, filesBefore),
        per_file_after: per(bytesAfter, filesBefore),
        per_remaining_file: per(bytesAfter, filesAfter),
      },
      reclaim,
    };
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : renderPrune(report, tally));
    return 0;
  } catch (err) {
    process.stderr.write(
      `sluice: prune stopped after ${tallyFiles(tally)} files in ${batches} batches: ${(err as Error).message}; ` +
        "what was pruned is consistent, run it again to finish\n",
    );
    return 2;
  } finally {
    await store.close();
  }
}

function renderPrune(r: PruneReport, t: PruneTally): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const f = t.files;
  const detail = Object.entries(t.detail)
    .map(([table, k]) => `${n(k)} ${table}`)
    .join(", ");
  const verb = r.dry_run ? "would delete" : "deleted";
  const out = [
    `sluice prune${r.dry_run ? " (dry run: nothing changed)" : ""}: files finished before ${r.cutoff} ` +
      `(older than ${showDuration(r.older_than_ms)})`,
    `  ${verb}: ${n(r.rows_deleted.files)} files (${n(f.done)} done, ${n(f.duplicate)} duplicates, ` +
      `${n(f.failed)} failed)${detail ? `, ${detail}` : ""}`,
    `  kept for duplicate detection: ${n(r.originals_kept)} originals (SHA-256, first ingest id, warehouse path)`,
    `  state: ${humanBytes(r.bytes.before)} → ${humanBytes(r.bytes.after)} for ${n(r.files_before)} files ` +
      `(${n(r.bytes.per_file_before ?? 0)} → ${n(r.bytes.per_file_after ?? 0)} bytes per file); ` +
      `${n(r.files_after)} files rows remain`,
  ];
  if (r.reclaim) out.push(`  space: ${r.reclaim.method}: ${r.reclaim.note}`);
  return `${out.join("\n")}\n`;
}
