import type { Migration } from "../../migrations.js";

export const m0005: Migration = {
  version: 5,
  name: "leases",
  sql: `
-- Nodes prove they are alive here; a node silent for longer than the lease has its unfinished files adopted.
-- One running process per node id: a process's session replaces the previous one only after it fell silent.
CREATE TABLE nodes (
  node_id      TEXT PRIMARY KEY,
  session      TEXT NOT NULL,
  started_at   TIMESTAMPTZ NOT NULL,
  heartbeat_at TIMESTAMPTZ NOT NULL
);
-- A staging name is worked on by one node at a time (several nodes watching one shared directory). Times come
-- from the database's clock, the one clock every node shares.
CREATE TABLE claims (
  source_key  TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  lease_until TIMESTAMPTZ NOT NULL
);
CREATE INDEX claims_owner ON claims(owner);
-- "Is some node still finishing a file of this name?": asked before every claim is used.
CREATE INDEX files_active_name ON files(name) WHERE state NOT IN ('done', 'duplicate', 'failed');
`,
};
