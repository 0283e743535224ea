/** What a poller has to show: the last answer, the last failure, and whether the server is slow to answer. */
export interface PollState<T> {
  data: T | null;
  error: Error | null;
  /** A request has been pending for longer than the interval: the data shown is older than it should be. */
  stale: boolean;
}

/**
 * Calls `load` every `intervalMs`, with never more than one request in flight: a tick that finds the previous
 * request still pending starts nothing (a slow server would otherwise get a growing pile of requests from every
 * open tab) and, once the wait exceeds the interval, marks the state stale. `refresh()` during a request asks for
 * one more right after it. `stop()` aborts the pending request and drops whatever it answers.
 */
export class Poller<T> {
  private state: PollState<T> = { data: null, error: null, stale: false };
  private inFlight: { controller: AbortController; startedAt: number } | null = null;
  private again = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(
    private readonly load: (signal: AbortSignal) => Promise<T>,
    private readonly intervalMs: number,
    private readonly onChange: (s: PollState<T>) => void,
    private readonly now: () => number = () => Date.now(),
    private readonly visible: () => boolean = () => true,
  ) {}

  /** Loads now, then on every tick while visible. */
  start(): void {
    this.run();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  /** One tick of the interval (public for the visibility handler and for tests). */
  tick(): void {
    if (this.stopped || !this.visible()) return;
    if (this.inFlight) {
      if (!this.state.stale && this.now() - this.inFlight.startedAt >= this.intervalMs) this.set({ stale: true });
      return;
    }
    this.run();
  }

  /** Loads now (after an action); if a request is pending, once more as soon as it is answered. */
  refresh(): void {
    if (this.inFlight) this.again = true;
    else this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.inFlight?.controller.abort();
    this.inFlight = null;
  }

  /** Requests in flight: 0 or 1. */
  get pending(): number {
    return this.inFlight ? 1 : 0;
  }

  private run(): void {
    if (this.stopped) return;
    const controller = new AbortController();
    const mine = { controller, startedAt: this.now() };
    this.inFlight = mine;
    this.load(controller.signal).then(
      (data) => this.settle(mine, { data, error: null, stale: false }),
      (e: unknown) => this.settle(mine, { error: e instanceof Error ? e : new Error(String(e)), stale: false }),
    );
  }

  private settle(mine: { controller: AbortController }, patch: Partial<PollState<T>>): void {
    if (this.stopped || this.inFlight !== mine) return;
    this.inFlight = null;
    this.set(patch);
    if (this.again) {
      this.again = false;
      this.run();
    }
  }

  private set(patch: Partial<PollState<T>>): void {
    this.state = { ...this.state, ...patch };
    this.onChange(this.state);
  }
}
