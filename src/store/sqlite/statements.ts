import type Database from "better-sqlite3";

/** Every statement the store runs, prepared once per connection. */
export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare(`INSERT OR IGNORE INTO files (ingest_id, source_path, name, device, inode, size, mtime_ms, state,
      sidecar_path, discovered_at, updated_at, archive_ingest_id, member_path, member_index) VALUES (@ingestId,
      @sourcePath, @name, @device, @inode, @size, @mtimeMs, 'discovered', @sidecarPath, @now, @now, @archiveIngestId,
      @memberPath, @memberIndex)`),
    deleteFile: db.prepare("DELETE FROM files WHERE ingest_id = ? AND state IN ('discovered', 'hashed')"),
    // A content whose original's row was pruned answers "pruned", with the path its content row kept (rules/decide).
    owner: db.prepare(`SELECT c.ingest_id AS id, COALESCE(f.state, 'pruned') AS state,
      CASE WHEN f.ingest_id IS NULL THEN c.warehouse_path ELSE f.warehouse_path END AS wp
      FROM contents c LEFT JOIN files f ON f.ingest_id = c.ingest_id
      WHERE c.sha256 = ? AND (f.ingest_id IS NOT NULL OR c.pruned_at IS NOT NULL)`),
    // A claim taken by an earlier file stays its: the rules see which claims were won by the change count.
    claimIfFree: db.prepare("INSERT OR IGNORE INTO contents (sha256, ingest_id) VALUES (?, ?)"),
    release: db.prepare("DELETE FROM contents WHERE ingest_id = ?"),
    // Reserved by a stored original, or by a pruned one (its content row keeps the path).
    pathTaken:
      db.prepare(`SELECT 1 FROM files WHERE warehouse_path = @path AND duplicate_of IS NULL AND ingest_id != @id
      UNION ALL SELECT 1 FROM contents WHERE warehouse_path = @path AND ingest_id != @id LIMIT 1`),
    setHashed: db.prepare(`UPDATE files SET state = 'hashed', sha256 = @sha, warehouse_path = @wp,
      duplicate_of = @dup, ingested_at = @at, manifest_path = @mp, updated_at = @now WHERE ingest_id = @id`),
    setRehashed: db.prepare(`UPDATE files SET sha256 = @sha, size = @size, mtime_ms = @mtimeMs, duplicate_of = @dup,
      warehouse_path = @wp, ingested_at = @at, manifest_path = @mp, updated_at = @now WHERE ingest_id = @id`),
    setRehashedKeepPath: db.prepare(`UPDATE files SET sha256 = @sha, size = @size, mtime_ms = @mtimeMs,
      duplicate_of = @dup, ingested_at = @at, manifest_path = @mp, updated_at = @now WHERE ingest_id = @id`),
    setPath: db.prepare("UPDATE files SET warehouse_path = ?, updated_at = ? WHERE ingest_id = ?"),
    setStored: db.prepare(`UPDATE files SET state = 'stored', ingested_at = ?, manifest_path = ?, updated_at = ?
      WHERE ingest_id = ?`),
    // An archive whose bytes are not kept gives its reserved name back; its content claim stays, so a re-sent
    // copy is still a duplicate.
    dropPath: db.prepare("UPDATE files SET warehouse_path = NULL WHERE ingest_id = ?"),
    setProcessing: db.prepare("UPDATE files SET processing = ? WHERE ingest_id = ?"),
    // A replayed store (recovery) rewrites the list rather than appending to it.
    clearInvalid: db.prepare("DELETE FROM invalid_rows WHERE ingest_id = ?"),
    addInvalid: db.prepare("INSERT INTO invalid_rows (ingest_id, seq, row, error) VALUES (?, ?, ?, ?)"),
    invalidPage: db.prepare("SELECT row, error FROM invalid_rows WHERE ingest_id = ? ORDER BY seq LIMIT ? OFFSET ?"),
    invalidCount: db.prepare("SELECT COUNT(*) AS n FROM invalid_rows WHERE ingest_id = ?"),
    member: db.prepare("SELECT * FROM files WHERE archive_ingest_id = ? AND member_index = ?"),
    setState: db.prepare("UPDATE files SET state = ?, updated_at = ? WHERE ingest_id = ?"),
    // Quarantine happens before anything is stored, so the reserved warehouse name is given back.
    setQuarantine: db.prepare(`UPDATE files SET state = 'quarantine', error_code = ?, error_message = ?,
      attempts = ?, error_path = ?, warehouse_path = NULL, updated_at = ? WHERE ingest_id = ?`),
    get: db.prepare("SELECT * FROM files WHERE ingest_id = ?"),
    active: db.prepare(
      "SELECT * FROM files WHERE state NOT IN ('done', 'duplicate', 'failed') ORDER BY discovered_at, ingest_id",
    ),
    counts: db.prepare("SELECT state, COUNT(*) AS n FROM files GROUP BY state"),
    outboxInsert: db.prepare(`INSERT OR IGNORE INTO outbox (event_id, target, ingest_id, type, payload, created_at)
      VALUES (@eventId, @target, @ingestId, @type, @payload, @createdAt)`),
    outboxDelete: db.prepare("DELETE FROM outbox WHERE event_id = ? AND target = ?"),
    outboxRetry: db.prepare(`UPDATE outbox SET attempts = @attempts, next_at = @nextAt, last_error = @error,
      lease_owner = NULL, lease_until = NULL WHERE event_id = @eventId AND target = @target`),
    // One process per SQLite state: what is due is its to deliver, without a lease (it settles a round before
    // it reads the next).
    outboxDue: db.prepare(`SELECT event_id, target, ingest_id, type, payload, created_at, attempts FROM outbox
      WHERE next_at <= ? AND target IN (SELECT value FROM json_each(?)) ORDER BY next_at LIMIT ?`),
    outboxBacklog: db.prepare(
      "SELECT target, COUNT(*) AS pending, MIN(created_at) AS oldest_at FROM outbox GROUP BY target ORDER BY target",
    ),
    // Reprocess (issue 21).
    fileGeneration: db.prepare("SELECT generation, state FROM files WHERE ingest_id = ?"),
    insertIntent: db.prepare(`INSERT OR IGNORE INTO reprocessing (ingest_id, generation, phase, owner, started_at,
      heartbeat_at) VALUES (@id, @generation, 'writing', @owner, @now, @now)`),
    getIntent: db.prepare("SELECT * FROM reprocessing WHERE ingest_id = ?"),
    intents: db.prepare("SELECT * FROM reprocessing ORDER BY started_at, ingest_id"),
    setIntent: db.prepare(`UPDATE reprocessing SET phase = @phase, new_outputs = COALESCE(@newOutputs, new_outputs),
      old_outputs = COALESCE(@oldOutputs, old_outputs), manifest_path = COALESCE(@manifestPath, manifest_path),
      heartbeat_at = @now WHERE ingest_id = @id AND owner = @owner`),
    touchIntent: db.prepare(`UPDATE reprocessing SET owner = @newOwner, heartbeat_at = @now
      WHERE ingest_id = @id AND owner = @owner`),
    deleteIntent: db.prepare("DELETE FROM reprocessing WHERE ingest_id = ? AND owner = ?"),
    historyFromFile: db.prepare(`INSERT OR IGNORE INTO file_history (ingest_id, generation, recorded_at, kind,
      processing) SELECT ingest_id, generation, COALESCE(ingested_at, @now), @kind, processing FROM files
      WHERE ingest_id = @id AND generation = @generation`),
    switchGeneration: db.prepare(`UPDATE files SET generation = @from + 1 WHERE ingest_id = @id
      AND generation = @from AND state = 'done'`),
    insertHistory: db.prepare(`INSERT OR IGNORE INTO file_history (ingest_id, generation, recorded_at, kind, processing)
      VALUES (@id, @generation, @now, @kind, @processing)`),
    history: db.prepare(
      "SELECT generation, recorded_at, kind, processing FROM file_history WHERE ingest_id = ? ORDER BY generation",
    ),
    // Requeue (migration 0006).
    requeueTarget: db.prepare(`SELECT state, name, sha256, archive_ingest_id AS archiveIngestId,
      member_path AS memberPath FROM files WHERE ingest_id = ?`),
    requeueIntent: db.prepare(`SELECT failed_id AS failedId, name, sha256, requested_at AS requestedAt,
      new_id AS newId FROM requeues WHERE failed_id = ?`),
    insertRequeue: db.prepare(`INSERT OR IGNORE INTO requeues (failed_id, name, sha256, requested_at)
      VALUES (@failedId, @name, @sha256, @requestedAt)`),
    deleteRequeue: db.prepare("DELETE FROM requeues WHERE failed_id = ? AND new_id IS NULL"),
    pendingRequeues: db.prepare(`SELECT failed_id AS failedId, name, sha256, requested_at AS requestedAt,
      new_id AS newId FROM requeues WHERE name = ? AND new_id IS NULL ORDER BY requested_at, failed_id`),
    linkRequeue: db.prepare("UPDATE requeues SET new_id = ?, linked_at = ? WHERE failed_id = ? AND new_id IS NULL"),
    setRequeuedFrom: db.prepare("UPDATE files SET requeued_from = ? WHERE ingest_id = ?"),
    setRequeuedTo: db.prepare("UPDATE files SET requeued_to = ? WHERE ingest_id = ?"),
    unlinkRequeue: db.prepare("UPDATE requeues SET new_id = NULL, linked_at = NULL WHERE new_id = ?"),
    clearRequeuedTo: db.prepare("UPDATE files SET requeued_to = NULL WHERE requeued_to = ?"),
    failedFiles: db.prepare(`SELECT * FROM files WHERE state = 'failed' AND requeued_to IS NULL
      AND error_path IS NOT NULL AND (@code IS NULL OR error_code = @code) AND (@since IS NULL OR updated_at >= @since)
      AND (@afterAt IS NULL OR (updated_at, ingest_id) > (@afterAt, @afterId))
      ORDER BY updated_at, ingest_id LIMIT @limit`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Opens a connection with the durability settings every sluice connection uses. */
export function configure(db: Database.Database): void {
  // First: the writer thread opens its connection while the main thread may be committing (see StartupWriter).
  db.pragma("busy_timeout = 5000");
  // Before WAL (which fixes the file's header): a new database frees the pages `sluice prune` empties back to the
  // disk a slice at a time while the service runs (PRAGMA incremental_vacuum). On an existing database this only
  // records the wish; it stays as it was (NONE for one created before this) until a VACUUM with sluice stopped.
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  // FULL: the WAL is fsynced at every commit, so a returned commit survives power loss, not just kill -9.
  db.pragma("synchronous = FULL");
}
