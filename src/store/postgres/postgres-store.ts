import type { Pool, PoolClient } from "pg";
import type { FileRecord } from "../../core/file-record.js";
import type { InvalidRow } from "../../core/profile.js";
import { retry } from "../../core/retry.js";
import { BatchedWrites } from "../batched-writes.js";
import type { OutboxBacklog, OutboxClaim, OutboxKey, OutboxRetry, OutboxRow } from "../outbox-types.js";
import {
  type FileRow,
  type HistoryRow,
  type IntentRow,
  type OutboxDbRow,
  toHistory,
  toIntent,
  toOutboxRow,
  toRecord,
} from "../row-mapping.js";
import { applyBatchAsync } from "../rules/apply-batch.js";
import {
  countPrunableRule,
  PRUNE_DETAIL_TABLES,
  type PrunedOriginal,
  type PruneTally,
  pruneBatchRule,
  type ReclaimReport,
} from "../rules/prune.js";
import { runAsync } from "../rules/steps.js";
import type {
  FailedQuery,
  FileQuery,
  HistoryEntry,
  ReprocessIntent,
  RequeueIntent,
  StateStore,
} from "../state-store.js";
import { isOpError, type OpError, opErrorToError, type WriteOp } from "../write-op.js";
import { isTransient, openPool } from "./connect.js";
import { postgresDialect } from "./dialect.js";
import { listFiles } from "./list-files.js";
import { migratePostgres } from "./migrate.js";
import { POSTGRES_MIGRATIONS } from "./migrations/index.js";
import { PostgresNodeLeases, retryCapMs } from "./node-leases.js";
import { postgresPruneStatements } from "./prune-statements.js";

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
export class PostgresStateStore extends BatchedWrites implements StateStore {
  readonly capabilities = { multiWriter: true };
  readonly leases: PostgresNodeLeases;
  private closed = false;
  private constructor(
    private readonly pool: Pool,
    url: string,
    private readonly opts: PostgresStoreOptions,
  ) {
    super();
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

  /**
   * Retries connection-class failures (the server away or restarting, a lost race: {@link isTransient}) with
   * capped full-jitter backoff until the store is closed. A SQL error (a bug, a constraint) surfaces at once.
   */
  private retrying<T>(work: () => Promise<T>): Promise<T> {
    return retry(work, {
      retryable: (err) => !this.closed && isTransient(err),
      baseMs: 100,
      capMs: retryCapMs(this.opts.leaseSeconds ?? 30),
      onRetry: (err, attempt) => this.opts.onRetry?.(err as Error, attempt),
    });
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

  /**
   * Group commit, as the embedded store does: the ops submitted in one turn of the event loop are applied in
   * one transaction, a few multi-row statements per step however many files take it (a batch of 128 small
   * files costs about ten round trips and one commit instead of ~500 round trips and ~250 commits).
   */
  protected applyOps(ops: WriteOp[]): Promise<(unknown | OpError)[]> {
    return applyBatchAsync((rule) => this.tx((c) => runAsync(rule(postgresDialect(c, this.opts.node)))), ops);
  }

  async get(ingestId: string): Promise<FileRecord | undefined> {
    const [row] = await this.read<FileRow>("SELECT * FROM files WHERE ingest_id = $1", [ingestId]);
    return row ? toRecord(row) : undefined;
  }

  async isReserved(path: string): Promise<boolean> {
    const rows = await this.read(
      `SELECT 1 FROM files WHERE warehouse_path = $1 AND duplicate_of IS NULL
       UNION ALL SELECT 1 FROM contents WHERE warehouse_path = $1 LIMIT 1`,
      [path],
    );
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

  /**
   * Leases due rows to `owner` on the database's clock, skipping rows another node is claiming at the same moment
   * (FOR UPDATE SKIP LOCKED) or holds under a lease that has not run out: one node at a time delivers an event.
   */
  async claimOutbox(q: OutboxClaim): Promise<OutboxRow[]> {
    const rows = await this.read<OutboxDbRow>(
      `WITH clock AS (SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS ms),
       due AS (
         SELECT o.event_id, o.target FROM outbox o, clock
          WHERE o.next_at <= clock.ms AND o.target = ANY($1::text[])
            AND (o.lease_until IS NULL OR o.lease_until < clock.ms)
          ORDER BY o.next_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED)
       UPDATE outbox o SET lease_owner = $3, lease_until = (SELECT ms FROM clock) + $4
         FROM due WHERE o.event_id = due.event_id AND o.target = due.target
       RETURNING o.event_id, o.target, o.ingest_id, o.type, o.payload, o.created_at, o.attempts`,
      [q.targets, q.limit, q.owner, Math.round(q.leaseMs)],
    );
    return rows.map(toOutboxRow);
  }

  /** Its own transaction, not the ingestion's group commit: the outbox never waits behind (or slows) a batch. */
  override settleOutbox(delivered: OutboxKey[], retries: OutboxRetry[]): Promise<void> {
    if (delivered.length === 0 && retries.length === 0) return Promise.resolve();
    return this.applyOps([{ op: "outboxSettle", delivered, retries, now: this.now() }]).then(([r]) => {
      if (isOpError(r)) throw opErrorToError(r);
    });
  }

  async outboxBacklog(): Promise<OutboxBacklog[]> {
    const rows = await this.pool.query<{ target: string; pending: number; oldest_at: string }>(
      "SELECT target, COUNT(*)::int AS pending, MIN(created_at) AS oldest_at FROM outbox GROUP BY target ORDER BY target",
    );
    return rows.rows.map((r) => ({ target: r.target, pending: r.pending, oldestAt: r.oldest_at }));
  }

  async reprocessIntents(): Promise<ReprocessIntent[]> {
    return (await this.read<IntentRow>("SELECT * FROM reprocessing ORDER BY started_at, ingest_id", [])).map(toIntent);
  }

  async history(ingestId: string): Promise<HistoryEntry[]> {
    const rows = await this.read<HistoryRow>(
      "SELECT generation, recorded_at, kind, processing FROM file_history WHERE ingest_id = $1 ORDER BY generation",
      [ingestId],
    );
    return rows.map(toHistory);
  }

  async requeueIntent(failedId: string): Promise<RequeueIntent | undefined> {
    const [row] = await this.read<RequeueIntent>(
      `SELECT failed_id AS "failedId", name, sha256, requested_at AS "requestedAt", new_id AS "newId"
         FROM requeues WHERE failed_id = $1`,
      [failedId],
    );
    return row;
  }

  /** Every node's failed rows: a failed row is terminal, whoever recorded it. */
  async failedFiles(q: FailedQuery): Promise<FileRecord[]> {
    const rows = await this.read<FileRow>(
      `SELECT * FROM files WHERE state = 'failed' AND requeued_to IS NULL AND error_path IS NOT NULL
          AND ($1::text IS NULL OR error_code = $1) AND ($2::text IS NULL OR updated_at >= $2)
          AND ($3::text IS NULL OR (updated_at, ingest_id) > ($3, $4::text))
        ORDER BY updated_at, ingest_id LIMIT $5`,
      [q.code ?? null, q.since ?? null, q.after?.updatedAt ?? null, q.after?.ingestId ?? null, q.limit],
    );
    return rows.map(toRecord);
  }

  /** One transaction per batch; a connection lost mid-batch rolls it back, and the retry takes the rows again. */
  pruneBatch(cutoff: string, limit: number): Promise<PruneTally> {
    return this.tx((c) =>
      runAsync(pruneBatchRule(postgresPruneStatements(c), cutoff, limit, new Date().toISOString())),
    );
  }

  countPrunable(cutoff: string): Promise<PruneTally> {
    return this.tx((c) => runAsync(countPrunableRule(postgresPruneStatements(c), cutoff)));
  }

  /** Every table of the state's schema, with its indexes and TOAST (pg_total_relation_size). */
  async stateBytes(): Promise<number> {
    const [r] = await this.read<{ n: string }>(
      `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class c
         JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'`,
      [],
    );
    return Number(r?.n ?? 0);
  }

  /**
   * A plain VACUUM of the tables prune deletes from: it runs beside the service (no exclusive lock) and makes the
   * dead rows' space reusable at once; it goes to PostgreSQL's free space map, not back to the operating system
   * (only VACUUM FULL, which locks the tables, does that; its pages at the end of a table are truncated).
   */
  async reclaimSpace(): Promise<ReclaimReport> {
    const tables = ["files", "contents", ...PRUNE_DETAIL_TABLES.map((t) => t.table)];
    await this.retrying(() => this.pool.query(`VACUUM (ANALYZE) ${tables.join(", ")}`));
    return {
      method: "vacuum",
      freeBytes: 0,
      note: "VACUUM: the space is reusable by new rows (PostgreSQL's free space map), not returned to the OS without VACUUM FULL",
    };
  }

  prunedOriginals(afterSha: string, limit: number): Promise<PrunedOriginal[]> {
    return this.read<PrunedOriginal>(
      `SELECT sha256, ingest_id AS "ingestId", warehouse_path AS "warehousePath", ingested_at AS "ingestedAt",
         pruned_at AS "prunedAt" FROM contents WHERE pruned_at IS NOT NULL AND sha256 COLLATE "C" > $1 ORDER BY sha256 COLLATE "C"
         LIMIT $2`,
      [afterSha, limit],
    );
  }

  async close(): Promise<void> {
    await this.drainWrites();
    this.closed = true;
    await this.leases.closeLock();
    await this.pool.end();
  }
}
