import { setMaxListeners } from "node:events";
import { Limiter } from "../core/limiter.js";
import { fullJitterMs, retry, ShutdownError } from "../core/retry.js";
import { crashPoint } from "../durable/crash-points.js";
import type { OutboxKey, OutboxRetry, OutboxRow } from "../store/outbox-types.js";
import type { StateStore } from "../store/state-store.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { Notifier } from "./notifier.js";

export interface OutboxWorkerOptions {
  /** This node: its lease on the rows it delivers (a shared store). */
  owner: string;
  /** Rows read per round (bounded work per round, whatever the backlog). */
  batch: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** How long a claimed row stays this node's; after it another node may deliver it. */
  leaseMs: number;
  /** First retry of a failed delivery within [0, baseMs); the ceiling doubles per attempt up to capMs. */
  retryBaseMs: number;
  retryCapMs: number;
  /** How often the outbox is looked at when a round found nothing due. */
  pollMs: number;
}

/** What `/readyz` shows per target. */
export interface TargetStatus {
  target: string;
  /** Named by `--notify` in this process (rows of a target no longer configured are left alone). */
  configured: boolean;
  /** The last delivery to it succeeded (true before any). */
  up: boolean;
  pending: number;
  /** Age of the oldest undelivered event, seconds. */
  lagSeconds: number;
}

/**
 * Delivers the outbox: a loop of its own beside the ingestion, which never waits for it. Each round claims at
 * most `batch` due rows (leased on a shared store), delivers them with at most `concurrency` in flight, then
 * commits the bookkeeping in one transaction of its own: delivered rows deleted, failed ones rescheduled with
 * capped full-jitter backoff. A kill anywhere leaves the rows in the outbox: they are delivered again (at least
 * once; the webhook's `webhook-id`/CloudEvent id and NATS's Nats-Msg-Id let the receiver drop the repeat).
 */
export class OutboxWorker {
  private readonly notifiers: Map<string, Notifier>;
  private readonly up = new Map<string, boolean>();
  private readonly stopper = new AbortController();
  /** Fired when the shutdown's flush time is up: deliveries in flight are given up. */
  private readonly cut = new AbortController();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lastGauges = 0;

  constructor(
    private readonly store: StateStore,
    notifiers: Notifier[],
    private readonly opts: OutboxWorkerOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.notifiers = new Map(notifiers.map((n) => [n.target, n]));
    // Every delivery in flight (at most `concurrency`) listens for the cut.
    setMaxListeners(0, this.cut.signal);
  }

  get targets(): string[] {
    return [...this.notifiers.keys()];
  }

  /** Refuses a target that can never work (a NATS subject no stream captures): exit 2 before any file. */
  async check(): Promise<void> {
    for (const n of this.notifiers.values()) await n.check();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Stops the loop, then flushes what is due until nothing is or `flushMs` passed (`--once` delivers what it
   * finished before it exits when the targets answer). At `flushMs` the deliveries still in flight are given up
   * (counted failed; a POST may still land: at least once): a slow target never holds the shutdown longer.
   */
  async stop(flushMs: number): Promise<void> {
    const cutTimer = setTimeout(() => this.cut.abort(), flushMs);
    this.stopper.abort();
    this.wake?.();
    try {
      await this.loop;
      while (!this.cut.signal.aborted) if ((await this.round()) === 0) break;
    } catch (err) {
      this.log.warn({ event: "notify_flush_failed", error: (err as Error).message });
    } finally {
      clearTimeout(cutTimer);
    }
    for (const n of this.notifiers.values()) await n.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopper.signal.aborted) {
      let n = 0;
      try {
        n = await this.round();
        if (Date.now() - this.lastGauges > 5_000) await this.refreshGauges();
      } catch (err) {
        if (err instanceof ShutdownError) return;
        // The store is away (PostgreSQL restarting): the next round tries again; ingestion waits it out itself.
        this.log.warn({ event: "notify_round_failed", error: (err as Error).message });
      }
      // A full round: more may be due at once. Otherwise wait for the next poll (or stop).
      if (n < this.opts.batch) await this.idle(this.opts.pollMs);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One round; returns how many rows it handled. */
  private async round(): Promise<number> {
    const rows = await this.store.claimOutbox({
      owner: this.opts.owner,
      targets: this.targets,
      limit: this.opts.batch,
      leaseMs: this.opts.leaseMs,
    });
    if (rows.length === 0) return 0;
    const delivered: OutboxKey[] = [];
    const retries: OutboxRetry[] = [];
    const slots = new Limiter(this.opts.concurrency);
    await Promise.all(
      rows.map((row) =>
        slots.run(async () => {
          const err = await this.deliver(row);
          const key = { eventId: row.eventId, target: row.target };
          if (err === null) {
            delivered.push(key);
            return;
          }
          const attempts = row.attempts + 1;
          const delayMs = fullJitterMs(attempts, this.opts.retryBaseMs, this.opts.retryCapMs);
          retries.push({ ...key, attempts, delayMs, error: err.slice(0, 500) });
        }),
      ),
    );
    // What survives a kill here: every row of the round, delivered or not; all are delivered again.
    await retry(() => this.store.settleOutbox(delivered, retries), {
      signal: undefined,
      baseMs: 200,
      capMs: 5_000,
      maxAttempts: 20,
    });
    return rows.length;
  }

  /** null when delivered, else why not. */
  private async deliver(row: OutboxRow): Promise<string | null> {
    const n = this.notifiers.get(row.target);
    if (!n) return "target not configured";
    // The event is committed with its state and not delivered: a kill here must lose nothing.
    crashPoint("outbox-before-deliver");
    try {
      await this.unlessCut(n.deliver({ id: row.eventId, type: row.type, payload: row.payload }));
    } catch (err) {
      this.metrics.notifyFailed(row.target);
      if (!this.cut.signal.aborted) this.mark(row.target, false, err as Error);
      return (err as Error).message;
    }
    // Delivered, the row not yet deleted: a kill here redelivers it (NATS drops it as a duplicate).
    crashPoint("outbox-after-deliver");
    this.metrics.notifyDelivered(row.target, (Date.now() - Date.parse(row.createdAt)) / 1000);
    this.mark(row.target, true);
    return null;
  }

  /** `p`, unless the shutdown gives up on deliveries in flight first (the listener goes either way). */
  private async unlessCut<T>(p: Promise<T>): Promise<T> {
    const signal = this.cut.signal;
    if (signal.aborted) throw new Error("shutting down: delivery given up");
    let onAbort = () => {};
    const cut = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error("shutting down: delivery given up"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([p, cut]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** One log line when a target goes down or comes back, never one per failed attempt. */
  private mark(target: string, ok: boolean, err?: Error): void {
    const was = this.up.get(target) ?? true;
    this.up.set(target, ok);
    if (was === ok) return;
    if (ok) this.log.info({ event: "notify_target_up", target });
    else this.log.warn({ event: "notify_target_down", target, error: err?.message ?? "" });
  }

  private async refreshGauges(): Promise<void> {
    this.lastGauges = Date.now();
    const status = await this.status();
    this.metrics.notifyBacklog(status);
  }

  /** Per target: configured, up, pending and lag; every configured target, and any other with rows left. */
  async status(): Promise<TargetStatus[]> {
    const backlog = new Map((await this.store.outboxBacklog()).map((b) => [b.target, b]));
    const names = new Set([...this.notifiers.keys(), ...backlog.keys()]);
    return [...names].sort().map((target) => {
      const b = backlog.get(target);
      return {
        target,
        configured: this.notifiers.has(target),
        up: this.up.get(target) ?? true,
        pending: b?.pending ?? 0,
        lagSeconds: b ? Math.max(0, (Date.now() - Date.parse(b.oldestAt)) / 1000) : 0,
      };
    });
  }
}
