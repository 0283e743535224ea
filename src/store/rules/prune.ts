import { crashPoint } from "../../durable/crash-points.js";
import { ask, type Maybe, type Rule } from "./steps.js";

/**
 * `sluice prune` (issue 21): the rule, written once over both dialects' statements.
 *
 * A prunable row is a finished one (done, duplicate, failed) whose last change (`updated_at`) is older than the
 * cutoff, and that is not a member of an archive still being ingested (a replay of that archive looks its members
 * up by position), nor being reprocessed, nor a failed file whose requeue is pending. Undelivered notifications
 * are never pruned: the outbox deletes its rows as they are delivered, and an event carries its own snapshot. One batch deletes up to `limit` of them in one transaction, with everything of theirs in the
 * detail tables; an original's content row (sha256 → first ingest id) stays and takes over what dedupe needs of
 * the deleted row (its warehouse path, its ingest time), so the same bytes arriving later are still a duplicate
 * of the first ingest, and its warehouse name stays reserved. Each batch is idempotent (what it deleted is gone,
 * a rerun takes the next rows), so a kill anywhere leaves a consistent state and a rerun finishes the job.
 */

/** Terminal states: the only rows prune ever deletes. */
export const PRUNABLE_STATES = ["done", "duplicate", "failed"] as const;

/**
 * The tables that hold a file's detail, keyed by its ingest id: deleted with the file's row. A feature that adds a
 * per-file table (a file's history, delivered notifications) adds it here and prune drops its rows too.
 */
export const PRUNE_DETAIL_TABLES: readonly { table: string; key: string }[] = [
  { table: "invalid_rows", key: "ingest_id" },
  // Every generation's processing document (reprocess).
  { table: "file_history", key: "ingest_id" },
  // A pruned failed row's requeue record (only linked ones: a pending one keeps its row from being pruned).
  { table: "requeues", key: "failed_id" },
];

/** A files row as the batch's delete returned it. */
export interface PrunedRow {
  id: string;
  state: string;
  sha: string | null;
  dup: string | null;
  wp: string | null;
  at: string | null;
}

/** What a prune deleted (or, counted, would delete). */
export interface PruneTally {
  /** Files rows, by state. */
  files: { done: number; duplicate: number; failed: number };
  /** Originals whose content row now holds what dedupe needs of them. */
  originalsKept: number;
  /** Rows of each detail table (PRUNE_DETAIL_TABLES). */
  detail: Record<string, number>;
}

/** The statements the prune rule is made of, per dialect (sqlite/prune-statements.ts, postgres/prune-statements.ts). */
export interface PruneStatements {
  /**
   * Deletes up to `limit` prunable rows (oldest discovery first) and returns them. On a shared store rows being
   * changed by another transaction right now are skipped, not waited for.
   */
  deletePrunable(cutoff: string, limit: number): Maybe<PrunedRow[]>;
  /** An original's content row takes its path and ingest time, stamped pruned at `now`; returns how many. */
  keepDedupe(rows: { sha: string; id: string; wp: string | null; at: string | null }[], now: string): Maybe<number>;
  deleteDetail(table: { table: string; key: string }, ids: string[]): Maybe<number>;
  /** What deletePrunable would delete in all (no limit), with the detail rows and originals, changing nothing. */
  countPrunable(cutoff: string, detail: readonly { table: string; key: string }[]): Maybe<PruneTally>;
}

export const emptyTally = (): PruneTally => ({
  files: { done: 0, duplicate: 0, failed: 0 },
  originalsKept: 0,
  detail: Object.fromEntries(PRUNE_DETAIL_TABLES.map((t) => [t.table, 0])),
});

const isOriginal = (r: PrunedRow) => r.state === "done" && r.dup === null && r.sha !== null;

/** One batch, inside the caller's transaction: a kill before its commit undoes all of it. */
export function* pruneBatchRule(s: PruneStatements, cutoff: string, limit: number, now: string): Rule<PruneTally> {
  const out = emptyTally();
  const rows = yield* ask(s.deletePrunable(cutoff, limit));
  if (rows.length === 0) return out;
  for (const r of rows) out.files[r.state as keyof PruneTally["files"]]++;
  // What survives a kill here: nothing of this batch (one transaction); the test kills here to prove it.
  crashPoint("prune-mid-batch");
  const originals = rows.filter(isOriginal).map((r) => ({ sha: r.sha as string, id: r.id, wp: r.wp, at: r.at }));
  if (originals.length > 0) out.originalsKept = yield* ask(s.keepDedupe(originals, now));
  const ids = rows.map((r) => r.id);
  for (const t of PRUNE_DETAIL_TABLES) out.detail[t.table] = yield* ask(s.deleteDetail(t, ids));
  return out;
}

export function* countPrunableRule(s: PruneStatements, cutoff: string): Rule<PruneTally> {
  return yield* ask(s.countPrunable(cutoff, PRUNE_DETAIL_TABLES));
}

/** Adds `b` into `a`. */
export function addTally(a: PruneTally, b: PruneTally): void {
  for (const k of PRUNABLE_STATES) a.files[k] += b.files[k];
  a.originalsKept += b.originalsKept;
  for (const [t, n] of Object.entries(b.detail)) a.detail[t] = (a.detail[t] ?? 0) + n;
}

export const tallyFiles = (t: PruneTally) => t.files.done + t.files.duplicate + t.files.failed;

/** A pruned original's content row, for verify: its bytes are still in the warehouse and its line in a manifest. */
export interface PrunedOriginal {
  sha256: string;
  ingestId: string;
  warehousePath: string | null;
  ingestedAt: string | null;
  prunedAt: string;
}

/** How `reclaimSpace` gave the space of deleted rows back. */
export interface ReclaimReport {
  /** `incremental_vacuum`: SQLite returned free pages to the disk; `vacuum`: PostgreSQL VACUUM (free space map); `none`. */
  method: "incremental_vacuum" | "vacuum" | "none";
  /** Bytes still free inside the state (SQLite free pages not returned to the disk). */
  freeBytes: number;
  note: string;
}
