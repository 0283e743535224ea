// The one retry module: every loop in sluice that waits something out (a full disk, a restarting database, a
// throttling S3 endpoint) sleeps, backs off and decides what is worth another attempt here.
import { isRetriableS3Error, S3IntegrityError, S3KeyOccupiedError, S3PermanentError } from "../warehouse/s3/errors.js";
import { SluiceError } from "./errors.js";
import { NETWORK_ERRNO } from "./network-errors.js";

/** The work was stopped by shutdown (the signal fired): what callers catch to unwind without failing the file. */
export class ShutdownError extends Error {}

function shutdown(signal: AbortSignal): ShutdownError {
  return new ShutdownError("shutting down", { cause: signal.reason });
}

/** Waits `ms`; rejects with ShutdownError at once if `signal` fires (or has fired). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(shutdown(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(shutdown(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Full jitter: a uniform wait in [0, min(cap, base·2^(attempt-1))), so many waiters (files, nodes) spread out
 * instead of retrying in step. `attempt` counts from 1.
 */
export function fullJitterMs(attempt: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.random() * ceiling;
}

/**
 * Node errno codes worth waiting out: the machine's or the network's state, never a file's fault or a bug, and
 * each one something that goes away by itself or by an operator's fix while sluice waits.
 */
const RETRYABLE_ERRNO = new Set([
  // Full or exhausted: space, quota, descriptors, kernel memory. Freed by an operator or by other work ending.
  "ENOSPC",
  "EDQUOT",
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  // A disk or network filesystem that failed an operation, or is busy: a later attempt may go through.
  "EIO",
  "EAGAIN",
  "EWOULDBLOCK",
  "EBUSY",
  "EINTR",
  "ENOTCONN",
  // sluice's own directories made read-only or unwritable under it (a remount, a chmod): waited out until fixed,
  // as docs/errors.md SLUICE_ERR_WAREHOUSE_WRITE promises. (A source that cannot be read is counted separately, by
  // the read step's own rule: SLUICE_ERR_SOURCE_UNREADABLE after --max-attempts.)
  "EROFS",
  "EACCES",
  "EPERM",
  // The network: a peer (database, S3 endpoint) down, restarting or unreachable, DNS failing for a while.
  ...NETWORK_ERRNO,
]);
// Not listed, on purpose: ENOENT (a file gone is the caller's verdict: vanished), EEXIST, ENOTDIR, EISDIR,
// ENAMETOOLONG, ELOOP, EXDEV (the name or layout is wrong: retrying meets it again), EINVAL and EBADF (a bug).

/**
 * better-sqlite3's `SqliteError.code`, extended result codes included: the database is locked by another
 * connection, its disk is full or failing, or its file was made read-only. A constraint, a SQL error, misuse or
 * corruption is not here: the same statement fails the same way.
 */
const RETRYABLE_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|PROTOCOL|NOMEM)(_[A-Z_]+)?$|^SQLITE_(READONLY|CANTOPEN)$/;

/**
 * PostgreSQL SQLSTATEs of the connection, not of the SQL: class 08 (connection exception), class 53 (insufficient
 * resources: disk full, out of memory, too many connections), 57P01-57P03 (the server is shutting down,
 * crashed, or starting up), 58030 (the server's I/O error), and the two a transaction can simply run again:
 * 40001 (serialization failure) and 40P01 (deadlock). Any other SQLSTATE is the statement's fault.
 */
const RETRYABLE_SQLSTATE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[123]|58030|40001|40P01)$/;

/** What `pg` throws, without a code, when its connection goes (checked only on errors that carry no code). */
const PG_CONNECTION_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** A PostgreSQL connection-class failure: the server is away, restarting or unreachable, or a transaction lost a race. */
export function isConnectionError(err: unknown): boolean {
  return walk(err, (e) => {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code !== undefined) return RETRYABLE_SQLSTATE.test(code) || NETWORK_ERRNO.has(code);
    return typeof e.message === "string" && PG_CONNECTION_MESSAGE.test(e.message);
  });
}

/**
 * The allow-list: would the same operation, tried again later, likely succeed? True for I/O errors, a full
 * disk, exhausted descriptors, permissions on sluice's own directories, network failures, a busy or full SQLite,
 * a PostgreSQL connection-class SQLSTATE or pg's own connection errors, and S3's retriable set (throttling,
 * 5xx, timeouts). Everything else is not: a TypeError or RangeError (a bug), an assertion, a SQL error, a
 * verdict on the file (a SluiceError, ownership lost included), an unknown error. Looks through `cause`
 * chains and AggregateErrors (a wrapper such as SinkWriteError keeps the errno in its cause).
 */
export function isRetryable(err: unknown): boolean {
  if (isRetriableS3Error(err)) return true;
  return walk(err, (e) => {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code === undefined) return typeof e.message === "string" && PG_CONNECTION_MESSAGE.test(e.message);
    return RETRYABLE_ERRNO.has(code) || RETRYABLE_SQLITE.test(code) || RETRYABLE_SQLSTATE.test(code);
  });
}

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * Never retried, whatever their cause says: a verdict on the file, a refusal, the shutdown. (A TypeError or
 * RangeError carries no code: it is refused as unknown. Its cause is looked at, because fetch() reports a
 * network failure as TypeError("fetch failed") with the errno as its cause.)
 */
function isFinal(x: unknown): boolean {
  return (
    x instanceof SluiceError ||
    x instanceof ShutdownError ||
    x instanceof S3PermanentError ||
    x instanceof S3IntegrityError ||
    x instanceof S3KeyOccupiedError
  );
}

function walk(err: unknown, here: (e: ErrorShape) => boolean): boolean {
  const seen = new Set<unknown>();
  const visit = (x: unknown, depth: number): boolean => {
    if (typeof x !== "object" || x === null || seen.has(x) || depth > 8 || isFinal(x)) return false;
    seen.add(x);
    const e = x as ErrorShape;
    if (here(e)) return true;
    if (Array.isArray(e.errors) && e.errors.some((inner) => visit(inner, depth + 1))) return true;
    return visit(e.cause, depth + 1);
  };
  return visit(err, 0);
}

export interface RetryOptions {
  /** Stops the retrying, also during a wait: the promise rejects with ShutdownError. */
  signal?: AbortSignal | undefined;
  /** Which errors get another attempt; default {@link isRetryable}. Anything else is thrown at once. */
  retryable?: (err: unknown) => boolean;
  /** First backoff ceiling; doubles per attempt up to `capMs`. */
  baseMs: number;
  capMs: number;
  /** Attempts in all (the last error is thrown after it); default: no limit, the wait goes on until aborted. */
  maxAttempts?: number;
  /** Called before each wait, to log and count the retry. `attempt` is the one that failed, from 1. */
  onRetry?: ((err: unknown, attempt: number, delayMs: number) => void) | undefined;
}

/**
 * Runs `fn` until it succeeds, waiting a full-jitter backoff between attempts while it fails with an error
 * `retryable` accepts. A non-retryable error is thrown at once, after one call. `fn` must be safe to repeat.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { signal, retryable = isRetryable, baseMs, capMs, maxAttempts = Number.POSITIVE_INFINITY, onRetry } = opts;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw shutdown(signal);
    try {
      return await fn(attempt);
    } catch (err) {
      // An operation cut short by the shutdown fails however it likes (an AbortError, a closed store): it is
      // the shutdown, not a failure of the file.
      if (signal?.aborted && !(err instanceof ShutdownError)) throw shutdown(signal);
      if (attempt >= maxAttempts || !retryable(err)) throw err;
      const delayMs = fullJitterMs(attempt, baseMs, capMs);
      onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}
