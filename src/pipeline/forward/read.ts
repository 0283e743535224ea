import { closeSync, constants, fdatasync, fstatSync, openSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { SluiceError } from "../../core/errors.js";
import { retry } from "../../core/retry.js";
import { crashPoint, pausePoint } from "../../durable/crash-points.js";
import type { Candidate } from "../../watch/candidate.js";
import type { IngestContext } from "../context.js";
import { resourceExhaustion, SinkWriteError, SourceReadError } from "../outcomes.js";
import { retryUntilDone } from "../retry.js";
import { type HashedSource, hashSource, openSource } from "../stages/read-source.js";
import type { Item } from "./item.js";

const fdatasyncAsync = promisify(fdatasync);

/** Largest file read and hashed on the main thread (microseconds of work; a larger one goes to the thread pool). */
export const SMALL_FILE_MAX_BYTES = 64 * 1024;

/** A source that could not be read `maxAttempts` times: the file fails with SLUICE_ERR_SOURCE_UNREADABLE. */
export class GaveUpReading extends Error {
  constructor(
    readonly attempts: number,
    readonly last: SourceReadError,
  ) {
    super(last.message);
  }
}

/**
 * The read step: opens and hashes every item (copying it to the warehouse's temp area when the warehouse is on
 * another filesystem), then checks a sidecar's checksum. Small files are read on the main thread one after the
 * other and their copies fdatasync'ed together; a large one, or a small one whose quick read met anything
 * unexpected, is read with retries on the thread pool (that read reports what is wrong). A large file is
 * recorded `discovered` while it is read, so a long hash is visible. Returns the items read; the others failed.
 */
export async function readStep(
  ctx: IngestContext,
  items: Item[],
  fail: (it: Item, err: unknown) => void,
): Promise<Item[]> {
  const paused = pausePoint("before-open");
  if (paused) await paused;
  const small = Math.min(SMALL_FILE_MAX_BYTES, ctx.config.inlineHashMaxBytes);
  const slow: Item[] = [];
  for (const it of items) {
    ctx.log.debug({
      event: "file_ready",
      path: it.c.path,
      name: it.c.name,
      size: it.c.identity.size,
      ingest_id: it.file.ingestId,
    });
    if (it.c.identity.size <= small && readQuickly(ctx, it)) continue;
    slow.push(it);
  }
  await syncCopies(items, slow);
  await Promise.all(
    slow.map(async (it) => {
      if (it.c.identity.size > ctx.config.inlineHashMaxBytes) {
        it.discovered = retryUntilDone(
          "state: discovered",
          () => ctx.store.recordDiscovered(it.file),
          ctx.log,
          ctx.signal,
        );
      }
      try {
        it.src = await readWithRetries(ctx, it.c, it.file.ingestId);
      } catch (err) {
        fail(it, err);
      } finally {
        if (it.discovered) await it.discovered.catch((err) => it.src === null || fail(it, err));
      }
    }),
  );
  const read = items.filter((it) => it.src !== null && it.outcome === null);
  crashPoint("after-discover", read.length);
  crashPoint("after-copy", read.filter((it) => it.src?.tmpPath).length);
  return read.filter((it) => {
    const sidecar = it.c.sidecar;
    const src = it.src as HashedSource;
    if (!sidecar?.sha256 || sidecar.sha256 === src.sha256) return true;
    const detail = `content SHA-256 ${src.sha256} does not match ${sidecar.sha256} in ${sidecar.path}`;
    fail(it, new SluiceError("SLUICE_ERR_CHECKSUM_MISMATCH", detail));
    return false;
  });
}

/** Opens and hashes (and copies) a small file synchronously; false, with nothing left behind, if anything is off. */
function readQuickly(ctx: IngestContext, it: Item): boolean {
  let opened: ReturnType<typeof openSource>;
  try {
    opened = openSource(it.c.path, it.c.identity);
  } catch {
    return false;
  }
  const { fd, identity, owner } = opened;
  const tmpPath = ctx.warehouse.needsCopy(identity.device, owner) ? ctx.work.tmpPathFor(it.file.ingestId) : null;
  let out = -1;
  try {
    if (tmpPath) out = openSync(tmpPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    const r = ctx.hasher.hashSync(fd, out);
    // As in hashSource: a file that changed while it was read is not recorded with a stale hash.
    const after = fstatSync(fd);
    if (r.bytes === identity.size && after.size === identity.size && after.mtimeMs === identity.mtimeMs) {
      it.src = { fd, identity, owner, sha256: r.sha256, tmpPath };
      it.out = out;
      return true;
    }
  } catch {
    // The read with retries meets it again and reports what is wrong.
  }
  if (out >= 0) closeSync(out);
  if (tmpPath) rmSync(tmpPath, { force: true });
  closeSync(fd);
  return false;
}

/** fdatasync the temp copies written on the main thread together (each is its own file); a failed one is read again. */
async function syncCopies(items: Item[], again: Item[]): Promise<void> {
  const copies = items.filter((it) => it.out >= 0);
  await Promise.all(
    copies.map(async (it) => {
      try {
        await fdatasyncAsync(it.out);
      } catch {
        const src = it.src as HashedSource;
        rmSync(src.tmpPath as string, { force: true });
        closeSync(src.fd);
        it.src = null;
        again.push(it);
      } finally {
        closeSync(it.out);
        it.out = -1;
      }
    }),
  );
}

/**
 * Opens and hashes the source; a source that cannot be read is tried `maxAttempts` times with backoff, while a
 * warehouse that cannot take the temp copy is waited for indefinitely. Anything else is thrown after one try.
 */
async function readWithRetries(ctx: IngestContext, c: Candidate, ingestId: string): Promise<HashedSource> {
  let attempts = 0;
  try {
    return await retry(
      (attempt) => {
        attempts = attempt;
        return readWaitingForRoom(ctx, c, ingestId);
      },
      {
        signal: ctx.signal,
        retryable: (err) => err instanceof SourceReadError,
        maxAttempts: ctx.config.maxAttempts,
        baseMs: 250,
        capMs: 5_000,
        onRetry: (err, attempt) => {
          const e = err as SourceReadError;
          ctx.log.warn({ event: "read_retry", path: c.path, attempt, code: e.errno, error: e.message });
        },
      },
    );
  } catch (err) {
    if (err instanceof SourceReadError) throw new GaveUpReading(attempts, err);
    throw err;
  }
}

/**
 * One read of the source. A warehouse that cannot take the temp copy, or a descriptor table that is full
 * (EMFILE: too many connections or files at once), is the machine's state, not the file's: waited out here, not
 * counted as a read attempt.
 */
function readWaitingForRoom(ctx: IngestContext, c: Candidate, ingestId: string): Promise<HashedSource> {
  const exhausted = (err: unknown) => (err instanceof SinkWriteError ? err.errno : resourceExhaustion(err));
  return retry(
    async () => {
      const opened = openSource(c.path, c.identity);
      try {
        return await hashSource(ctx, opened, ingestId);
      } catch (err) {
        closeSync(opened.fd);
        throw err;
      }
    },
    {
      signal: ctx.signal,
      retryable: (err) => err instanceof SinkWriteError || exhausted(err) !== undefined,
      baseMs: 100,
      capMs: 30_000,
      onRetry: (err, attempt, delay) =>
        ctx.log.warn({
          event: "write_retry",
          what: err instanceof SinkWriteError ? "warehouse: temp copy" : "source: open",
          attempt,
          code: exhausted(err),
          error: (err as Error).message,
          retry_in_ms: Math.round(delay),
        }),
    },
  );
}
