import { availableParallelism, hostname } from "node:os";
import { resolve as resolvePath } from "node:path";
import { SluiceError } from "../core/errors.js";
import { type FeedSchema, loadSchemaOption } from "../processors/validate/schema.js";
import { isS3Url } from "../warehouse/s3/config.js";
import { gatherLayers, type Layers, resolveOptions } from "./layers.js";
import { resolveS3Settings } from "./s3-settings.js";
import { type OptionKey, optionsOf } from "./schema.js";

export { readDotEnv } from "./layers.js";

/** What `sluice run` reads (serve and verify read it too); `--config` itself is read by gatherLayers. */
const RUN_KEYS = optionsOf("run").filter((k): k is Exclude<OptionKey, "config"> => k !== "config");

/** The host name, cut to what a node id may hold: one node per host by default. */
function defaultNodeId(): string {
  const h = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return (h || "node").slice(0, 63);
}

/** `--schema`: the preset's name, or a JSON file (relative to the working directory) checked now, not at the first file. */
function loadSchemas(value: string, from: string, abs: (p: string) => string): FeedSchema[] {
  if (!value) return [];
  try {
    return loadSchemaOption(value === "sensor-readings" ? value : abs(value));
  } catch (err) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `${from}: ${(err as Error).message}`);
  }
}

/**
 * The configuration of `sluice run` from flags, the environment, `.env` and the config file they name (see
 * layers.ts for the precedence). Relative paths are relative to `cwd`, wherever they were written. Throws
 * SluiceError on the first problem, naming where the bad value came from.
 */
export function resolveRunConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  dotEnv: Record<string, string>,
  cwd: string,
): RunConfig {
  return runConfigFrom(gatherLayers(flags, env, dotEnv, cwd), cwd);
}

/** The resolved, validated, frozen configuration every module receives: absolute paths, durations in ms. */
export function runConfigFrom(layers: Layers, cwd: string) {
  const resolved = resolveOptions(RUN_KEYS, layers);
  const o = resolved.values;
  const abs = (p: string) => resolvePath(cwd, p);
  const s3 = isS3Url(o.warehouse) ? resolveS3Settings(resolved, layers) : null;
  const warehouse = s3 ? o.warehouse : abs(o.warehouse);
  // A directory warehouse renames temp files into place, so its work area must be on its own filesystem.
  if (!s3 && o.scratchDir) {
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      "--scratch-dir is for an S3 warehouse; a directory warehouse keeps its work area in WAREHOUSE/.sluice-tmp",
    );
  }
  return Object.freeze({
    input: abs(o.input),
    /** An absolute directory, or `s3://BUCKET/PREFIX` when {@link s3} is set. */
    warehouse,
    /** Set when the warehouse is S3. */
    s3,
    /** Local work area: temp copies, archive members, Parquet being written. */
    scratch: s3 ? abs(o.scratchDir || "./data/scratch") : resolvePath(warehouse, ".sluice-tmp"),
    manifests: abs(o.manifests),
    errors: abs(o.errors),
    statePath: abs(o.statePath),
    /** PostgreSQL URL of a state shared by several nodes; null: the SQLite file at {@link statePath}. */
    stateUrl: o.state || null,
    /** This node's name: owner of the rows it records, part of its manifest file names when the state is shared. */
    nodeId: o.nodeId || defaultNodeId(),
    /** Shared state: seconds without a heartbeat before a node is presumed dead. */
    leaseSeconds: o.leaseSeconds / 1000,
    /** After a stop signal: how long in-flight files get before they are aborted (and left to recovery). */
    shutdownGraceMs: Math.round(o.shutdownGraceSeconds),
    mode: o.mode,
    stabilityMs: Math.round(o.stabilitySeconds),
    scanIntervalMs: Math.round(o.scanInterval),
    concurrency: o.concurrency,
    recursive: o.recursive,
    dryRun: o.dryRun,
    logLevel: o.logLevel,
    once: o.once,
    ignore: Object.freeze([...o.ignore]) as readonly string[],
    metricsIntervalMs: Math.round(o.metricsInterval),
    maxAttempts: o.maxAttempts,
    convert: o.convert,
    /** Feeds to validate against (empty: no validation), loaded and checked at start. */
    schemas: Object.freeze(loadSchemas(o.schema, resolved.from.schema, abs)) as readonly FeedSchema[],
    schemaSource: o.schema,
    /** `--schema FILE` as an absolute path, re-read when it changes (live-schema.ts); null for the preset or none. */
    schemaFile: o.schema && o.schema !== "sensor-readings" ? abs(o.schema) : null,
    /** DuckDB's `memory_limit`, in bytes ("512MB" is 512000000 for DuckDB as for sluice). */
    duckdbMemoryLimit: `${o.duckdbMemoryLimit}B`,
    convertThreads: o.convertThreads === 0 ? availableParallelism() : o.convertThreads,
    archive: Object.freeze({
      depth: o.archiveDepth,
      maxMembers: o.archiveMaxMembers,
      maxTotalBytes: o.archiveMaxBytes,
      maxRatio: o.archiveMaxRatio,
      keep: o.keepArchives,
    }),
    /** Permission bits of stored files (--warehouse-mode), before the source's group/other bits mask them. */
    warehouseMode: Number.parseInt(o.warehouseMode, 8),
    /** Notification targets (--notify), the webhook signing secret (environment only) and delivery tuning. */
    notify: Object.freeze({
      urls: Object.freeze([...o.notify]) as readonly string[],
      secret: o.notifySecret,
      timeoutMs: Math.round(o.notifyTimeout),
      retryCapMs: Math.round(o.notifyRetryMax),
    }),
    /** Files up to this size are hashed on the main thread; larger ones in a worker. */
    inlineHashMaxBytes: 1 << 20,
    hashWorkers: Math.max(1, Math.min(4, availableParallelism())),
    /**
     * Old names in use (`S3_ENDPOINT is an old name: use SLUICE_S3_ENDPOINT`): logged once the log is open, since
     * stderr before it is for the one line of a refused start.
     */
    warnings: Object.freeze(resolved.warnings) as readonly string[],
  });
}

export type RunConfig = ReturnType<typeof runConfigFrom>;
