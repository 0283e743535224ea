import type { Migration } from "../../migrations.js";

export const m0004: Migration = {
  version: 4,
  name: "owners",
  sql: `
-- The node that recorded a file: on start a node finishes only its own interrupted files, never another host's.
ALTER TABLE files ADD COLUMN owner TEXT;
CREATE INDEX files_owner_active ON files(owner) WHERE state NOT IN ('done', 'duplicate', 'failed');
`,
};
