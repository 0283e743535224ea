import type { Migration } from "../../migrations.js";

export const m0009: Migration = {
  version: 9,
  name: "prune",
  sql: `
-- The same columns as the SQLite dialect (see its 0009): a pruned original's path, ingest time and prune time.
ALTER TABLE contents ADD COLUMN warehouse_path TEXT;
ALTER TABLE contents ADD COLUMN ingested_at TEXT;
ALTER TABLE contents ADD COLUMN pruned_at TEXT;
-- A pruned original's warehouse name stays reserved: decide() asks this index before giving a name out.
CREATE INDEX contents_warehouse_path ON contents(warehouse_path) WHERE warehouse_path IS NOT NULL;
`,
};
