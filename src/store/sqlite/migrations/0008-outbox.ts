import type { Migration } from "../../migrations.js";

export const m0008: Migration = {
  version: 8,
  name: "outbox",
  sql: `
-- The transactional outbox (docs/operations.md "Day two: notifications"): one row per (event, target), written in
-- the transaction that commits the state it reports, deleted once the target acknowledged it. Times that the
-- delivery loop compares are epoch milliseconds (next_at, lease_until): the same type in both dialects.
CREATE TABLE outbox (
  event_id    TEXT NOT NULL,
  target      TEXT NOT NULL,
  ingest_id   TEXT NOT NULL,
  type        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  lease_owner TEXT,
  lease_until INTEGER,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX outbox_due ON outbox(next_at);
`,
};
