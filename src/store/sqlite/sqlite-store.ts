import Database from "better-sqlite3";
import type { FileRecord } from "../../core/file-record.js";
import type { ProcessingResult } from "../../core/processing.js";
import { Batcher } from "../../durable/batcher.js";
import type { InvalidRow } from "../../processors/profile.js";
import { type FileRow, toRecord } from "../row-mapping.js";
import type { Decision, ErrorInfo, FileQuery, NewFile, PlacementRequest, StateStore } from "../state-store.js";
import { isOpError, opErrorToError, type WriteOp } from "../write-op.js";
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
export class SqliteStateStore implements StateStore {
  readonly capabilities = { multiWriter: false };
  private readonly db: Database.Database;
  private readonly stmt: Statements;
  private readonly writer: BatchWriter;
  private readonly batcher: Batcher<WriteOp, unknown>;
  private readonly lister: FileLister;

  /**
   * `writerThread: false` commits on this thread instead: the same batches and
   * SQL, without the worker, whose compiled `.js` does not exist when the code
   * runs from TypeScript sources (tests).
   */
  constructor(path: string, opts: { writerThread?: boolean } = {}) {
    this.db = new Database(path);
    configure(this.db);
    migrate(this.db, SQLITE_MIGRATIONS);
    this.stmt = prepareStatements(this.db);
    this.lister = new FileLister(this.db);
    const inProcess = path === ":memory:" || opts.writerThread === false;
    const local = new InProcessWriter(this.db, sqliteDialect(this.db, this.stmt));
    this.writer = inProcess ? local : new StartupWriter(local, new WorkerWriter(path));
    this.batcher = new Batcher<WriteOp, unknown>(async (ops) =>
      (await this.writer.apply(ops)).map((r) => (isOpError(r) ? opErrorToError(r) : r)),
    );
  }

  private run<T>(op: WriteOp): Promise<T> {
    return this.batcher.submit(op) as Promise<T>;
  }

  private now(): string {
    return new Date().toISOString();
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

  async close(): Promise<void> {
    await this.batcher.drain();
    await this.writer.close();
    this.db.close();
  }
}
