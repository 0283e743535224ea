import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Wired } from "../../src/cli/wire.js";
import { checkDirectories, createDirectories } from "../../src/config/check-dirs.js";
import type { RunConfig } from "../../src/config/config.js";
import { resolveRunConfig } from "../../src/config/resolve.js";
import type { OptionKey } from "../../src/config/schema.js";
import { Limiter } from "../../src/core/limiter.js";
import { DirSyncer } from "../../src/durable/fsync.js";
import { Hasher } from "../../src/hashing/hasher.js";
import { HashWorkerPool } from "../../src/hashing/worker-pool.js";
import { ManifestWriter } from "../../src/manifest/manifest-writer.js";
import { WarmDuck } from "../../src/processors/tabular/warm-duck.js";
import { ErrorDirectory } from "../../src/quarantine/error-directory.js";
import { IngestService } from "../../src/service/ingest-service.js";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import { createLogger, type Logger } from "../../src/telemetry/logger.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { LocalWarehouse } from "../../src/warehouse/local/local-warehouse.js";
import { WorkArea } from "../../src/warehouse/work-area.js";

/** The directories of one in-process sluice run, all below `root`. */
export interface PipelineDirs {
  root: string;
  input: string;
  warehouse: string;
  manifests: string;
  errors: string;
  statePath: string;
  logPath: string;
}

export function pipelineDirs(root: string): PipelineDirs {
  return {
    root,
    input: join(root, "staging"),
    warehouse: join(root, "warehouse"),
    manifests: join(root, "manifests"),
    errors: join(root, "errors"),
    statePath: join(root, "state", "sluice.db"),
    logPath: join(root, "sluice.log"),
  };
}

/**
 * What src/cli/wire.ts builds for a directory warehouse and a SQLite state,
 * except that SQLite commits on this thread: the writer thread (and the hash
 * workers) load compiled `.js` files that a vitest run of the sources does
 * not have. Staged files stay under the inline-hash size, so no hash worker starts.
 */
async function wireInProcess(config: RunConfig, log: Logger): Promise<Wired> {
  const abort = new AbortController();
  const dirs = new DirSyncer();
  const store = new SqliteStateStore(config.statePath, { writerThread: false });
  const pool = new HashWorkerPool(1);
  const work = new WorkArea(join(config.warehouse, ".sluice-tmp"));
  const warehouse = new LocalWarehouse(config.warehouse, dirs, { tmpDir: work.tmpDir });
  const errorsDir = new ErrorDirectory(config.errors, dirs);
  const manifests = new ManifestWriter(config.manifests, dirs, "manifest.jsonl");
  await work.open();
  await warehouse.open();
  await errorsDir.open();
  const duck = new WarmDuck();
  return {
    outbox: null,
    ctx: {
      config,
      store,
      hasher: new Hasher(pool, config.inlineHashMaxBytes),
      warehouse,
      work,
      manifests,
      errorsDir,
      dirs,
      log,
      metrics: new Metrics(),
      signal: abort.signal,
      converts: new Limiter(1),
      duck,
      uploads: null,
    },
    abort,
    async close() {
      await manifests.close();
      await store.close();
      await pool.close();
      duck.close();
    },
  };
}

/**
 * `sluice run --once` in this process (the real config resolution, wiring,
 * recovery, discovery, pipeline and shutdown; only the CLI's argument parsing
 * and signal handling are left out), with its JSON log in `logPath`. Resolves
 * once everything in staging has been handled.
 */
export async function runOnceInProcess(
  d: PipelineDirs,
  flags: Partial<Record<OptionKey, unknown>> = {},
  timeoutMs = 30_000,
): Promise<{ events: Record<string, unknown>[]; timedOut: boolean; metrics: string }> {
  const config = resolveRunConfig(
    {
      input: d.input,
      warehouse: d.warehouse,
      manifests: d.manifests,
      errors: d.errors,
      statePath: d.statePath,
      once: true,
      stabilitySeconds: 0,
      scanInterval: 1,
      metricsInterval: 0,
      logLevel: "info",
      ...flags,
    },
    {},
    {},
    d.root,
  );
  checkDirectories(config);
  createDirectories(config);
  mkdirSync(d.root, { recursive: true });
  const fd = openSync(d.logPath, "a");
  let timedOut = false;
  let metrics = "";
  try {
    const wired = await wireInProcess(config, createLogger(config.logLevel, fd));
    const service = new IngestService(wired);
    await service.start();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), timeoutMs);
    });
    timedOut = (await Promise.race([service.drained(), expired])) === "expired";
    clearTimeout(timer);
    // A run that did not drain is stopped the way a second SIGTERM stops it: files in flight are abandoned.
    if (timedOut) service.abortInFlight();
    await service.stop();
    metrics = await wired.ctx.metrics.registry.metrics();
  } finally {
    closeSync(fd);
  }
  const events = readFileSync(d.logPath, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { events, timedOut, metrics };
}
