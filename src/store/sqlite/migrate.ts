import type { Database } from "better-sqlite3";
import { type Migration, SchemaTooNewError } from "../migrations.js";

/**
 * Applies pending migrations, each in its own transaction with its row written
 * first, and refuses to run against a schema newer than this build knows.
 */
export function migrate(db: Database, migrations: readonly Migration[]): void {
  // A new database frees the pages `sluice prune` empties back to the disk, a few at a time, while the service
  // runs (PRAGMA incremental_vacuum). auto_vacuum can only be chosen before the first table exists; an older
  // database keeps NONE until someone VACUUMs it with the service stopped (docs/operations.md, "Day two: prune").
  const empty = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
  if (empty) db.pragma("auto_vacuum = INCREMENTAL");
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null };
  const current = row.v ?? 0;
  const known = migrations.at(-1)?.version ?? 0;
  if (current > known) {
    throw new SchemaTooNewError(
      `state schema version ${current} is newer than this sluice knows (${known}): upgrade sluice`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.exec(m.sql);
    })();
  }
}
