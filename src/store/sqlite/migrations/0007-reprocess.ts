import type { Migration } from "../../migrations.js";

export const m0007: Migration = {
  version: 7,
  name: "reprocess",
  sql: `
-- Reprocess (issue 21): which generation of derived outputs is current (0: those of the ingest).
ALTER TABLE files ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
-- Every generation's processing document, kept when a newer one replaces it.
CREATE TABLE file_history (
  ingest_id   TEXT NOT NULL,
  generation  INTEGER NOT NULL,
  recorded_at TEXT NOT NULL,
  kind        TEXT NOT NULL,
  processing  TEXT,
  PRIMARY KEY (ingest_id, generation)
);
-- A reprocess in flight (at most one per file): who runs it, how far it got, and what it placed or must remove,
-- so that a restart after a kill removes a half-written output set or finishes a switched one.
CREATE TABLE reprocessing (
  ingest_id     TEXT NOT NULL PRIMARY KEY,
  generation    INTEGER NOT NULL,
  phase         TEXT NOT NULL,
  owner         TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  heartbeat_at  TEXT NOT NULL,
  new_outputs   TEXT,
  old_outputs   TEXT,
  manifest_path TEXT
);
`,
};
