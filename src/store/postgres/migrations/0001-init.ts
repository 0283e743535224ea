import type { Migration } from "../../migrations.js";

// The same tables as the SQLite dialect. Text keys use the "C" collation so ORDER BY is byte order in both dialects
// (the API's keyset cursors depend on it); times stay ISO-8601 text, as in SQLite, so rows map the same way.
export const m0001: Migration = {
  version: 1,
  name: "init",
  sql: `
CREATE TABLE files (
  ingest_id      TEXT COLLATE "C" PRIMARY KEY,
  source_path    TEXT NOT NULL,
  name           TEXT NOT NULL,
  device         BIGINT NOT NULL,
  inode          BIGINT NOT NULL,
  size           BIGINT NOT NULL,
  mtime_ms       DOUBLE PRECISION NOT NULL,
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
  discovered_at  TEXT COLLATE "C" NOT NULL,
  updated_at     TEXT NOT NULL
);
-- A warehouse name is reserved by exactly one file, whichever host asks: duplicates point at their original instead.
CREATE UNIQUE INDEX files_warehouse_path ON files(warehouse_path) WHERE duplicate_of IS NULL AND warehouse_path IS NOT NULL;
CREATE INDEX files_active ON files(state) WHERE state NOT IN ('done', 'duplicate', 'failed');
-- Content dedupe across every host is enforced by this primary key, not by a read-then-write race.
CREATE TABLE contents (
  sha256    TEXT PRIMARY KEY,
  ingest_id TEXT NOT NULL
);
`,
};
