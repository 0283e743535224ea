import type Database from "better-sqlite3";
import type { FileRecord } from "../../core/file-record.js";
import { type FileRow, toRecord } from "../row-mapping.js";
import type { FileQuery } from "../state-store.js";

/**
 * Newest-first pages of files, for the API. Keyset pagination on
 * (discovered_at, ingest_id) — the index of migration 0003, so ORDER BY is an
 * index walk — rather than OFFSET: a page deep in a long history costs what
 * the first does, and rows committed between two requests neither shift nor
 * repeat the rows of later pages.
 */
export class FileLister {
  // One statement per query shape (which filters are present); there are only a handful.
  private readonly prepared = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    // SQLite's LIKE and lower() fold ASCII only, and file names are often not ASCII.
    db.function("sluice_fold", { deterministic: true }, (s: unknown) =>
      typeof s === "string" ? s.toLowerCase() : null,
    );
  }

  list(q: FileQuery): FileRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.states) {
      if (q.states.length === 0) return [];
      where.push(`state IN (${q.states.map(() => "?").join(", ")})`);
      params.push(...q.states);
    }
    // partial/processed is the processing document's verdict, not a state; IS / IS NOT also match a NULL document.
    if (q.doneAs === "partial") where.push("(state != 'done' OR json_extract(processing, '$.status') IS 'partial')");
    if (q.doneAs === "processed") {
      where.push("(state != 'done' OR json_extract(processing, '$.status') IS NOT 'partial')");
    }
    if (q.nameContains) {
      where.push("instr(sluice_fold(name), ?) > 0");
      params.push(q.nameContains.toLowerCase());
    }
    if (q.after) {
      where.push("(discovered_at, ingest_id) < (?, ?)");
      params.push(q.after.discoveredAt, q.after.ingestId);
    }
    const sql = `SELECT * FROM files${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
      ORDER BY discovered_at DESC, ingest_id DESC LIMIT ?`;
    let stmt = this.prepared.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.prepared.set(sql, stmt);
    }
    return (stmt.all(...params, q.limit) as FileRow[]).map(toRecord);
  }
}
