import { lstatSync } from "node:fs";
import { type FileIdentity, identityOf, sameIdentity } from "../core/file-record.js";
import type { CompletionDetector, ReadyHandler } from "./completion-detector.js";

interface Tracked {
  name: string;
  identity: FileIdentity;
  /** performance.now() of our first observation of this exact identity. */
  since: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Stability mode: a file is ready when size, mtime and inode are unchanged
 * across our own observations spanning the whole window, measured on the
 * monotonic clock. Never `now - mtime`: `cp -p`, `rsync -t` and `tar x` set
 * old mtimes on files still being written (chokidar #675).
 */
export class StabilityDetector implements CompletionDetector {
  private readonly tracked = new Map<string, Tracked>();
  private stopped = false;

  constructor(
    private readonly windowMs: number,
    private readonly onReady: ReadyHandler,
  ) {}

  async observe(path: string, name: string): Promise<void> {
    if (this.stopped) return;
    // Synchronous lstat: microseconds from the dentry cache, cheaper than a thread-pool round trip.
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) {
      this.untrack(path);
      return;
    }
    // Symlinks, FIFOs, sockets and devices are never candidates; a FIFO is never opened.
    if (!st.isFile()) {
      this.untrack(path);
      return;
    }
    const identity = identityOf(st);
    const now = performance.now();
    const t = this.tracked.get(path);
    if (!t || !sameIdentity(t.identity, identity)) {
      if (t?.timer) clearTimeout(t.timer);
      const fresh: Tracked = { name, identity, since: now, timer: null };
      this.tracked.set(path, fresh);
      if (this.windowMs === 0) this.ready(path, fresh);
      else this.schedule(path, fresh, this.windowMs);
      return;
    }
    const waited = now - t.since;
    if (waited >= this.windowMs) this.ready(path, t);
    else if (!t.timer) this.schedule(path, t, this.windowMs - waited);
  }

  private schedule(path: string, t: Tracked, delayMs: number): void {
    if (t.timer) clearTimeout(t.timer);
    // +1 ms: timers may fire a hair early relative to performance.now().
    t.timer = setTimeout(() => {
      t.timer = null;
      void this.observe(path, t.name);
    }, Math.ceil(delayMs) + 1);
  }

  private ready(path: string, t: Tracked): void {
    this.untrack(path);
    this.onReady({ path, name: t.name, identity: t.identity, sidecar: null });
  }

  private untrack(path: string): void {
    const t = this.tracked.get(path);
    if (t?.timer) clearTimeout(t.timer);
    this.tracked.delete(path);
  }

  pending(): number {
    return this.tracked.size;
  }

  stop(): void {
    this.stopped = true;
    for (const path of [...this.tracked.keys()]) this.untrack(path);
  }
}
