import type { Metrics } from "../telemetry/metrics.js";
import type { Candidate } from "../watch/candidate.js";
import type { Outcome } from "./outcomes.js";

/**
 * The work queue: ready files wait here for one of `concurrency` slots. A
 * path is owned by at most one task at a time (`noteIfBusy`), which is how events,
 * rescans and timers that all notice the same file collapse into one ingest.
 */
export class Runner {
  private readonly queue: Candidate[] = [];
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
  ) {}

  offer(c: Candidate): void {
    if (!this.accepting || this.busy.has(c.path)) return;
    this.busy.add(c.path);
    this.queue.push(c);
    this.metrics.queueDepth.set(this.queue.length);
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
      this.metrics.inFlight.set(this.running);
      this.metrics.queueDepth.set(this.queue.length);
      void this.work(c)
        .catch((err) => {
          this.onUnexpected(c, err);
          return "aborted" as Outcome;
        })
        .then((outcome) => {
          this.running--;
          this.busy.delete(c.path);
          const seen = this.seenWhileBusy.delete(c.path);
          this.metrics.inFlight.set(this.running);
          if (this.accepting) this.onReleased(c, outcome, seen);
          this.pump();
          if (this.queue.length < this.roomLimit()) for (const w of this.roomWaiters.splice(0)) w();
          if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
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
    if (this.queue.length < this.roomLimit() || !this.accepting) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  queued(): number {
    return this.queue.length;
  }

  inFlight(): number {
    return this.running;
  }

  isIdle(): boolean {
    return this.running === 0 && this.queue.length === 0;
  }

  /** Stop starting files; those queued but not started stay in staging for next time. */
  stopAccepting(): void {
    this.accepting = false;
    for (const c of this.queue.splice(0)) {
      this.busy.delete(c.path);
      this.seenWhileBusy.delete(c.path);
    }
    for (const w of this.roomWaiters.splice(0)) w();
    this.metrics.queueDepth.set(0);
  }

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}
