import type { Migration } from "../../migrations.js";

export const m0003: Migration = {
  version: 3,
  name: "newest-first",
  sql: `CREATE INDEX files_newest ON files(discovered_at DESC, ingest_id DESC);`,
};
