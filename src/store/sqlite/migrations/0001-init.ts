import type { Migration } from "../../migrations.js";

export const m0001: Migration = {
  version: 1,
  name: "init",
  sql: `
CREATE TABLE files (
  ingest_id      TEXT PRIMARY KEY,
  source_path    TEXT NOT NULL,
  name           TEXT NOT NULL,
  device         INTEGER NOT NULL,
  inode          INTEGER NOT NULL,
  size           INTEGER NOT NULL,
  mtime_ms       REAL NOT NULL,
  sha256         TEXT,
  state          TEXT NOT NULL,
  warehouse_path TEXT,
  duplicate_of   TEXT,
  sidecar_path   TEXT,
  ingested_at    TEXT,
  manifest_path  TEXT,
  error_code     TEXT,
  error_message  TEXT,
  error_path     TEXT,
  attempts       INTEGER NOT NULL DEFAULT 0,
  discovered_at  TEXT NOT NULL,
  updated_at     TEXT NOT NULL
) WITHOUT ROWID; -- one B-tree keyed by the (time-ordered) ingest id: updates by id touch one tree, not two
-- A warehouse name is reserved by exactly one file: duplicates point at their original instead.
CREATE UNIQUE INDEX files_warehouse_path ON files(warehouse_path) WHERE duplicate_of IS NULL AND warehouse_path IS NOT NULL;
CREATE INDEX files_active ON files(state) WHERE state NOT IN ('done', 'duplicate', 'failed');
-- Content dedupe is enforced by this primary key, not by a read-then-write race.
CREATE TABLE contents (
  sha256    TEXT PRIMARY KEY,
  ingest_id TEXT NOT NULL
) WITHOUT ROWID;
`,
};
