import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { makeSandbox, type Sandbox } from "./sandbox.js";

/** The state stores a pipeline test runs against: the embedded SQLite file and a real PostgreSQL server. */
export const STORES = ["sqlite", "postgres"] as const;
export type StoreKind = (typeof STORES)[number];

/**
 * Sandboxes (and PostgreSQL databases) made for a test file, cleaned up by `cleanup()` in its afterEach: each
 * test on PostgreSQL gets a database of its own, dropped after it.
 */
export function storeSandboxes() {
  const sandboxes: Sandbox[] = [];
  const databases: TestDatabase[] = [];
  return {
    async make(store: StoreKind, opts: Parameters<typeof makeSandbox>[0] = {}): Promise<Sandbox> {
      let stateUrl: string | undefined;
      if (store === "postgres") {
        const db = await createTestDatabase("sluice_crash");
        databases.push(db);
        stateUrl = db.url;
      }
      const s = makeSandbox({ ...opts, ...(stateUrl ? { stateUrl } : {}) });
      sandboxes.push(s);
      return s;
    },
    async cleanup(): Promise<void> {
      for (const s of sandboxes.splice(0)) s.cleanup();
      for (const d of databases.splice(0)) await d.drop();
    },
  };
}
