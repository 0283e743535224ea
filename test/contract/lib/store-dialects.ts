import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newIngestId } from "../../../src/core/ids.js";
import { PostgresStateStore } from "../../../src/store/postgres/postgres-store.js";
import { SqliteStateStore } from "../../../src/store/sqlite/sqlite-store.js";
import type { NewFile, PlacementRequest, StateStore } from "../../../src/store/state-store.js";
import { createTestDatabase, type TestDatabase } from "../../support/postgres.js";

/**
 * The state-store dialects every contract suite runs against (the embedded SQLite file, a real PostgreSQL
 * server), and the fixtures they share.
 */

export interface Dialect {
  name: string;
  open(node?: string): Promise<StateStore>;
  cleanup(): Promise<void>;
}

export const sha = (s: string) => createHash("sha256").update(s).digest("hex");
let seq = 0;
export const file = (name: string, extra: Partial<NewFile> = {}): NewFile => ({
  ingestId: newIngestId(),
  sourcePath: `/staging/${name}`,
  name,
  device: 2049,
  inode: 9_000_000_000 + seq++,
  size: 1234,
  mtimeMs: 1_795_000_000_123.5,
  sidecarPath: null,
  ...extra,
});
export const place = (name: string, content: string): PlacementRequest => ({
  partitionDir: "/wh/ingest_date=2026-11-24",
  baseName: name,
  collisionName: `${sha(content).slice(0, 12)}.${name}`,
  ingestedAt: "2026-11-24T10:00:00.000Z",
  manifestPath: "/manifests/2026/11/24/10/manifest.jsonl",
});

export async function storeAll(s: StateStore, f: NewFile, content: string) {
  const p = place(f.name, content);
  const d = await s.decide(f, sha(content), p);
  if (d.kind !== "new") throw new Error(`expected new, got ${d.kind}`);
  await s.markStored(f.ingestId, p.ingestedAt, p.manifestPath);
  await s.markManifested(f.ingestId);
  await s.finish(f.ingestId, "done");
  return d.warehousePath;
}

export function sqliteDialect(): Dialect {
  const dir = mkdtempSync(join(tmpdir(), "sluice-store-"));
  const opened: StateStore[] = [];
  return {
    name: "sqlite",
    async open() {
      const s = new SqliteStateStore(join(dir, "state.db"), { writerThread: false });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresDialect(): Dialect {
  let db: TestDatabase | null = null;
  const opened: StateStore[] = [];
  return {
    name: "postgres",
    async open(node = "node-a") {
      db ??= await createTestDatabase();
      const s = await PostgresStateStore.open(db.url, { node });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => {});
      await db?.drop();
    },
  };
}
