import type { Migration } from "../../migrations.js";

export const m0006: Migration = {
  version: 6,
  name: "requeue",
  sql: `
-- A requeued file's new attempt links back to the failed row (requeued_from) and the failed row forward to it
-- (requeued_to). The unique index is what makes "one new attempt per failed row" a property of the state itself.
ALTER TABLE files ADD COLUMN requeued_from TEXT;
ALTER TABLE files ADD COLUMN requeued_to TEXT;
CREATE UNIQUE INDEX files_requeued_from ON files(requeued_from) WHERE requeued_from IS NOT NULL;
-- The durable intent of \`sluice requeue\`: the failed row is handed back under \`name\` (its bytes expected to be
-- \`sha256\` when known); the pipeline's decide links the first matching file to it and sets new_id.
CREATE TABLE requeues (
  failed_id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  sha256 TEXT,
  requested_at TEXT NOT NULL,
  new_id TEXT,
  linked_at TEXT
);
CREATE INDEX requeues_pending ON requeues(name) WHERE new_id IS NULL;
`,
};
