/** One slot of the history: files finished and bytes ingested during `[t, t + bucket)`. */
export interface ThroughputPoint {
  /** Start of the slot, milliseconds since the epoch. */
  t: number;
  files: number;
  bytes: number;
  /** How much of the slot has elapsed, in seconds (less than the slot's length only for the current one). */
  seconds: number;
}

/**
 * Files and bytes finished per fixed time slot over a sliding window (the
 * dashboard's 15-minute chart). A ring of counters: recording is O(1) and the
 * memory is fixed however many files pass, so it can sit on the hot path.
 */
export class ThroughputHistory {
  private readonly slots: number;
  private readonly starts: Float64Array;
  private readonly files: Float64Array;
  private readonly bytes: Float64Array;

  constructor(
    readonly bucketMs = 5_000,
    readonly spanMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    if (bucketMs <= 0 || spanMs < bucketMs) throw new Error("ThroughputHistory: need 0 < bucketMs <= spanMs");
    this.slots = Math.ceil(spanMs / bucketMs);
    this.starts = new Float64Array(this.slots).fill(-1);
    this.files = new Float64Array(this.slots);
    this.bytes = new Float64Array(this.slots);
  }

  record(files: number, bytes: number): void {
    const start = this.slotStart(this.now());
    const i = this.indexOf(start);
    // A slot still holding an older window's counts is reused: reset it first.
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.files[i] = 0;
      this.bytes[i] = 0;
    }
    this.files[i] = (this.files[i] ?? 0) + files;
    this.bytes[i] = (this.bytes[i] ?? 0) + bytes;
  }

  /**
   * Every slot of the window, oldest first, ending with the current (partial)
   * one; slots with no traffic are zeros, so a chart gets an even time axis.
   */
  series(): ThroughputPoint[] {
    const now = this.now();
    const current = this.slotStart(now);
    const out: ThroughputPoint[] = [];
    for (let k = this.slots - 1; k >= 0; k--) {
      const t = current - k * this.bucketMs;
      const i = this.indexOf(t);
      const live = this.starts[i] === t;
      out.push({
        t,
        files: live ? (this.files[i] ?? 0) : 0,
        bytes: live ? (this.bytes[i] ?? 0) : 0,
        seconds: k === 0 ? Math.max((now - t) / 1000, 0.001) : this.bucketMs / 1000,
      });
    }
    return out;
  }

  private slotStart(ms: number): number {
    return Math.floor(ms / this.bucketMs) * this.bucketMs;
  }

  private indexOf(start: number): number {
    return Math.floor(start / this.bucketMs) % this.slots;
  }
}
