import { setMaxListeners } from "node:events";
import { join } from "node:path";
import type { RunConfig } from "../config/config.js";
import { Limiter } from "../core/limiter.js";
import { DirSyncer } from "../durable/fsync.js";
import { hashPath } from "../hashing/hash-path.js";
import { Hasher } from "../hashing/hasher.js";
import { HashWorkerPool } from "../hashing/worker-pool.js";
import { ManifestWriter } from "../manifest/manifest-writer.js";
import type { OutboxWorker } from "../notify/outbox-worker.js";
import type { IngestContext } from "../pipeline/context.js";
import { WarmDuck } from "../processors/tabular/warm-duck.js";
import { ErrorDirectory } from "../quarantine/error-directory.js";
import type { Logger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import { LocalWarehouse } from "../warehouse/local/local-warehouse.js";
import type { Warehouse } from "../warehouse/warehouse.js";
import { WorkArea } from "../warehouse/work-area.js";
import { openNotify } from "./open-notify.js";
import { openState } from "./open-state.js";

export interface Wired {
  ctx: IngestContext;
  abort: AbortController;
  /** Delivers notifications (--notify); null without targets. Started and stopped by the service. */
  outbox: OutboxWorker | null;
  close(): Promise<void>;
}

/** The one place that picks the concrete store, warehouse and hasher. */
export async function wire(
  config: RunConfig,
  log: Logger,
  /** `sluice serve` exposes /metrics; `sluice run` has no reader for the Prometheus instruments. */
  opts: { prometheus: boolean } = { prometheus: true },
): Promise<Wired> {
  const abort = new AbortController();
  // Every file in flight may wait on this signal (S3 requests, retry sleeps): hundreds of listeners are normal.
  setMaxListeners(0, abort.signal);
  // First, before anything holds the process open: a refused bucket or key is a clean exit.
  // Imported only for an S3 warehouse: the AWS SDK takes ~80 ms to load, a tenth of a small-file `--once` run.
  const remote = config.s3
    ? await (await import("./open-s3.js")).openS3Warehouse(config.s3, log, abort.signal, { dryRun: config.dryRun })
    : null;
  const dirs = new DirSyncer();
  const store = await openState(config, log);
  const pool = new HashWorkerPool(config.hashWorkers);
  const hasher = new Hasher(pool, config.inlineHashMaxBytes);
  // With S3 the work area is the scratch directory; files are read where they are, never copied there first.
  // Nodes sharing a warehouse (or a host's scratch directory) each get a work area of their own: recovery empties
  // its node's area at start, which must never touch another node's files in flight.
  const tmpBase = config.s3 ? config.scratch : join(config.warehouse, ".sluice-tmp");
  const work = new WorkArea(store.capabilities.multiWriter ? join(tmpBase, config.nodeId) : tmpBase);
  const local = remote
    ? null
    : new LocalWarehouse(config.warehouse, dirs, {
        tmpDir: work.tmpDir,
        mode: config.warehouseMode,
        hash: (path) => hashPath(hasher, path),
      });
  const warehouse: Warehouse = remote ?? (local as LocalWarehouse);
  const errorsDir = new ErrorDirectory(config.errors, dirs);
  // One manifest file per node and hour when several nodes share the state (and so the manifest tree).
  const manifests = new ManifestWriter(
    config.manifests,
    dirs,
    store.capabilities.multiWriter ? `manifest.${config.nodeId}.jsonl` : "manifest.jsonl",
  );
  if (!config.dryRun) {
    await work.open();
    await local?.open();
    await errorsDir.open();
  }
  const metrics = new Metrics({ prometheus: opts.prometheus });
  let outbox: OutboxWorker | null;
  try {
    outbox = await openNotify(config, store, log, metrics);
  } catch (err) {
    await store.close();
    await pool.close();
    await warehouse.close();
    throw err;
  }
  const ctx: IngestContext = {
    config,
    store,
    hasher,
    warehouse,
    work,
    manifests,
    errorsDir,
    dirs,
    log,
    metrics,
    signal: abort.signal,
    converts: new Limiter(1),
    duck: new WarmDuck(),
    uploads: null,
  };
  return {
    ctx,
    abort,
    outbox,
    async close() {
      ctx.duck.close();
      await manifests.close();
      await store.close();
      await pool.close();
      await warehouse.close();
    },
  };
}
