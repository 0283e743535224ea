import type { Migration } from "../../migrations.js";

export const m0003: Migration = {
  version: 3,
  name: "newest-first",
  sql: `
-- The API lists files newest first with keyset pagination: this index makes each page an index walk, not a sort.
CREATE INDEX files_newest ON files(discovered_at DESC, ingest_id DESC);
`,
};
