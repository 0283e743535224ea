type Pending<I, R> = { item: I; resolve: (r: R) => void; reject: (e: unknown) => void };

/**
 * Group commit: callers submit items and await their own result, while the
 * items submitted during one turn of the event loop are flushed together. One
 * fsync then covers many files, which is what keeps small files fast without
 * giving up durability (no caller resumes before its item is durable).
 */
export class Batcher<I, R> {
  private queue: Pending<I, R>[] = [];
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();

  /** `flush` gets a whole batch and returns one result (or Error) per item, in order. */
  constructor(private readonly flush: (items: I[]) => Promise<(R | Error)[]> | (R | Error)[]) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.kick());
      }
    });
  }

  private kick(): void {
    // Flushes are serialized: a batch waits for the previous one, gathering more items meanwhile.
    this.running = this.running.then(async () => {
      this.scheduled = false;
      const batch = this.queue;
      this.queue = [];
      if (batch.length === 0) return;
      let results: (R | Error)[];
      try {
        results = await this.flush(batch.map((p) => p.item));
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
      batch.forEach((p, i) => {
        const r = results[i] as R | Error;
        if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      });
    });
  }

  /** Resolves once everything submitted so far has been flushed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) {
      await new Promise((r) => setImmediate(r));
      await this.running;
    }
    await this.running;
  }
}
