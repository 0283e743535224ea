import type { Pool, PoolClient } from "pg";
import type { FileRecord } from "../../core/file-record.js";
import type { ProcessingResult } from "../../core/processing.js";
import { Batcher } from "../../durable/batcher.js";
import type { InvalidRow } from "../../processors/profile.js";
import { type FileRow, toRecord } from "../row-mapping.js";
import { applyBatchAsync } from "../rules/apply-batch.js";
import { runAsync } from "../rules/steps.js";
import type { Decision, ErrorInfo, FileQuery, NewFile, PlacementRequest, StateStore } from "../state-store.js";
import { isOpError, opErrorToError, type WriteOp } from "../write-op.js";
import { isTransient, openPool } from "./connect.js";
import { postgresDialect } from "./dialect.js";
import { listFiles } from "./list-files.js";
import { migratePostgres } from "./migrate.js";
import { POSTGRES_MIGRATIONS } from "./migrations/index.js";
import { PostgresNodeLeases, retryCapMs } from "./node-leases.js";

const ACTIVE = "state NOT IN ('done', 'duplicate', 'failed')";

export interface PostgresStoreOptions {
  /** This node's id: it owns the rows it records, and recovers only those. */
  node: string;
  /** Pool size (connections to the server). */
  connections?: number;
  /** Seconds without a heartbeat after which a node is presumed dead and its files adopted (default 30). */
  leaseSeconds?: number;
  /** Called when a transient error is about to be waited out (server restarting, connection lost). */
  onRetry?: (err: Error, attempt: number) => void;
}

/**
 * The state store shared by many sluice nodes: one PostgreSQL database. The
 * mutations of one node are group-committed (one transaction per batch, the
 * rules of rules/ run as multi-row statements); content dedupe and warehouse
 * names are enforced by unique keys, so two nodes racing on the same bytes
 * end with one owner.
 * While the server is away, calls wait and retry (never give up): files stall
 * in place and resume when it is back.
 */
export class PostgresStateStore implements StateStore {
  readonly capabilities = { multiWriter: true };
  readonly leases: PostgresNodeLeases;
  private closed = false;
  /**
   * Group commit, as the embedded store does: the ops submitted in one turn of the event loop are applied in
   * one transaction, a few multi-row statements per step however many files take it (a batch of 128 small
   * files costs about ten round trips and one commit instead of ~500 round trips and ~250 commits).
   */
  private readonly batcher = new Batcher<WriteOp, unknown>(async (ops) =>
    (await applyBatchAsync((rule) => this.tx((c) => runAsync(rule(postgresDialect(c, this.opts.node)))), ops)).map(
      (r) => (isOpError(r) ? opErrorToError(r) : r),
    ),
  );

  private constructor(
    private readonly pool: Pool,
    url: string,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.leases = new PostgresNodeLeases(
      pool,
      url,
      opts.node,
      opts.leaseSeconds ?? 30,
      (work) => this.retrying(work),
      (work) => this.tx(work),
    );
  }

  static async open(url: string, opts: PostgresStoreOptions): Promise<PostgresStateStore> {
    const pool = openPool(url, opts.connections ?? 8);
    try {
      await migratePostgres(pool, POSTGRES_MIGRATIONS);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStateStore(pool, url, opts);
  }

  private now(): string {
    return new Date().toISOString();
  }

  /** Retries transient failures with capped exponential backoff until the store is closed. */
  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (this.closed || !isTransient(err)) throw err;
        this.opts.onRetry?.(err as Error, attempt);
        const cap = Math.min(retryCapMs(this.opts.leaseSeconds ?? 30), 50 * 2 ** Math.min(attempt, 10));
        await new Promise((r) => setTimeout(r, Math.random() * cap));
      }
    }
  }

  private tx<T>(work: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const c = await this.pool.connect();
      let broken = false;
      // A checked-out client whose server goes away emits 'error' besides failing its query; unheard, that
      // event would kill the process. The failed query is what the retry acts on.
      const onError = () => {
        broken = true;
      };
      c.on("error", onError);
      try {
        await c.query("BEGIN");
        const out = await work(c);
        await c.query("COMMIT");
        return out;
      } catch (err) {
        broken = isTransient(err);
        await c.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        c.off("error", onError);
        // A connection that failed mid-transaction is discarded rather than handed to the next caller.
        c.release(broken);
      }
    });
  }

  private read<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.retrying(async () => (await this.pool.query(sql, params)).rows as T[]);
  }

  /** One op through the group commit; resolves once its batch is committed. */
  private run<T>(op: WriteOp): Promise<T> {
    return this.batcher.submit(op) as Promise<T>;
  }

  recordDiscovered(file: NewFile): Promise<void> {
    return this.run({ op: "recordDiscovered", file, now: this.now() });
  }

  forget(ingestId: string): Promise<void> {
    return this.run({ op: "forget", id: ingestId, now: this.now() });
  }

  decide(file: NewFile, sha256: string, placement: PlacementRequest): Promise<Decision> {
    return this.run({ op: "decide", file, sha256, placement, now: this.now() });
  }

  rehash(
    ingestId: string,
    sha256: string,
    now: { size: number; mtimeMs: number },
    at: { ingestedAt: string; manifestPath: string },
  ): Promise<"new" | "duplicate" | "wait"> {
    return this.run({ op: "rehash", id: ingestId, sha256, ...now, ...at, now: this.now() });
  }

  reassignPath(ingestId: string, warehousePath: string): Promise<void> {
    return this.run({ op: "reassignPath", id: ingestId, path: warehousePath, now: this.now() });
  }

  markStored(ingestId: string, ingestedAt: string, manifestPath: string, processing?: ProcessingResult): Promise<void> {
    return this.run({
      op: "markStored",
      id: ingestId,
      ingestedAt,
      manifestPath,
      now: this.now(),
      ...(processing ? { processing } : {}),
    });
  }

  markManifested(ingestId: string): Promise<void> {
    return this.setState(ingestId, "manifested");
  }

  finish(ingestId: string, state: "done" | "duplicate"): Promise<void> {
    return this.setState(ingestId, state);
  }

  finishFailed(ingestId: string): Promise<void> {
    return this.setState(ingestId, "failed");
  }

  private setState(ingestId: string, state: string): Promise<void> {
    return this.run({ op: "setState", id: ingestId, state, now: this.now() });
  }

  beginQuarantine(ingestId: string, error: ErrorInfo, errorPath: string | null): Promise<void> {
    return this.run({ op: "beginQuarantine", id: ingestId, error, errorPath, now: this.now() });
  }

  async get(ingestId: string): Promise<FileRecord | undefined> {
    const [row] = await this.read<FileRow>("SELECT * FROM files WHERE ingest_id = $1", [ingestId]);
    return row ? toRecord(row) : undefined;
  }

  async isReserved(path: string): Promise<boolean> {
    const rows = await this.read("SELECT 1 FROM files WHERE warehouse_path = $1 AND duplicate_of IS NULL", [path]);
    return rows.length > 0;
  }

  async member(archiveIngestId: string, memberIndex: number): Promise<FileRecord | undefined> {
    const [row] = await this.read<FileRow>("SELECT * FROM files WHERE archive_ingest_id = $1 AND member_index = $2", [
      archiveIngestId,
      memberIndex,
    ]);
    return row ? toRecord(row) : undefined;
  }

  invalidRows(ingestId: string, offset: number, limit: number): Promise<InvalidRow[]> {
    return this.read<InvalidRow>(
      "SELECT row, error FROM invalid_rows WHERE ingest_id = $1 ORDER BY seq LIMIT $2 OFFSET $3",
      [ingestId, limit, offset],
    );
  }

  async invalidRowCount(ingestId: string): Promise<number> {
    const [r] = await this.read<{ n: number }>("SELECT COUNT(*)::int AS n FROM invalid_rows WHERE ingest_id = $1", [
      ingestId,
    ]);
    return r?.n ?? 0;
  }

  listFiles(q: FileQuery): Promise<FileRecord[]> {
    return this.retrying(() => listFiles(this.pool, q));
  }

  /** This node's unfinished rows only: another node's are its own to finish. */
  async activeRecords(): Promise<FileRecord[]> {
    const rows = await this.read<FileRow>(
      `SELECT * FROM files WHERE ${ACTIVE} AND owner = $1 ORDER BY discovered_at, ingest_id`,
      [this.opts.node],
    );
    return rows.map(toRecord);
  }

  /** Not retried: readiness and the overview ask this, and must hear at once that the server is away. */
  async countByState(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ state: string; n: number }>(
      "SELECT state, COUNT(*)::int AS n FROM files GROUP BY state",
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  async close(): Promise<void> {
    await this.batcher.drain();
    this.closed = true;
    await this.leases.closeLock();
    await this.pool.end();
  }
}
