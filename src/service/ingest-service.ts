import type { Activity } from "../api/deps.js";
import type { Wired } from "../cli/wire.js";
import { sleep } from "../core/retry.js";
import { makeDryRun } from "../pipeline/dry-run.js";
import { ingestFiles, smallFileLane } from "../pipeline/forward/driver.js";
import { recover } from "../pipeline/recovery.js";
import { type BatchLane, Runner } from "../pipeline/runner.js";
import type { Candidate } from "../watch/candidate.js";
import type { CompletionDetector } from "../watch/completion-detector.js";
import { Discovery } from "../watch/discovery.js";
import { makeIgnoreRule } from "../watch/ignore-rules.js";
import { SidecarDetector } from "../watch/sidecar-detector.js";
import { StabilityDetector } from "../watch/stability-detector.js";
import { ClusterMember } from "./cluster-member.js";
import { sweepStaleUploads } from "./stale-uploads.js";

/** How long aborted work gets to unwind before shutdown goes on without it (at most; a short grace shortens it). */
const ABANDON_AFTER_ABORT_MS = 10_000;

/**
 * The running ingestor: recovery first, then discovery feeding the runner.
 * `sluice run` drives it; `sluice serve` will put an HTTP server beside it.
 */
export class IngestService {
  readonly runner: Runner;
  private readonly discovery: Discovery;
  /** Set when the state is shared by several nodes. */
  private readonly member: ClusterMember | null;
  private metricsTimer: NodeJS.Timeout | null = null;
  /** Set when stop() went on without work that ignored the abort: its timers or handles may still hold the loop. */
  abandonedWork = false;

  constructor(private readonly wired: Wired) {
    const { ctx } = wired;
    const config = ctx.config;
    const leases = config.dryRun ? undefined : ctx.store.leases;
    this.member = leases ? new ClusterMember(leases, ctx, () => this.runner) : null;
    // A file outside the small-file lane is a batch of one: the same forward path.
    const ingest = async (c: Candidate) => (await ingestFiles(ctx, [c]))[0] ?? "aborted";
    const work = config.dryRun ? makeDryRun(ctx) : this.member ? this.member.guard(ingest) : ingest;
    this.runner = new Runner(
      config.concurrency,
      work,
      // A file handed back (not ready, failed, replaced) is looked at again. After a clean ingest the name is
      // only looked at again if something was noticed there meanwhile: that saves a stat per file, and the
      // periodic rescan remains the safety net.
      (c, outcome, seenWhileBusy) => {
        if (outcome === "skipped" || outcome === "aborted") return;
        const clean = outcome === "ingested" || outcome === "duplicate";
        if (!clean || seenWhileBusy) this.discovery.recheck(c.path, c.name);
      },
      ctx.metrics,
      (c, err) =>
        ctx.log.error({
          event: "file_error",
          path: c.path,
          error: (err as Error).message,
          stack: (err as Error).stack,
        }),
      config.dryRun ? null : this.batchLane(),
    );
    const onReady = (c: Parameters<Runner["offer"]>[0]) => this.runner.offer(c);
    const isIgnored = makeIgnoreRule(config.ignore);
    const detector: CompletionDetector =
      config.mode === "sidecar"
        ? new SidecarDetector(onReady, isIgnored)
        : new StabilityDetector(config.stabilityMs, onReady);
    this.discovery = new Discovery(
      {
        input: config.input,
        recursive: config.recursive,
        scanIntervalMs: config.scanIntervalMs,
        watchEvents: !config.once,
        isIgnored,
        isBusy: (p) => this.runner.noteIfBusy(p),
        room: () => this.runner.room(),
      },
      detector,
      ctx.log,
    );
  }

  /** The small-file lane; on a shared state each batch works only the names it claimed (as `guard` per file). */
  private batchLane(): BatchLane {
    const lane = smallFileLane(this.wired.ctx);
    return this.member ? { ...lane, run: this.member.guardBatch(lane.run) } : lane;
  }

  async start(): Promise<void> {
    const { ctx } = this.wired;
    // Joining first frees this node's stale claims and shows it alive, so no other node adopts what it recovers.
    if (this.member) await this.member.join();
    if (!ctx.config.dryRun) {
      await sweepStaleUploads(ctx);
      await recover(ctx);
    }
    await this.discovery.start();
    this.member?.start();
    // Beside the ingestion, never in its way: its own loop, its own transactions.
    this.wired.outbox?.start();
    if (ctx.config.metricsIntervalMs > 0) {
      this.metricsTimer = setInterval(() => this.logMetrics(), ctx.config.metricsIntervalMs);
      this.metricsTimer.unref();
    }
  }

  logMetrics(): void {
    const { ctx } = this.wired;
    ctx.log.info({
      event: "metrics",
      ...ctx.metrics.snapshot(this.runner.queued(), this.runner.inFlight(), this.discovery.pending()),
    });
  }

  /** What is queued, in flight, pending readiness and stalled on the warehouse, right now. */
  activity(): Activity {
    return {
      queueDepth: this.runner.queued(),
      inFlight: this.runner.inFlight(),
      pending: this.discovery.pending(),
      warehouseWaiting: this.wired.ctx.metrics.warehouseWaiting(),
    };
  }

  /** `--once`: resolves when nothing is queued, in flight, or waiting to become ready. */
  async drained(): Promise<void> {
    // Event-driven waits hold no handle of their own: if the work in flight waits on something that does not keep
    // the event loop alive either (a stream abandoned to the garbage collector), Node would exit with status 13 in
    // the middle of the run. A referenced timer keeps the process up until the work really settles.
    const keepAlive = setInterval(() => undefined, 1_000);
    try {
      for (;;) {
        // Event-driven rather than polled: a 5,000-file run takes about a second, and polling added 20–45 ms to it.
        await this.runner.whenIdle();
        // A file handed back re-enters the detector, which may look at the disk asynchronously before offering it.
        await this.discovery.settled();
        if (this.runner.isIdle() && this.discovery.pending() === 0) return;
        // Files seen but not yet ready (their stability window is running).
        if (this.runner.isIdle()) await sleep(25);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Stop looking for files, let in-flight ones finish (bounded), then close everything. */
  async stop(): Promise<void> {
    this.discovery.stop();
    this.runner.stopAccepting();
    const graceMs = this.wired.ctx.config.shutdownGraceMs;
    const grace = setTimeout(() => this.wired.abort.abort(), graceMs);
    // Work that ignores the abort (a bug: a stream that never settles) must not keep the process from exiting:
    // what is still in flight then is left to recovery, exactly as after a kill.
    let abandon: NodeJS.Timeout | undefined;
    const abandoned = new Promise<"abandoned">((resolve) => {
      abandon = setTimeout(
        () => resolve("abandoned"),
        graceMs + Math.max(1000, Math.min(ABANDON_AFTER_ABORT_MS, graceMs)),
      );
    });
    const how = await Promise.race([this.runner.whenIdle().then(() => "idle" as const), abandoned]);
    clearTimeout(grace);
    clearTimeout(abandon);
    if (how === "abandoned") {
      this.abandonedWork = true;
      this.wired.ctx.log.error({ event: "shutdown_abandoned", in_flight: this.runner.inFlight() });
    }
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    // A last bounded flush of what was finished (a `--once` run notifies before it exits when targets answer).
    await this.wired.outbox?.stop(Math.min(5_000, graceMs));
    await this.member?.stop();
    this.logMetrics();
    await this.wired.close();
  }

  /** A second signal: give up on in-flight files now; recovery finishes them on the next start. */
  abortInFlight(): void {
    this.wired.abort.abort();
  }
}
