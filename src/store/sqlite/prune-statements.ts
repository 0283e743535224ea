import type Database from "better-sqlite3";
import { PRUNABLE_STATES, type PrunedRow, type PruneStatements, type PruneTally } from "../rules/prune.js";

const TERMINAL = PRUNABLE_STATES.map((s) => `'${s}'`).join(", ");

/**
 * Which rows prune may delete (rules/prune.ts): finished, last changed before the cutoff, and not a member of an
 * archive still in flight, nor a file being reprocessed (its intent row holds its outputs' names) or a failed file
 * whose requeue is pending (the pipeline links its new attempt to that row). `discovered_at < cutoff` follows from the rest (a row is changed after it is discovered)
 * and bounds the walk of files_newest, oldest first.
 */
export const PRUNABLE_WHERE = `f.state IN (${TERMINAL}) AND f.updated_at < @cutoff AND f.discovered_at < @cutoff
  AND (f.archive_ingest_id IS NULL OR NOT EXISTS (SELECT 1 FROM files a WHERE a.ingest_id = f.archive_ingest_id
    AND a.state NOT IN (${TERMINAL})))
  AND NOT EXISTS (SELECT 1 FROM reprocessing r WHERE r.ingest_id = f.ingest_id)
  AND NOT EXISTS (SELECT 1 FROM requeues q WHERE q.failed_id = f.ingest_id AND q.new_id IS NULL)`;

/** The prune rule's statements on the embedded file: run inside one immediate transaction per batch. */
export function sqlitePruneStatements(db: Database.Database): PruneStatements {
  const del = db.prepare(`DELETE FROM files WHERE ingest_id IN (SELECT f.ingest_id FROM files f WHERE ${PRUNABLE_WHERE}
    ORDER BY f.discovered_at, f.ingest_id LIMIT @limit)
    RETURNING ingest_id AS id, state, sha256 AS sha, duplicate_of AS dup, warehouse_path AS wp, ingested_at AS at`);
  const keep = db.prepare(`UPDATE contents SET warehouse_path = @wp, ingested_at = @at, pruned_at = @now
    WHERE sha256 = @sha AND ingest_id = @id`);
  const counts = db.prepare(`SELECT f.state AS state, COUNT(*) AS n,
    SUM(CASE WHEN f.state = 'done' AND f.duplicate_of IS NULL AND f.sha256 IS NOT NULL THEN 1 ELSE 0 END) AS kept
    FROM files f WHERE ${PRUNABLE_WHERE} GROUP BY f.state`);
  const detailStmts = new Map<string, { del: Database.Statement; count: Database.Statement }>();
  const detail = (t: { table: string; key: string }) => {
    let d = detailStmts.get(t.table);
    if (!d) {
      d = {
        del: db.prepare(`DELETE FROM ${t.table} WHERE ${t.key} = ?`),
        count: db.prepare(
          `SELECT COUNT(*) AS n FROM ${t.table} WHERE ${t.key} IN (SELECT f.ingest_id FROM files f WHERE ${PRUNABLE_WHERE})`,
        ),
      };
      detailStmts.set(t.table, d);
    }
    return d;
  };
  return {
    deletePrunable: (cutoff, limit) => del.all({ cutoff, limit }) as PrunedRow[],
    keepDedupe: (rows, now) => rows.reduce((n, r) => n + keep.run({ ...r, now }).changes, 0),
    deleteDetail: (t, ids) => ids.reduce((n, id) => n + detail(t).del.run(id).changes, 0),
    countPrunable: (cutoff, tables) => {
      const out: PruneTally = { files: { done: 0, duplicate: 0, failed: 0 }, originalsKept: 0, detail: {} };
      for (const r of counts.all({ cutoff }) as { state: keyof PruneTally["files"]; n: number; kept: number }[]) {
        out.files[r.state] = r.n;
        out.originalsKept += r.kept;
      }
      for (const t of tables) out.detail[t.table] = (detail(t).count.get({ cutoff }) as { n: number }).n;
      return out;
    },
  };
}
