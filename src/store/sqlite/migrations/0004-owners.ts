import type { Migration } from "../../migrations.js";

export const m0004: Migration = {
  version: 4,
  name: "owners",
  sql: `
-- The node that recorded a file (PostgreSQL, many nodes). One SQLite file has one writer, so it stays NULL here;
-- the column keeps both dialects' schemas the same.
ALTER TABLE files ADD COLUMN owner TEXT;
`,
};
