import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import type { StoreDialect } from "../rules/store-dialect.js";
import type { OpError, WriteOp } from "../write-op.js";
import { applySqliteBatch } from "./dialect.js";

/** Applies a batch of write ops durably and returns one result (or OpError) per op. */
export interface BatchWriter {
  apply(ops: WriteOp[]): Promise<(unknown | OpError)[]>;
  close(): Promise<void>;
}

/** For `:memory:` databases (dry runs), which a second thread cannot open. */
export class InProcessWriter implements BatchWriter {
  constructor(
    private readonly db: Database.Database,
    private readonly dialect: StoreDialect,
  ) {}

  async apply(ops: WriteOp[]): Promise<(unknown | OpError)[]> {
    return applySqliteBatch(this.db, this.dialect, ops);
  }

  async close(): Promise<void> {}
}

type Pending = { resolve: (r: (unknown | OpError)[]) => void; reject: (e: Error) => void };

export class WorkerWriter implements BatchWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The thread has opened the database and prepared its statements. */
  ready = false;

  constructor(path: string) {
    this.worker = new Worker(new URL("./writer-worker.js", import.meta.url), { workerData: { path } });
    this.worker.unref();
    this.worker.on("message", (m: { id: number; results?: (unknown | OpError)[]; failed?: OpError; ready?: true }) => {
      if (m.ready) {
        this.ready = true;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.failed) {
        const err = new Error(m.failed.error) as NodeJS.ErrnoException;
        if (m.failed.code) err.code = m.failed.code;
        p.reject(err);
      } else p.resolve(m.results ?? []);
    });
    this.worker.on("error", (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  apply(ops: WriteOp[]): Promise<(unknown | OpError)[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      // While a batch is out, the worker must keep the process alive (it is the only thing pending).
      this.worker.ref();
      this.worker.postMessage({ id, ops });
    });
  }

  async close(): Promise<void> {
    this.worker.ref();
    await new Promise<void>((resolve) => {
      const onMessage = (m: { closed?: true }) => {
        if (!m.closed) return; // (the `ready` of a thread still starting)
        this.worker.off("message", onMessage);
        resolve();
      };
      this.worker.on("message", onMessage);
      this.worker.postMessage({ close: true });
    });
    await this.worker.terminate();
  }
}

/**
 * The worker thread takes 40–60 ms to boot (a new isolate, then better-sqlite3) on a 2-core machine: a
 * `--once` run of 5,000 small files takes under a second, and its first batches waited for it. Until the
 * thread is ready, batches are committed on this thread's own connection, with the same SQL and the same
 * durability; the Batcher flushes one batch at a time, so the two connections never write at once.
 */
export class StartupWriter implements BatchWriter {
  constructor(
    private readonly local: InProcessWriter,
    private readonly worker: WorkerWriter,
  ) {}

  apply(ops: WriteOp[]): Promise<(unknown | OpError)[]> {
    return this.worker.ready ? this.worker.apply(ops) : this.local.apply(ops);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
