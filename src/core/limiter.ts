/**
 * At most `slots` tasks at once, in arrival order. Conversions are bounded by
 * this, not by `--concurrency`: 256 small files may be in flight, but each
 * DuckDB conversion may use `--duckdb-memory-limit` and every CPU.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly slots: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
