import type { Metrics } from "../telemetry/metrics.js";
import type { Candidate } from "../watch/candidate.js";
import type { Outcome } from "./outcomes.js";

/**
 * Small files that need nothing but the durable move can be ingested many at
 * a time: one pass of system calls and one commit per step for the whole
 * batch, instead of a task per file (forward/driver.ts: the same path as one file).
 */
export interface BatchLane {
  accepts(c: Candidate): boolean;
  /**
   * One outcome per file, in order. `waiting` is called once the batch has done its first stretch of work and
   * waits for its first commit: only then does the next batch start (see pumpBatches).
   */
  run(cs: Candidate[], waiting: () => void): Promise<Outcome[]>;
  /** Most files in one batch. */
  maxFiles: number;
  /** Most batches at once: while one waits for a commit, the next one reads and hashes. */
  lanes: number;
}

/**
 * The work queue: ready files wait here for one of `concurrency` slots. A
 * path is owned by at most one task at a time (`noteIfBusy`), which is how events,
 * rescans and timers that all notice the same file collapse into one ingest.
 */
export class Runner {
  private readonly queue: Candidate[] = [];
  /** Ready files waiting for the batch lane. */
  private smallQueue: Candidate[] = [];
  private lanesBusy = 0;
  private batchKick = false;
  /** A batch has started and not yet reached its first wait. */
  private batchStarting = false;
  private readonly busy = new Set<string>();
  /** Busy paths that events or scans noticed again while their task ran (those observations were dropped). */
  private readonly seenWhileBusy = new Set<string>();
  private running = 0;
  private accepting = true;
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly work: (c: Candidate) => Promise<Outcome>,
    private readonly onReleased: (c: Candidate, outcome: Outcome, seenWhileBusy: boolean) => void,
    private readonly metrics: Metrics,
    private readonly onUnexpected: (c: Candidate, err: unknown) => void,
    private readonly batch: BatchLane | null = null,
  ) {}

  offer(c: Candidate): void {
    if (!this.accepting || this.busy.has(c.path)) return;
    this.busy.add(c.path);
    if (this.batch?.accepts(c)) {
      this.smallQueue.push(c);
      this.metrics.setQueueDepth(this.queued());
      // Deferred to the end of this turn of the event loop, so that the files a scan offers together share a batch.
      if (!this.batchKick) {
        this.batchKick = true;
        setImmediate(() => {
          this.batchKick = false;
          this.pumpBatches();
        });
      }
      return;
    }
    this.queue.push(c);
    this.metrics.setQueueDepth(this.queued());
    this.pump();
  }

  /**
   * Is a task working on `path`? If so the caller's observation is dropped,
   * and the path is remembered so the owner looks at it again on release.
   */
  noteIfBusy(path: string): boolean {
    if (!this.busy.has(path)) return false;
    this.seenWhileBusy.add(path);
    return true;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const c = this.queue.shift() as Candidate;
      this.running++;
      this.metrics.setInFlight(this.running);
      this.metrics.setQueueDepth(this.queued());
      void this.work(c)
        .catch((err) => {
          this.onUnexpected(c, err);
          return "aborted" as Outcome;
        })
        .then((outcome) => {
          this.running--;
          this.release(c, outcome);
          this.afterRelease();
        });
    }
  }

  /**
   * Starts a batch if a lane is free; each of its files takes one of the `concurrency` slots. One at a time:
   * the next starts when this one waits for its first commit. Started together, two batches share every group
   * commit and then run in lockstep, both hashing at once and both waiting at once (traced: a third of the
   * main thread idle); staggered, one reads and moves files while the other's commit is made durable.
   */
  private pumpBatches(): void {
    const lane = this.batch;
    if (!lane || this.batchStarting) return;
    if (this.lanesBusy >= lane.lanes || this.smallQueue.length === 0 || this.running >= this.concurrency) return;
    const n = Math.min(lane.maxFiles, this.concurrency - this.running, this.smallQueue.length);
    const cs = this.smallQueue.slice(0, n);
    this.smallQueue = this.smallQueue.slice(n);
    this.lanesBusy++;
    this.running += n;
    this.metrics.setInFlight(this.running);
    this.metrics.setQueueDepth(this.queued());
    this.batchStarting = true;
    let starting = true;
    const waiting = () => {
      if (!starting) return;
      starting = false;
      this.batchStarting = false;
      // After the commit that was just requested has been handed to the writer (its flush is queued first).
      setImmediate(() => this.pumpBatches());
    };
    void lane
      .run(cs, waiting)
      .catch((err) => {
        for (const c of cs) this.onUnexpected(c, err);
        return cs.map(() => "aborted" as Outcome);
      })
      .then((outcomes) => {
        if (starting) {
          starting = false;
          this.batchStarting = false;
        }
        this.lanesBusy--;
        this.running -= n;
        cs.forEach((c, i) => {
          this.release(c, outcomes[i] ?? "aborted");
        });
        this.afterRelease();
      });
  }

  private release(c: Candidate, outcome: Outcome): void {
    this.busy.delete(c.path);
    const seen = this.seenWhileBusy.delete(c.path);
    this.metrics.setInFlight(this.running);
    if (this.accepting) this.onReleased(c, outcome, seen);
  }

  private afterRelease(): void {
    this.pump();
    this.pumpBatches();
    if (this.queued() < this.roomLimit()) for (const w of this.roomWaiters.splice(0)) w();
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private roomLimit(): number {
    return Math.max(1024, this.concurrency * 8);
  }

  /**
   * Backpressure for a full rescan of a huge backlog: resolves once the queue
   * is short enough, so 100,000 waiting files are not all held in memory as
   * queued work at once (the rest stay on disk until the scan reaches them).
   */
  room(): Promise<void> {
    if (this.queued() < this.roomLimit() || !this.accepting) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /**
   * Runs `work` while holding `path` as busy, as a queued file would be:
   * events and scans of that path are dropped meanwhile. False (and nothing
   * run) when the path is already busy.
   */
  async exclusive(path: string, work: () => Promise<void>): Promise<boolean> {
    if (this.busy.has(path)) return false;
    this.busy.add(path);
    try {
      await work();
      return true;
    } finally {
      this.busy.delete(path);
      this.seenWhileBusy.delete(path);
    }
  }

  queued(): number {
    return this.queue.length + this.smallQueue.length;
  }

  inFlight(): number {
    return this.running;
  }

  isIdle(): boolean {
    return this.running === 0 && this.queued() === 0;
  }

  /** Stop starting files; those queued but not started stay in staging for next time. */
  stopAccepting(): void {
    this.accepting = false;
    for (const c of [...this.queue.splice(0), ...this.smallQueue.splice(0)]) {
      this.busy.delete(c.path);
      this.seenWhileBusy.delete(c.path);
    }
    for (const w of this.roomWaiters.splice(0)) w();
    this.metrics.setQueueDepth(0);
  }

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}
