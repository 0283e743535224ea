import type { PoolClient } from "pg";
import { PRUNABLE_STATES, type PrunedRow, type PruneStatements, type PruneTally } from "../rules/prune.js";

const TERMINAL = PRUNABLE_STATES.map((s) => `'${s}'`).join(", ");

/** The same predicate as the SQLite dialect's PRUNABLE_WHERE ($1: the cutoff). */
const PRUNABLE_WHERE = `f.state IN (${TERMINAL}) AND f.updated_at < $1 AND f.discovered_at < $1
  AND (f.archive_ingest_id IS NULL OR NOT EXISTS (SELECT 1 FROM files a WHERE a.ingest_id = f.archive_ingest_id
    AND a.state NOT IN (${TERMINAL})))
  AND NOT EXISTS (SELECT 1 FROM reprocessing r WHERE r.ingest_id = f.ingest_id)
  AND NOT EXISTS (SELECT 1 FROM requeues q WHERE q.failed_id = f.ingest_id AND q.new_id IS NULL)`;

/**
 * The prune rule's statements on a shared PostgreSQL state, on the batch's connection inside its transaction. The
 * rows are locked as they are chosen (`FOR UPDATE SKIP LOCKED`): a row another node is changing right now is left
 * for a later batch rather than deleted under it or waited for.
 */
export function postgresPruneStatements(c: PoolClient): PruneStatements {
  const q = async (text: string, values: unknown[]) => (await c.query(text, values)).rows as Record<string, unknown>[];
  return {
    deletePrunable: async (cutoff, limit) =>
      (await q(
        `DELETE FROM files WHERE ingest_id IN (SELECT f.ingest_id FROM files f WHERE ${PRUNABLE_WHERE}
           ORDER BY f.discovered_at, f.ingest_id LIMIT $2 FOR UPDATE OF f SKIP LOCKED)
         RETURNING ingest_id AS id, state, sha256 AS sha, duplicate_of AS dup, warehouse_path AS wp, ingested_at AS at`,
        [cutoff, limit],
      )) as unknown as PrunedRow[],
    keepDedupe: async (rows, now) =>
      (
        await q(
          `UPDATE contents c SET warehouse_path = t.wp, ingested_at = t.at, pruned_at = $5
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(sha, id, wp, at)
            WHERE c.sha256 = t.sha AND c.ingest_id = t.id RETURNING c.sha256`,
          [rows.map((r) => r.sha), rows.map((r) => r.id), rows.map((r) => r.wp), rows.map((r) => r.at), now],
        )
      ).length,
    deleteDetail: async (t, ids) =>
      (await c.query(`DELETE FROM ${t.table} WHERE ${t.key} = ANY($1::text[])`, [ids])).rowCount ?? 0,
    countPrunable: async (cutoff, tables) => {
      const out: PruneTally = { files: { done: 0, duplicate: 0, failed: 0 }, originalsKept: 0, detail: {} };
      const rows = await q(
        `SELECT f.state, COUNT(*)::int AS n,
           COUNT(*) FILTER (WHERE f.state = 'done' AND f.duplicate_of IS NULL AND f.sha256 IS NOT NULL)::int AS kept
           FROM files f WHERE ${PRUNABLE_WHERE} GROUP BY f.state`,
        [cutoff],
      );
      for (const r of rows) {
        out.files[r.state as keyof PruneTally["files"]] = r.n as number;
        out.originalsKept += r.kept as number;
      }
      for (const t of tables) {
        const [r] = await q(
          `SELECT COUNT(*)::int AS n FROM ${t.table} WHERE ${t.key} IN (SELECT f.ingest_id FROM files f WHERE ${PRUNABLE_WHERE})`,
          [cutoff],
        );
        out.detail[t.table] = (r?.n as number) ?? 0;
      }
      return out;
    },
  };
}
