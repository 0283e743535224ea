import type { FeedSchema } from "../processors/validate/schema.js";
import type { ResolvedS3Config } from "../warehouse/s3/config.js";

/** The resolved, validated, frozen configuration every module receives. */
export interface RunConfig {
  readonly input: string;
  /** An absolute directory, or `s3://BUCKET/PREFIX` when {@link s3} is set. */
  readonly warehouse: string;
  /** Set when the warehouse is S3. */
  readonly s3: ResolvedS3Config | null;
  /** Local work area: temp copies, archive members, Parquet being written. */
  readonly scratch: string;
  readonly manifests: string;
  readonly errors: string;
  readonly statePath: string;
  /** PostgreSQL URL of a state shared by several nodes; null: the SQLite file at {@link statePath}. */
  readonly stateUrl: string | null;
  /** This node's name: owner of the rows it records, part of its manifest file names when the state is shared. */
  readonly nodeId: string;
  /** Shared state: seconds without a heartbeat before a node is presumed dead. */
  readonly leaseSeconds: number;
  /** After a stop signal: how long in-flight files get before they are aborted (and left to recovery). */
  readonly shutdownGraceMs: number;
  readonly mode: "stability" | "sidecar";
  readonly stabilityMs: number;
  readonly scanIntervalMs: number;
  readonly concurrency: number;
  readonly recursive: boolean;
  readonly dryRun: boolean;
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error";
  readonly once: boolean;
  readonly ignore: readonly string[];
  readonly metricsIntervalMs: number;
  readonly maxAttempts: number;
  readonly convert: boolean;
  /** Feeds to validate against (empty: no validation), loaded and checked at start. */
  readonly schemas: readonly FeedSchema[];
  readonly schemaSource: string;
  readonly duckdbMemoryLimit: string;
  readonly convertThreads: number;
  readonly archive: Readonly<{
    depth: number;
    maxMembers: number;
    maxTotalBytes: number;
    maxRatio: number;
    keep: boolean;
  }>;
  /** Permission bits of stored files (--warehouse-mode), before the source's group/other bits mask them. */
  readonly warehouseMode: number;
  /** Files up to this size are hashed on the main thread; larger ones in a worker. */
  readonly inlineHashMaxBytes: number;
  readonly hashWorkers: number;
}
