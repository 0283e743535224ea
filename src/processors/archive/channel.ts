/**
 * Turns push-style library events (tar-stream's "entry", yauzl's "entry") into awaitable pulls.
 * Both libraries wait for an acknowledgement before producing the next item, so the queue
 * stays tiny; it exists only to absorb an item that arrives before anyone awaits it.
 */
export class Channel<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve(v: T | null): void; reject(e: unknown): void } | null = null;
  private ended = false;
  private error: unknown = null;

  push(item: T): void {
    if (this.ended || this.error !== null) return;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve(item);
    } else {
      this.queue.push(item);
    }
  }

  end(): void {
    if (this.ended || this.error !== null) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** The first failure wins: later ones are usually consequences of it. */
  fail(err: unknown): void {
    if (this.ended || this.error !== null) return;
    this.error = err;
    this.settleWaiter();
  }

  /** The next item, null at the end; rejects once the source failed (queued items come first). */
  next(): Promise<T | null> {
    const item = this.queue.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private settleWaiter(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    if (this.error !== null) w.reject(this.error);
    else w.resolve(null);
  }
}
