import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { newIngestId } from "../../src/core/ids.js";
import { PostgresStateStore } from "../../src/store/postgres/postgres-store.js";
import type { NewFile } from "../../src/store/state-store.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { getJson } from "./read-fixture.js";

/** The API of any node shows the whole cluster's files: node B answers for what node A ingested. */

let db: TestDatabase;
let a: PostgresStateStore;
let b: PostgresStateStore;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await PostgresStateStore.open(db.url, { node: "view-a" });
  b = await PostgresStateStore.open(db.url, { node: "view-b" });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
});

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

async function ingest(store: PostgresStateStore, name: string): Promise<string> {
  const f: NewFile = {
    ingestId: newIngestId(),
    sourcePath: `/staging/${name}`,
    name,
    device: 1,
    inode: 1,
    size: 10,
    mtimeMs: 1,
    sidecarPath: null,
  };
  const at = new Date().toISOString();
  await store.decide(f, sha(name), {
    partitionDir: "/wh/d",
    baseName: name,
    collisionName: `x.${name}`,
    ingestedAt: at,
    manifestPath: "/m/x.jsonl",
  });
  await store.markStored(f.ingestId, at, "/m/x.jsonl");
  await store.finish(f.ingestId, "done");
  return f.ingestId;
}

describe("the API on a node of a cluster", () => {
  it("lists, shows and counts files recorded by every node", async () => {
    const fromA = await ingest(a, "from-a.csv");
    const fromB = await ingest(b, "from-b.csv");
    const app = buildApp({
      store: b,
      metrics: new Metrics(),
      apiToken: null,
      ready: async () => ({ state: true, warehouse: true }),
      activity: () => ({ queueDepth: 0, inFlight: 0, pending: 0, warehouseWaiting: 0 }),
      waiting: () => undefined,
      waitingList: () => [],
    });
    try {
      const list = await getJson(app, "/api/v1/files");
      expect(list.status).toBe(200);
      expect((list.body.items as { id: string }[]).map((f) => f.id).sort()).toEqual([fromA, fromB].sort());
      const one = await getJson(app, `/api/v1/files/${fromA}`);
      expect(one.body).toMatchObject({ id: fromA, name: "from-a.csv", status: "processed" });
      const stats = await getJson(app, "/api/v1/stats");
      expect(stats.body.counts.ingested).toBe(2);
    } finally {
      await app.close();
    }
  });
});
