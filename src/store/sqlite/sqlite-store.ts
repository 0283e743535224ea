import Database from "better-sqlite3";
import type { FileRecord } from "../../core/file-record.js";
import type { InvalidRow } from "../../core/profile.js";
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
    return this.stmt.pathTaken.get(path, "") !== undefined;
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

  async close(): Promise<void> {
    await this.drainWrites();
    await this.writer.close();
    this.db.close();
  }
}
