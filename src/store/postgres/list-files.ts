import type { Pool } from "pg";
import type { FileRecord } from "../../core/file-record.js";
import { type FileRow, toRecord } from "../row-mapping.js";
import type { FileQuery } from "../state-store.js";

/**
 * Newest-first pages of files for the API: the same keyset pagination on
 * (discovered_at, ingest_id) as the SQLite dialect, over the index of
 * migration 0003; both keys use the "C" collation, so the order is byte order.
 */
export async function listFiles(pool: Pool, q: FileQuery): Promise<FileRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.states) {
    if (q.states.length === 0) return [];
    where.push(`state = ANY(${param(q.states)}::text[])`);
  }
  // partial/processed is the processing document's verdict, not a state; a NULL document is "processed".
  if (q.doneAs === "partial") where.push("(state <> 'done' OR (processing::jsonb ->> 'status') = 'partial')");
  if (q.doneAs === "processed") {
    where.push("(state <> 'done' OR (processing::jsonb ->> 'status') IS DISTINCT FROM 'partial')");
  }
  if (q.nameContains) where.push(`strpos(lower(name), ${param(q.nameContains.toLowerCase())}) > 0`);
  if (q.after) where.push(`(discovered_at, ingest_id) < (${param(q.after.discoveredAt)}, ${param(q.after.ingestId)})`);
  const sql = `SELECT * FROM files${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
    ORDER BY discovered_at DESC, ingest_id DESC LIMIT ${param(q.limit)}`;
  const { rows } = await pool.query<FileRow>(sql, params);
  return rows.map(toRecord);
}
