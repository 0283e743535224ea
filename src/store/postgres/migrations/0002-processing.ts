import type { Migration } from "../../migrations.js";

export const m0002: Migration = {
  version: 2,
  name: "processing",
  sql: `
ALTER TABLE files ADD COLUMN archive_ingest_id TEXT;
ALTER TABLE files ADD COLUMN member_path TEXT;
ALTER TABLE files ADD COLUMN member_index INTEGER;
ALTER TABLE files ADD COLUMN processing TEXT;
CREATE UNIQUE INDEX files_member ON files(archive_ingest_id, member_index) WHERE archive_ingest_id IS NOT NULL;
CREATE TABLE invalid_rows (
  ingest_id TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  row       BIGINT NOT NULL,
  error     TEXT NOT NULL,
  PRIMARY KEY (ingest_id, seq)
);
`,
};
