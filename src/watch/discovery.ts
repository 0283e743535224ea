import { lstat } from "node:fs/promises";
import type { Logger } from "../telemetry/logger.js";
import type { CompletionDetector } from "./completion-detector.js";
import { DirWatcher } from "./dir-watcher.js";
import { scanStaging } from "./staging-scanner.js";

export interface DiscoveryOptions {
  input: string;
  recursive: boolean;
  scanIntervalMs: number;
  /** Without live events (--once): only scans and the detector's own re-checks. */
  watchEvents: boolean;
  isIgnored: (name: string) => boolean;
  /** Paths the pipeline owns right now are not observed again. */
  isBusy: (path: string) => boolean;
  /** Resolves when the pipeline can take more work; a scan waits on it before each file. */
  room: () => Promise<void>;
}

/**
 * Finds candidate files: fs events for speed, a full rescan at start and
 * every scan interval as the safety net, both feeding the completion detector.
 */
export class Discovery {
  private readonly watcher: DirWatcher;
  private scanTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescanRequested = false;
  private stopped = false;
  scansCompleted = 0;

  constructor(
    private readonly opts: DiscoveryOptions,
    private readonly detector: CompletionDetector,
    private readonly log: Logger,
  ) {
    this.watcher = new DirWatcher(
      (path, name) => this.onEvent(path, name),
      () => this.requestRescan("event queue overflow or watcher error"),
    );
  }

  async start(): Promise<void> {
    if (this.opts.watchEvents) this.watcher.add(this.opts.input, "");
    await this.scan();
    this.scanTimer = setInterval(() => void this.scan(), this.opts.scanIntervalMs);
    this.scanTimer.unref();
  }

  /** Hand-back observations still running (a detector may look at the disk asynchronously). */
  private readonly rechecking = new Set<Promise<void>>();

  /** Re-observe one path (the pipeline found it changed while it was being read). */
  recheck(path: string, name: string): void {
    const p = this.detector.observe(path, name).finally(() => this.rechecking.delete(p));
    this.rechecking.add(p);
  }

  /** Resolves once no hand-back observation is running: whatever they found has been offered by then. */
  async settled(): Promise<void> {
    while (this.rechecking.size > 0) await Promise.allSettled([...this.rechecking]);
  }

  private onEvent(path: string, name: string): void {
    if (this.stopped || this.opts.isIgnored(name) || this.opts.isBusy(path)) return;
    if (this.opts.recursive) {
      void lstat(path)
        .then((st) => {
          if (st.isDirectory()) {
            this.watcher.add(path, name);
            this.requestRescan("new directory");
          } else void this.detector.observe(path, name);
        })
        .catch(() => undefined);
      return;
    }
    void this.detector.observe(path, name);
  }

  private requestRescan(reason: string): void {
    this.log.debug({ event: "rescan_requested", reason });
    if (this.scanning) this.rescanRequested = true;
    else void this.scan();
  }

  /** One full pass over staging; concurrent requests fold into one follow-up pass. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanRequested = false;
        const started = performance.now();
        await scanStaging(
          this.opts.input,
          this.opts.recursive,
          this.opts.isIgnored,
          async (path, name) => {
            await this.opts.room();
            if (!this.stopped && !this.opts.isBusy(path)) await this.detector.observe(path, name);
          },
          (dir, name) => {
            if (this.opts.watchEvents) this.watcher.add(dir, name);
          },
        );
        this.scansCompleted++;
        this.log.debug({ event: "scan_completed", duration_ms: Math.round(performance.now() - started) });
      } while (this.rescanRequested && !this.stopped);
      this.scanning = null;
    })();
    return this.scanning;
  }

  pending(): number {
    return this.detector.pending();
  }

  stop(): void {
    this.stopped = true;
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.watcher.close();
    this.detector.stop();
  }
}
