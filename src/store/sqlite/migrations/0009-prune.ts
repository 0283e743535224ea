import type { Migration } from "../../migrations.js";

export const m0009: Migration = {
  version: 9,
  name: "prune",
  sql: `
-- sluice prune (issue 21) deletes old finished files rows; what duplicate detection needs of a pruned original
-- moves to its content row in the same transaction: where its bytes are, when they were ingested, and when it was
-- pruned (NULL while the files row is there: the row speaks for itself then).
ALTER TABLE contents ADD COLUMN warehouse_path TEXT;
ALTER TABLE contents ADD COLUMN ingested_at TEXT;
ALTER TABLE contents ADD COLUMN pruned_at TEXT;
-- A pruned original's warehouse name stays reserved: decide() asks this index before giving a name out.
CREATE INDEX contents_warehouse_path ON contents(warehouse_path) WHERE warehouse_path IS NOT NULL;
`,
};
