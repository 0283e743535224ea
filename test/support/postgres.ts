import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server the tests use: the machine's PostgreSQL (trust auth); `SLUICE_TEST_PG` overrides. */
export const PG_ADMIN_URL = process.env.SLUICE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, dropped afterwards. A server that
 * cannot be reached fails the test with how to start it: never a silent skip.
 */
export async function createTestDatabase(prefix = "sluice_t"): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${PG_ADMIN_URL} is not reachable (${(err as Error).message}); start it with ` +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`",
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
