import type { Migration } from "../../migrations.js";

export const m0002: Migration = {
  version: 2,
  name: "processing",
  sql: `
-- Archive members are files of their own, linked to the archive that held them.
ALTER TABLE files ADD COLUMN archive_ingest_id TEXT;
ALTER TABLE files ADD COLUMN member_path TEXT;
ALTER TABLE files ADD COLUMN member_index INTEGER;
-- JSON (ProcessingRecordV1): outputs, profiles, aggregations, status.
ALTER TABLE files ADD COLUMN processing TEXT;
-- A member is recorded once per archive ingest, whatever a crash replays: this index, not luck, holds that.
CREATE UNIQUE INDEX files_member ON files(archive_ingest_id, member_index) WHERE archive_ingest_id IS NOT NULL;
-- Every invalid row of every file, in row order (the manifest line only carries the first few).
CREATE TABLE invalid_rows (
  ingest_id TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  row       INTEGER NOT NULL,
  error     TEXT NOT NULL,
  PRIMARY KEY (ingest_id, seq)
) WITHOUT ROWID;
`,
};
