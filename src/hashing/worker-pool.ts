import { Worker } from "node:worker_threads";
import type { HashJob, HashResult } from "./hash-worker.js";

type Waiter = { resolve: (r: { sha256: string; bytes: number }) => void; reject: (e: Error) => void };

/**
 * A fixed set of hashing threads. Large files are hashed here so the event
 * loop keeps serving small files, timers and (later) HTTP requests.
 */
export class HashWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { job: Omit<HashJob, "id">; waiter: Waiter }[] = [];
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;

  constructor(private readonly size: number) {}

  private spawn(): Worker {
    const w = new Worker(new URL("./hash-worker.js", import.meta.url));
    w.on("message", (r: HashResult) => {
      const waiter = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (waiter) {
        if (r.error) {
          const err = new Error(r.error.message) as NodeJS.ErrnoException;
          if (r.error.code) err.code = r.error.code;
          waiter.reject(err);
        } else waiter.resolve({ sha256: r.sha256 as string, bytes: r.bytes as number });
      }
      this.release(w);
    });
    this.workers.push(w);
    return w;
  }

  private release(w: Worker): void {
    const next = this.queue.shift();
    if (next) this.dispatch(w, next.job, next.waiter);
    else {
      // An idle worker must not keep the process alive; a busy one must (see dispatch).
      w.unref();
      this.idle.push(w);
    }
  }

  private dispatch(w: Worker, job: Omit<HashJob, "id">, waiter: Waiter): void {
    const id = this.nextId++;
    this.waiting.set(id, waiter);
    w.ref();
    w.postMessage({ ...job, id });
  }

  run(job: Omit<HashJob, "id">): Promise<{ sha256: string; bytes: number }> {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const w = this.idle.pop() ?? (this.workers.length < this.size ? this.spawn() : undefined);
      if (w) this.dispatch(w, job, waiter);
      else this.queue.push({ job, waiter });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
