import type { RunConfig } from "../config/config.js";
import type { Limiter } from "../core/limiter.js";
import type { DirSyncer } from "../durable/fsync.js";
import type { Hasher } from "../hashing/hasher.js";
import type { ManifestWriter } from "../manifest/manifest-writer.js";
import type { WarmDuck } from "../processors/tabular/warm-duck.js";
import type { ErrorDirectory } from "../quarantine/error-directory.js";
import type { UploadRegistry } from "../service/upload-registry.js";
import type { StateStore } from "../store/state-store.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { Warehouse } from "../warehouse/warehouse.js";
import type { WorkArea } from "../warehouse/work-area.js";

/** Everything a pipeline stage may use; wired once in cli/wire.ts. */
export interface IngestContext {
  config: RunConfig;
  store: StateStore;
  hasher: Hasher;
  /** Where stored content lives: only the interface (the wiring root picks the implementation). */
  warehouse: Warehouse;
  /** The local work area, whatever the warehouse: temp copies, archive members, outputs being built. */
  work: WorkArea;
  manifests: ManifestWriter;
  errorsDir: ErrorDirectory;
  dirs: DirSyncer;
  log: Logger;
  metrics: Metrics;
  /** Aborted on shutdown: endless retries (warehouse down) give up and leave the state for the next start. */
  signal: AbortSignal;
  /** Files received by the HTTP API, ingested under the id the client was given (null without the API). */
  uploads: UploadRegistry | null;
  /** Bounds how many DuckDB conversions run at once (each may use every CPU and --duckdb-memory-limit). */
  converts: Limiter;
  /** The DuckDB instance conversions share, a connection each (closed by the wiring's close). */
  duck: WarmDuck;
}
