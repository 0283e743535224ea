import Database from "better-sqlite3";
import type { FileRecord } from "../../core/file-record.js";
import type { InvalidRow } from "../../core/profile.js";
import { retry } from "../../core/retry.js";
import { BatchedWrites } from "../batched-writes.js";
import type { OutboxBacklog, OutboxClaim, OutboxRow } from "../outbox-types.js";
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
import {
  countPrunableRule,
  type PrunedOriginal,
  type PruneStatements,
  type PruneTally,
  pruneBatchRule,
  type ReclaimReport,
} from "../rules/prune.js";
import { runSync } from "../rules/steps.js";
import type {
  FailedQuery,
  FileQuery,
  HistoryEntry,
  ReprocessIntent,
  RequeueIntent,
  StateStore,
} from "../state-store.js";
import type { OpError, WriteOp } from "../write-op.js";
import { type BatchWriter, InProcessWriter, StartupWriter, WorkerWriter } from "./batch-writer.js";
import { sqliteDialect } from "./dialect.js";
import { FileLister } from "./list-files.js";
import { migrate } from "./migrate.js";
import { SQLITE_MIGRATIONS } from "./migrations/index.js";
import { sqlitePruneStatements } from "./prune-statements.js";
import { configure, prepareStatements, type Statements } from "./statements.js";

/**
 * The embedded state store: one SQLite file in WAL mode with synchronous=FULL,
 * so a commit that returned survives kill -9 and power loss. Mutations from
 * many files are group-committed — one transaction, one WAL fsync per batch —
 * by a writer thread, while this thread reads through its own connection
 * (WAL readers see every committed batch).
 */
export class SqliteStateStore extends BatchedWrites implements StateStore {
  readonly capabilities = { multiWriter: false };
  private readonly db: Database.Database;
  private readonly stmt: Statements;
  private readonly writer: BatchWriter;
  private readonly lister: FileLister;
  private pruneStmts?: PruneStatements;

  /**
   * `writerThread: false` commits on this thread instead: the same batches and
   * SQL, without the worker, whose compiled `.js` does not exist when the code
   * runs from TypeScript sources (tests).
   */
  constructor(path: string, opts: { writerThread?: boolean } = {}) {
    super();
    this.db = new Database(path);
    configure(this.db);
    migrate(this.db, SQLITE_MIGRATIONS);
    this.stmt = prepareStatements(this.db);
    this.lister = new FileLister(this.db);
    const inProcess = path === ":memory:" || opts.writerThread === false;
    const local = new InProcessWriter(this.db, sqliteDialect(this.db, this.stmt));
    this.writer = inProcess ? local : new StartupWriter(local, new WorkerWriter(path));
  }

  protected applyOps(ops: WriteOp[]): Promise<(unknown | OpError)[]> {
    return this.writer.apply(ops);
  }

  async get(ingestId: string): Promise<FileRecord | undefined> {
    const row = this.stmt.get.get(ingestId) as FileRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async isReserved(path: string): Promise<boolean> {
    return this.stmt.pathTaken.get({ path, id: "" }) !== undefined;
  }

  async member(archiveIngestId: string, memberIndex: number): Promise<FileRecord | undefined> {
    const row = this.stmt.member.get(archiveIngestId, memberIndex) as FileRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async invalidRows(ingestId: string, offset: number, limit: number): Promise<InvalidRow[]> {
    return this.stmt.invalidPage.all(ingestId, limit, offset) as InvalidRow[];
  }

  async invalidRowCount(ingestId: string): Promise<number> {
    return (this.stmt.invalidCount.get(ingestId) as { n: number }).n;
  }

  async listFiles(q: FileQuery): Promise<FileRecord[]> {
    return this.lister.list(q);
  }

  async activeRecords(): Promise<FileRecord[]> {
    return (this.stmt.active.all() as FileRow[]).map(toRecord);
  }

  async countByState(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.stmt.counts.all() as { state: string; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** One process per SQLite state: no lease is needed (the worker settles a round before it reads the next). */
  async claimOutbox(q: OutboxClaim): Promise<OutboxRow[]> {
    const rows = this.stmt.outboxDue.all(Date.now(), JSON.stringify(q.targets), q.limit) as OutboxDbRow[];
    return rows.map(toOutboxRow);
  }

  async outboxBacklog(): Promise<OutboxBacklog[]> {
    return (this.stmt.outboxBacklog.all() as { target: string; pending: number; oldest_at: string }[]).map((r) => ({
      target: r.target,
      pending: r.pending,
      oldestAt: r.oldest_at,
    }));
  }

  async reprocessIntents(): Promise<ReprocessIntent[]> {
    return (this.stmt.intents.all() as IntentRow[]).map(toIntent);
  }

  async history(ingestId: string): Promise<HistoryEntry[]> {
    return (this.stmt.history.all(ingestId) as HistoryRow[]).map(toHistory);
  }

  async requeueIntent(failedId: string): Promise<RequeueIntent | undefined> {
    return this.stmt.requeueIntent.get(failedId) as RequeueIntent | undefined;
  }

  async failedFiles(q: FailedQuery): Promise<FileRecord[]> {
    const rows = this.stmt.failedFiles.all({
      code: q.code ?? null,
      since: q.since ?? null,
      afterAt: q.after?.updatedAt ?? null,
      afterId: q.after?.ingestId ?? null,
      limit: q.limit,
    }) as FileRow[];
    return rows.map(toRecord);
  }

  /**
   * On this thread's connection, in an IMMEDIATE transaction: it takes the write lock first (waiting out the
   * service's writer, another process, for busy_timeout) instead of failing when a read upgrades to a write.
   * What survives a kill: the batch's commit, or nothing of it.
   */
  async pruneBatch(cutoff: string, limit: number): Promise<PruneTally> {
    this.pruneStmts ??= sqlitePruneStatements(this.db);
    const s = this.pruneStmts;
    return retry(
      async () =>
        this.db.transaction(() => runSync(pruneBatchRule(s, cutoff, limit, new Date().toISOString()))).immediate(),
      { baseMs: 50, capMs: 2_000, maxAttempts: 30 },
    );
  }

  async countPrunable(cutoff: string): Promise<PruneTally> {
    this.pruneStmts ??= sqlitePruneStatements(this.db);
    return runSync(countPrunableRule(this.pruneStmts, cutoff));
  }

  async stateBytes(): Promise<number> {
    const n = (p: string) => this.db.pragma(p, { simple: true }) as number;
    return n("page_count") * n("page_size");
  }

  /**
   * auto_vacuum INCREMENTAL (every database this version created): the free pages go back to the disk a slice at a
   * time, each slice a short write transaction, so the service's writer is held up for milliseconds, never for a
   * whole VACUUM. An older database (auto_vacuum NONE) keeps them as free pages SQLite reuses for new rows: a VACUUM
   * would hold the write lock throughout and need as much free disk as the database, so prune does not run one.
   */
  async reclaimSpace(): Promise<ReclaimReport> {
    const n = (p: string) => this.db.pragma(p, { simple: true }) as number;
    const mode = n("auto_vacuum");
    if (mode === 2) {
      // Slice by slice until none is left, or until a slice frees nothing (another writer refilling the list).
      for (let free = n("freelist_count"), before = Number.POSITIVE_INFINITY; free > 0 && free < before; ) {
        await retry(async () => this.db.pragma("incremental_vacuum(2048)"), {
          baseMs: 50,
          capMs: 2_000,
          maxAttempts: 30,
        });
        before = free;
        free = n("freelist_count");
      }
      // The file itself shrinks when the WAL is checkpointed; PASSIVE never waits for the service's readers.
      this.db.pragma("wal_checkpoint(PASSIVE)");
      return {
        method: "incremental_vacuum",
        freeBytes: n("freelist_count") * n("page_size"),
        note: "free pages returned to the disk",
      };
    }
    const freeBytes = n("freelist_count") * n("page_size");
    if (mode === 1) return { method: "none", freeBytes, note: "auto_vacuum FULL returns free pages at every commit" };
    return {
      method: "none",
      freeBytes,
      note:
        "this database predates incremental vacuum: its free pages are reused for new rows but stay in the file; " +
        "to return them to the disk once, stop sluice and run: sqlite3 STATE_PATH 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'",
    };
  }

  async prunedOriginals(afterSha: string, limit: number): Promise<PrunedOriginal[]> {
    return this.db
      .prepare(`SELECT sha256, ingest_id AS ingestId, warehouse_path AS warehousePath, ingested_at AS ingestedAt,
        pruned_at AS prunedAt FROM contents WHERE pruned_at IS NOT NULL AND sha256 > ? ORDER BY sha256 LIMIT ?`)
      .all(afterSha, limit) as PrunedOriginal[];
  }

  async close(): Promise<void> {
    await this.drainWrites();
    await this.writer.close();
    this.db.close();
  }
}
