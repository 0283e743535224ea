import type { Migration } from "../../migrations.js";

export const m0005: Migration = {
  version: 5,
  name: "leases",
  sql: `
-- Used by the PostgreSQL dialect, where several nodes share the state; one SQLite file has one node. Kept here so
-- both dialects have the same tables at the same version.
CREATE TABLE nodes (
  node_id TEXT PRIMARY KEY, session TEXT NOT NULL, started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL
);
CREATE TABLE claims (source_key TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until TEXT NOT NULL);
CREATE INDEX files_active_name ON files(name) WHERE state NOT IN ('done', 'duplicate', 'failed');
`,
};
