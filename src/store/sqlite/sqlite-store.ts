import Database from "better-sqlite3";
import type { FileRecord } from "../../core/file-record.js";
import { Batcher } from "../../durable/batcher.js";
import type { Decision, ErrorInfo, NewFile, PlacementRequest, StateStore } from "../state-store.js";
import { migrate } from "./migrate.js";
import { SQLITE_MIGRATIONS } from "./migrations/index.js";
import { type FileRow, toRecord } from "./row-mapping.js";

type Op = (db: Database.Database) => unknown;

const FINISHED_OWNER_STATES = new Set(["stored", "manifested", "done"]);

/**
 * The embedded state store: one SQLite file in WAL mode with synchronous=FULL,
 * so a commit that returned survives kill -9 and power loss. Mutations from
 * many files are group-committed: one transaction (one WAL fsync) per batch,
 * each operation in its own savepoint so one failing op does not undo others.
 */
export class SqliteStateStore implements StateStore {
  readonly capabilities = { multiWriter: false };
  private readonly db: Database.Database;
  private readonly batcher: Batcher<Op, unknown>;
  private readonly stmt;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    migrate(this.db, SQLITE_MIGRATIONS);
    const db = this.db;
    this.stmt = {
      insert: db.prepare(`INSERT INTO files (ingest_id, source_path, name, device, inode, size, mtime_ms, state,
        sidecar_path, discovered_at, updated_at) VALUES (@ingestId, @sourcePath, @name, @device, @inode, @size,
        @mtimeMs, 'discovered', @sidecarPath, @now, @now)`),
      deleteFile: db.prepare("DELETE FROM files WHERE ingest_id = ? AND state = 'discovered'"),
      owner: db.prepare(`SELECT c.ingest_id AS id, f.state AS state, f.warehouse_path AS wp
        FROM contents c JOIN files f ON f.ingest_id = c.ingest_id WHERE c.sha256 = ?`),
      claim: db.prepare("INSERT INTO contents (sha256, ingest_id) VALUES (?, ?)"),
      release: db.prepare("DELETE FROM contents WHERE ingest_id = ?"),
      pathTaken: db.prepare("SELECT 1 FROM files WHERE warehouse_path = ? AND duplicate_of IS NULL AND ingest_id != ?"),
      setHashed: db.prepare(`UPDATE files SET state = 'hashed', sha256 = @sha, warehouse_path = @wp,
        duplicate_of = @dup, ingested_at = @at, manifest_path = @mp, updated_at = @now WHERE ingest_id = @id`),
      setRehashed: db.prepare(`UPDATE files SET sha256 = @sha, size = @size, mtime_ms = @mtimeMs, duplicate_of = @dup,
        warehouse_path = @wp, ingested_at = @at, manifest_path = @mp, updated_at = @now WHERE ingest_id = @id`),
      setPath: db.prepare("UPDATE files SET warehouse_path = ?, updated_at = ? WHERE ingest_id = ?"),
      setStored: db.prepare(`UPDATE files SET state = 'stored', ingested_at = ?, manifest_path = ?, updated_at = ?
        WHERE ingest_id = ?`),
      setState: db.prepare("UPDATE files SET state = ?, updated_at = ? WHERE ingest_id = ?"),
      // Quarantine happens before anything is stored, so the reserved warehouse name is given back.
      setQuarantine: db.prepare(`UPDATE files SET state = 'quarantine', error_code = ?, error_message = ?,
        attempts = ?, error_path = ?, warehouse_path = NULL, updated_at = ? WHERE ingest_id = ?`),
      get: db.prepare("SELECT * FROM files WHERE ingest_id = ?"),
      active: db.prepare(
        "SELECT * FROM files WHERE state NOT IN ('done', 'duplicate', 'failed') ORDER BY discovered_at, ingest_id",
      ),
      counts: db.prepare("SELECT state, COUNT(*) AS n FROM files GROUP BY state"),
    };
    const runOne = db.transaction((op: Op) => op(db));
    this.batcher = new Batcher<Op, unknown>((ops) => {
      const results: unknown[] = [];
      // Outer transaction = one commit = one fsync for the whole batch.
      db.transaction(() => {
        for (const op of ops) {
          try {
            results.push(runOne(op));
          } catch (err) {
            results.push(err instanceof Error ? err : new Error(String(err)));
          }
        }
      })();
      return results;
    });
  }

  private run<T>(op: (db: Database.Database) => T): Promise<T> {
    return this.batcher.submit(op) as Promise<T>;
  }

  recordDiscovered(f: NewFile): Promise<void> {
    const now = new Date().toISOString();
    return this.run(() => {
      this.stmt.insert.run({ ...f, now });
    });
  }

  forget(ingestId: string): Promise<void> {
    return this.run(() => {
      this.stmt.deleteFile.run(ingestId);
    });
  }

  decide(ingestId: string, sha256: string, p: PlacementRequest): Promise<Decision> {
    return this.run((): Decision => {
      const now = new Date().toISOString();
      const owner = this.stmt.owner.get(sha256) as { id: string; state: string; wp: string } | undefined;
      if (owner && owner.id !== ingestId) {
        if (!FINISHED_OWNER_STATES.has(owner.state)) return { kind: "wait", ownerId: owner.id };
        this.stmt.setHashed.run({
          id: ingestId,
          sha: sha256,
          wp: owner.wp,
          dup: owner.id,
          at: p.ingestedAt,
          mp: p.manifestPath,
          now,
        });
        return { kind: "duplicate", duplicateOf: owner.id, warehousePath: owner.wp };
      }
      if (!owner) this.stmt.claim.run(sha256, ingestId);
      let wp = `${p.partitionDir}/${p.baseName}`;
      if (this.stmt.pathTaken.get(wp, ingestId)) wp = `${p.partitionDir}/${p.collisionName}`;
      this.stmt.setHashed.run({ id: ingestId, sha: sha256, wp, dup: null, at: null, mp: null, now });
      return { kind: "new", warehousePath: wp };
    });
  }

  rehash(
    ingestId: string,
    sha256: string,
    now: { size: number; mtimeMs: number },
    at: { ingestedAt: string; manifestPath: string },
  ): Promise<"new" | "duplicate" | "wait"> {
    return this.run(() => {
      const owner = this.stmt.owner.get(sha256) as { id: string; state: string; wp: string } | undefined;
      if (owner && owner.id !== ingestId && !FINISHED_OWNER_STATES.has(owner.state)) return "wait";
      const ts = new Date().toISOString();
      this.stmt.release.run(ingestId);
      if (owner && owner.id !== ingestId) {
        this.stmt.setRehashed.run({
          id: ingestId,
          sha: sha256,
          ...now,
          dup: owner.id,
          wp: owner.wp,
          at: at.ingestedAt,
          mp: at.manifestPath,
          now: ts,
        });
        return "duplicate";
      }
      this.stmt.claim.run(sha256, ingestId);
      const cur = this.stmt.get.get(ingestId) as FileRow;
      this.stmt.setRehashed.run({
        id: ingestId,
        sha: sha256,
        ...now,
        dup: null,
        wp: cur.warehouse_path,
        at: null,
        mp: null,
        now: ts,
      });
      return "new";
    });
  }

  reassignPath(ingestId: string, warehousePath: string): Promise<void> {
    return this.run(() => {
      this.stmt.setPath.run(warehousePath, new Date().toISOString(), ingestId);
    });
  }

  markStored(ingestId: string, ingestedAt: string, manifestPath: string): Promise<void> {
    return this.run(() => {
      this.stmt.setStored.run(ingestedAt, manifestPath, new Date().toISOString(), ingestId);
    });
  }

  markManifested(ingestId: string): Promise<void> {
    return this.setState(ingestId, "manifested");
  }

  finish(ingestId: string, state: "done" | "duplicate"): Promise<void> {
    return this.setState(ingestId, state);
  }

  finishFailed(ingestId: string): Promise<void> {
    return this.setState(ingestId, "failed");
  }

  private setState(ingestId: string, state: string): Promise<void> {
    return this.run(() => {
      this.stmt.setState.run(state, new Date().toISOString(), ingestId);
    });
  }

  beginQuarantine(ingestId: string, e: ErrorInfo, errorPath: string | null): Promise<void> {
    return this.run(() => {
      this.stmt.release.run(ingestId);
      this.stmt.setQuarantine.run(e.code, e.message, e.attempts, errorPath, new Date().toISOString(), ingestId);
    });
  }

  get(ingestId: string): FileRecord | undefined {
    const row = this.stmt.get.get(ingestId) as FileRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  activeRecords(): FileRecord[] {
    return (this.stmt.active.all() as FileRow[]).map(toRecord);
  }

  countByState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.stmt.counts.all() as { state: string; n: number }[]) out[r.state] = r.n;
    return out;
  }

  async close(): Promise<void> {
    await this.batcher.drain();
    this.db.close();
  }
}
