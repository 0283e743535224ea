import { DirSyncer } from "../durable/fsync.js";
import { UploadRegistry } from "../service/upload-registry.js";
import type { StateStore } from "../store/state-store.js";
import { Metrics } from "../telemetry/metrics.js";
import type { ApiDeps } from "./deps.js";
import { buildServeApp } from "./serve-app.js";

/**
 * The OpenAPI document of the app `sluice serve` runs (its routes and the
 * upload route), built without listening: what `npm run docs:api` writes to
 * docs/openapi.json, and what a test compares that copy with.
 */

// The app is built and read, never asked: any use of what it would serve from is a mistake, said loudly.
const unused = (what: string) => () => {
  throw new Error(`the OpenAPI document build answers no request (${what} used)`);
};
const noStore = new Proxy({} as StateStore, { get: (_t, key) => unused(`store.${String(key)}`) });

export async function generateOpenApiDocument(): Promise<Record<string, unknown>> {
  const deps: ApiDeps = {
    store: noStore,
    metrics: new Metrics(),
    apiToken: null,
    ready: unused("ready"),
    activity: unused("activity"),
    waiting: unused("waiting"),
    waitingList: unused("waitingList"),
  };
  const app = buildServeApp(deps, {
    upload: {
      input: "/nonexistent",
      registry: new UploadRegistry(),
      dirs: new DirSyncer(),
      offer: unused("offer"),
      maxUploadBytes: 1,
      isIgnored: unused("isIgnored"),
    },
    requeue: { requeue: unused("requeue") },
    reprocess: { reprocess: unused("reprocess") },
  });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** The document as committed: two-space JSON and a final newline. */
export async function openApiJson(): Promise<string> {
  return `${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`;
}
