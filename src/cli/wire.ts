import { setMaxListeners } from "node:events";
import type { RunConfig } from "../config/config.js";
import { Limiter } from "../core/limiter.js";
import { DirSyncer } from "../durable/fsync.js";
import { Hasher } from "../hashing/hasher.js";
import { HashWorkerPool } from "../hashing/worker-pool.js";
import { ManifestWriter } from "../manifest/manifest-writer.js";
import type { IngestContext } from "../pipeline/context.js";
import { ErrorDirectory } from "../quarantine/error-directory.js";
import { SqliteStateStore } from "../store/sqlite/sqlite-store.js";
import type { Logger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import { LocalWarehouse } from "../warehouse/local-warehouse.js";
import { openS3Warehouse } from "./open-s3.js";

export interface Wired {
  ctx: IngestContext;
  abort: AbortController;
  close(): Promise<void>;
}

/** The one place that picks the concrete store, warehouse and hasher. */
export async function wire(config: RunConfig, log: Logger): Promise<Wired> {
  const abort = new AbortController();
  // Every file in flight may wait on this signal (S3 requests, retry sleeps): hundreds of listeners are normal.
  setMaxListeners(0, abort.signal);
  // First, before anything holds the process open: a refused bucket or key is a clean exit.
  const objects = config.s3 ? await openS3Warehouse(config.s3, log, abort.signal, { dryRun: config.dryRun }) : null;
  const dirs = new DirSyncer();
  // Dry runs keep state in memory only: nothing may be written to disk.
  const store = new SqliteStateStore(config.dryRun ? ":memory:" : config.statePath);
  const pool = new HashWorkerPool(config.hashWorkers);
  // With S3 the local warehouse is only the work area; files are read where they are, never copied there first.
  const warehouse = config.s3
    ? new LocalWarehouse(config.scratch, dirs, { tmpDir: config.scratch, copies: false })
    : new LocalWarehouse(config.warehouse, dirs);
  const errorsDir = new ErrorDirectory(config.errors, dirs);
  const manifests = new ManifestWriter(config.manifests, dirs);
  if (!config.dryRun) {
    await warehouse.open();
    await errorsDir.open();
  }
  const ctx: IngestContext = {
    config,
    store,
    hasher: new Hasher(pool, config.inlineHashMaxBytes),
    warehouse,
    objects,
    manifests,
    errorsDir,
    dirs,
    log,
    metrics: new Metrics(),
    signal: abort.signal,
    converts: new Limiter(1),
    uploads: null,
  };
  return {
    ctx,
    abort,
    async close() {
      await manifests.close();
      await store.close();
      await pool.close();
      if (objects) {
        // Uploads cut off by faults during the run: aborted now rather than left to the next start.
        await objects.sink.abortOrphans().catch(() => undefined);
        objects.sink.close();
      }
    },
  };
}
