import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { resolve as resolvePath } from "node:path";
import { parseEnv } from "node:util";
import { SluiceError } from "../core/errors.js";
import { type FeedSchema, loadSchemaOption } from "../processors/validate/schema.js";
import { isS3Url, resolveS3Config } from "../warehouse/s3/config.js";
import type { RunConfig } from "./config.js";
import { type OptionSpec, type RawRunOptions, RUN_OPTIONS } from "./options.js";
import { runOptionsSchema } from "./schema.js";

export type Source = { value: unknown; from: string };

/** Reads `.env` in the working directory without touching process.env. */
/**
 * A value as it may be echoed in an error: the password of anything shaped
 * like a URL with credentials (`scheme://user:secret@host`) is masked, since
 * stderr is often collected with the logs.
 */
function withoutPassword(v: unknown): unknown {
  return typeof v === "string" ? v.replace(/^([^:/?#\s]*:?\/*[^:@/\s]*:)[^@\s]*@/, "$1***@") : v;
}

/** The host name, cut to what a node id may hold: one node per host by default. */
function defaultNodeId(): string {
  const h = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return (h || "node").slice(0, 63);
}

export function readDotEnv(cwd: string): Record<string, string> {
  const path = resolvePath(cwd, ".env");
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

export function coerce(spec: Pick<OptionSpec, "kind">, src: Source): unknown {
  const { value, from } = src;
  if (typeof value !== "string") return value;
  switch (spec.kind) {
    case "number": {
      const n = value.trim() === "" ? Number.NaN : Number(value);
      if (!Number.isFinite(n)) throw new SluiceError("SLUICE_ERR_CONFIG", `${from}: "${value}" is not a number`);
      return n;
    }
    case "boolean": {
      const v = value.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["", "0", "false", "no", "off"].includes(v)) return false;
      throw new SluiceError("SLUICE_ERR_CONFIG", `${from}: "${value}" is not a boolean (use true or false)`);
    }
    case "list":
      return value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return value;
  }
}

/** `--schema`: the preset's name, or a JSON file (relative to the working directory) checked now, not at the first file. */
function loadSchemas(value: string, abs: (p: string) => string): FeedSchema[] {
  if (!value) return [];
  try {
    return loadSchemaOption(value === "sensor-readings" ? value : abs(value));
  } catch (err) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `--schema / SLUICE_SCHEMA: ${(err as Error).message}`);
  }
}

function flagName(spec: OptionSpec): string {
  return spec.flag.split(" ")[0] ?? spec.flag;
}

/**
 * The S3 settings: endpoint, region and path style given as flags win; their
 * environment and `.env` names (S3_*, AWS_*) are resolved by resolveS3Config,
 * which knows the AWS standard names as well and where each value came from.
 */
function resolveS3(
  flags: Partial<Record<keyof RawRunOptions, unknown>>,
  o: { warehouse: string; s3PartSize: number; s3ParallelParts: number },
  env: NodeJS.ProcessEnv,
  dotEnv: Record<string, string>,
) {
  const flag = (k: keyof RawRunOptions) =>
    typeof flags[k] === "string" && flags[k] ? (flags[k] as string) : undefined;
  const endpoint = flag("s3Endpoint");
  const region = flag("s3Region");
  return resolveS3Config(
    {
      warehouse: o.warehouse,
      ...(endpoint ? { endpoint } : {}),
      ...(region ? { region } : {}),
      ...(flags.s3ForcePathStyle === true ? { forcePathStyle: true } : {}),
      partSizeBytes: o.s3PartSize,
      queueSize: o.s3ParallelParts,
    },
    env,
    dotEnv,
  );
}

/**
 * Merges the layers (flag > environment > .env > default), validates, and
 * returns a frozen config with absolute paths. Throws SluiceError on the first
 * problem, naming where the bad value came from.
 */
export function resolveRunConfig(
  flags: Partial<Record<keyof RawRunOptions, unknown>>,
  env: NodeJS.ProcessEnv,
  dotEnv: Record<string, string>,
  cwd: string,
): RunConfig {
  const raw: Record<string, unknown> = {};
  for (const spec of RUN_OPTIONS) {
    let src: Source;
    if (flags[spec.key] !== undefined) src = { value: flags[spec.key], from: flagName(spec) };
    else if (env[spec.env] !== undefined) src = { value: env[spec.env], from: spec.env };
    else if (dotEnv[spec.env] !== undefined) src = { value: dotEnv[spec.env], from: `.env ${spec.env}` };
    else src = { value: spec.default, from: "default" };
    raw[spec.key] = coerce(spec, src);
  }
  const parsed = runOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    const spec = RUN_OPTIONS.find((s) => s.key === key);
    const where = spec ? `${flagName(spec)} / ${spec.env}` : key;
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      `${where}: ${issue?.message ?? "invalid value"} (got ${JSON.stringify(withoutPassword(raw[key]))})`,
    );
  }
  const o = parsed.data;
  const abs = (p: string) => resolvePath(cwd, p);
  const s3 = isS3Url(o.warehouse) ? resolveS3(flags, o, env, dotEnv) : null;
  const warehouse = s3 ? o.warehouse : abs(o.warehouse);
  // A directory warehouse renames temp files into place, so its work area must be on its own filesystem.
  if (!s3 && o.scratchDir) {
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      "--scratch-dir is for an S3 warehouse; a directory warehouse keeps its work area in WAREHOUSE/.sluice-tmp",
    );
  }
  const scratch = s3 ? abs(o.scratchDir || "./data/scratch") : resolvePath(warehouse, ".sluice-tmp");
  return Object.freeze({
    input: abs(o.input),
    warehouse,
    s3,
    scratch,
    manifests: abs(o.manifests),
    errors: abs(o.errors),
    statePath: abs(o.statePath),
    stateUrl: o.state || null,
    nodeId: o.nodeId || defaultNodeId(),
    leaseSeconds: o.leaseSeconds,
    shutdownGraceMs: Math.round(o.shutdownGraceSeconds * 1000),
    mode: o.mode,
    stabilityMs: Math.round(o.stabilitySeconds * 1000),
    scanIntervalMs: Math.round(o.scanInterval * 1000),
    concurrency: o.concurrency,
    recursive: o.recursive,
    dryRun: o.dryRun,
    logLevel: o.logLevel,
    once: o.once,
    ignore: Object.freeze([...o.ignore]),
    metricsIntervalMs: Math.round(o.metricsInterval * 1000),
    maxAttempts: o.maxAttempts,
    convert: o.convert,
    schemas: Object.freeze(loadSchemas(o.schema, abs)),
    schemaSource: o.schema,
    duckdbMemoryLimit: o.duckdbMemoryLimit,
    convertThreads: o.convertThreads === 0 ? availableParallelism() : o.convertThreads,
    archive: Object.freeze({
      depth: o.archiveDepth,
      maxMembers: o.archiveMaxMembers,
      maxTotalBytes: o.archiveMaxBytes,
      maxRatio: o.archiveMaxRatio,
      keep: o.keepArchives,
    }),
    warehouseMode: Number.parseInt(o.warehouseMode, 8),
    inlineHashMaxBytes: 1 << 20,
    hashWorkers: Math.max(1, Math.min(4, availableParallelism())),
  });
}
