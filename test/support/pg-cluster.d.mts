// Types of pg-cluster.mjs (plain JavaScript so that the torture script can run it without a build).

/**
 * A PostgreSQL server of the caller's own (initdb in a temp directory, on a free
 * loopback port), so a test can stop and restart the database mid-run without
 * disturbing the machine's shared server or other tests using it.
 */
export interface PgCluster {
  url: string;
  port: number;
  /** `immediate` is a crash as far as clients are concerned: connections cut, no checkpoint. */
  stop(mode?: "fast" | "immediate"): void;
  start(): void;
  destroy(): void;
}

/** The newest PostgreSQL server's binaries (initdb, pg_ctl), or undefined when none is installed. */
export function pgServerBin(): string | undefined;

/** initdb in a temp dir, started on a free loopback port (trust auth, user postgres). */
export function startPgCluster(): Promise<PgCluster>;
