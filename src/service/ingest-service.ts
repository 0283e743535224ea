import type { Wired } from "../cli/wire.js";
import { makeDryRun } from "../pipeline/dry-run.js";
import { ingestCandidate } from "../pipeline/ingest-file.js";
import { recover } from "../pipeline/recovery.js";
import { sleep } from "../pipeline/retry.js";
import { Runner } from "../pipeline/runner.js";
import type { CompletionDetector } from "../watch/completion-detector.js";
import { Discovery } from "../watch/discovery.js";
import { makeIgnoreRule } from "../watch/ignore-rules.js";
import { SidecarDetector } from "../watch/sidecar-detector.js";
import { StabilityDetector } from "../watch/stability-detector.js";

/** How long in-flight files get to finish after SIGTERM before they are left to recovery. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * The running ingestor: recovery first, then discovery feeding the runner.
 * `sluice run` drives it; `sluice serve` will put an HTTP server beside it.
 */
export class IngestService {
  readonly runner: Runner;
  private readonly discovery: Discovery;
  private metricsTimer: NodeJS.Timeout | null = null;

  constructor(private readonly wired: Wired) {
    const { ctx } = wired;
    const config = ctx.config;
    const work = config.dryRun
      ? makeDryRun(ctx)
      : (c: Parameters<typeof ingestCandidate>[1]) => ingestCandidate(ctx, c);
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

  async start(): Promise<void> {
    const { ctx } = this.wired;
    if (!ctx.config.dryRun) await recover(ctx);
    await this.discovery.start();
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

  /** `--once`: resolves when nothing is queued, in flight, or waiting to become ready. */
  async drained(): Promise<void> {
    for (;;) {
      if (this.runner.isIdle() && this.discovery.pending() === 0) {
        // Settle: a hand-back from the runner re-enters the detector asynchronously.
        await sleep(20);
        if (this.runner.isIdle() && this.discovery.pending() === 0) return;
      }
      await sleep(25);
    }
  }

  /** Stop looking for files, let in-flight ones finish (bounded), then close everything. */
  async stop(): Promise<void> {
    this.discovery.stop();
    this.runner.stopAccepting();
    const grace = setTimeout(() => this.wired.abort.abort(), SHUTDOWN_GRACE_MS);
    await this.runner.whenIdle();
    clearTimeout(grace);
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.logMetrics();
    await this.wired.close();
  }

  /** A second signal: give up on in-flight files now; recovery finishes them on the next start. */
  abortInFlight(): void {
    this.wired.abort.abort();
  }
}
