import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { DuckOptions, DuckSession } from "./duckdb-session.js";

/**
 * One DuckDB instance kept open for the whole process and lent out as a fresh
 * connection per conversion. Creating and closing an instance costs ~55 ms,
 * more than converting a 4 KiB CSV (docs/performance.md, "Small tabular
 * files"); a connection costs well under a millisecond.
 *
 * Nothing of one file reaches the next: every table a conversion creates is
 * TEMP (its own, rejects tables included), and DuckDB drops a connection's
 * temp catalog and session settings when the connection closes. Memory stays
 * bounded by the instance's memory_limit, as it was per file.
 *
 * A conversion that failed for a reason other than the file's content (an
 * internal or fatal DuckDB error, out of memory, I/O) calls `discard`: the
 * instance is thrown away and the next file gets a new one, so a poisoned
 * instance fails at most the file in hand.
 *
 * This module loads no DuckDB until the first conversion: wiring it costs nothing to a run that meets no table.
 */
/**
 * Conversions an instance serves before it is replaced. Its RSS creeps by ~8 MiB per 1,000 small files (allocator
 * and DuckDB caches, measured over 2,000): renewing it every 500 bounds that for a service that runs for months, at
 * ~40 ms per 500 files.
 */
const RENEW_AFTER = 500;

export class WarmDuck {
  #current: Held | null = null;
  #closed = false;

  /** A fresh connection on the shared instance (opened, or re-opened when the options changed). */
  async session(opts: DuckOptions): Promise<DuckSession> {
    const { openDuck, openDuckInstance } = await import("./duckdb-session.js");
    // After shutdown (a straggler): a private instance, closed with its session, never a leak.
    if (this.#closed) return openDuck(opts);
    const key = JSON.stringify([opts.memoryLimit, Math.max(1, opts.threads), opts.tempDirectory ?? null]);
    if (this.#current && (this.#current.key !== key || this.#current.served >= RENEW_AFTER)) this.discard();
    if (!this.#current)
      this.#current = { instance: await openDuckInstance(opts), key, lent: 0, served: 0, retired: false };
    let held = this.#current;
    let conn: DuckDBConnection;
    try {
      conn = await held.instance.connect();
    } catch {
      // An instance that cannot even give a connection is dead (invalidated by a fatal error): replace it once.
      this.discard();
      held = this.#current = { instance: await openDuckInstance(opts), key, lent: 0, served: 0, retired: false };
      conn = await held.instance.connect();
    }
    held.lent++;
    held.served++;
    let open = true;
    return {
      conn,
      close() {
        if (!open) return;
        open = false;
        conn.closeSync();
        held.lent--;
        if (held.retired && held.lent === 0) closeQuietly(held.instance);
      },
    };
  }

  /** Throws the current instance away (closed now, or when its last session closes): the next session opens a new one. */
  discard(): void {
    const held = this.#current;
    if (!held) return;
    this.#current = null;
    held.retired = true;
    if (held.lent === 0) closeQuietly(held.instance);
  }

  /** At shutdown: closes the instance (now, or when the conversion in hand ends). */
  close(): void {
    this.#closed = true;
    this.discard();
  }

  /** Whether an instance is kept open now (for tests). */
  get isOpen(): boolean {
    return this.#current !== null;
  }
}

interface Held {
  instance: DuckDBInstance;
  /** The options it was opened with: other options need another instance. */
  key: string;
  /** Sessions lent out and not yet closed. */
  lent: number;
  /** Sessions lent out in all. */
  served: number;
  /** Discarded: closes when `lent` reaches 0. */
  retired: boolean;
}

function closeQuietly(instance: DuckDBInstance): void {
  try {
    instance.closeSync();
  } catch {
    // A dead instance may refuse to close: it is dropped either way.
  }
}
