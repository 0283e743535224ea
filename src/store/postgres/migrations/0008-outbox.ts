import type { Migration } from "../../migrations.js";

export const m0008: Migration = {
  version: 8,
  name: "outbox",
  sql: `
-- The transactional outbox: one row per (event, target), written in the transaction that commits the state it
-- reports, deleted once the target acknowledged it. next_at and lease_until are epoch milliseconds on the
-- database's clock (the one clock every node shares); a row leased by a node is delivered by that node alone
-- until lease_until passes (claimed with FOR UPDATE SKIP LOCKED).
CREATE TABLE outbox (
  event_id    TEXT NOT NULL,
  target      TEXT NOT NULL,
  ingest_id   TEXT NOT NULL,
  type        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     BIGINT NOT NULL DEFAULT 0,
  last_error  TEXT,
  lease_owner TEXT,
  lease_until BIGINT,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX outbox_due ON outbox(next_at);
`,
};
