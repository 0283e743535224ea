import type { Pool } from "pg";
import { type Migration, SchemaTooNewError } from "../migrations.js";

/** Any constant works: every sluice node takes the same key, so two nodes starting together migrate one at a time. */
const MIGRATION_LOCK = 0x736c7569; // "slui"

/**
 * Applies pending migrations under an advisory lock, each in its own
 * transaction with its row inserted first, and refuses to run against a
 * schema newer than this build knows (an older node must not write rows a
 * newer schema reads differently).
 */
export async function migratePostgres(pool: Pool, migrations: readonly Migration[]): Promise<void> {
  const client = await pool.connect();
  // Errors surface through the failing query; the event alone must not crash the process.
  const onError = () => {};
  client.on("error", onError);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      const { rows } = await client.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations");
      const current = rows[0]?.v ?? 0;
      const known = migrations.at(-1)?.version ?? 0;
      if (current > known) {
        throw new SchemaTooNewError(
          `state schema version ${current} is newer than this sluice knows (${known}): upgrade sluice`,
        );
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query("BEGIN");
        try {
          await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
            m.version,
            m.name,
            new Date().toISOString(),
          ]);
          await client.query(m.sql);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.off("error", onError);
    client.release();
  }
}
