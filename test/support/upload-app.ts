import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/api/app.js";
import { uploadRoutes } from "../../src/api/routes/upload.js";
import { DirSyncer } from "../../src/durable/fsync.js";
import { UploadRegistry } from "../../src/service/upload-registry.js";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import type { Candidate } from "../../src/watch/candidate.js";
import { makeIgnoreRule } from "../../src/watch/ignore-rules.js";

/** The upload route in a Fastify app of its own (app.inject, no socket), over a real staging directory and store. */
export interface UploadApp {
  app: FastifyInstance;
  staging: string;
  store: SqliteStateStore;
  registry: UploadRegistry;
  /** What the route handed to the pipeline, in order. */
  offered: Candidate[];
  close(): Promise<void>;
}

export async function uploadApp(
  root: string,
  opts: { apiToken?: string | null; maxUploadBytes: number; isIgnored?: (name: string) => boolean },
): Promise<UploadApp> {
  const staging = join(root, "staging");
  mkdirSync(staging, { recursive: true });
  const store = new SqliteStateStore(join(root, "state.db"), { writerThread: false });
  const registry = new UploadRegistry();
  const offered: Candidate[] = [];
  const app = buildApp(
    {
      store,
      metrics: new Metrics(),
      apiToken: opts.apiToken ?? null,
      ready: async () => ({ state: true, warehouse: true }),
      activity: () => ({ queueDepth: offered.length, inFlight: 0, pending: 0, warehouseWaiting: 0 }),
      waiting: (id) => registry.get(id),
      waitingList: () => registry.list(),
    },
    {
      plugins: [
        uploadRoutes({
          input: staging,
          registry,
          dirs: new DirSyncer(),
          offer: (c) => offered.push(c),
          maxUploadBytes: opts.maxUploadBytes,
          isIgnored: opts.isIgnored ?? makeIgnoreRule([]),
        }),
      ],
    },
  );
  await app.ready();
  return {
    app,
    staging,
    store,
    registry,
    offered,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
