import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SluiceError } from "../../src/core/errors.js";
import { fullJitterMs, isConnectionError, isRetryable, retry, ShutdownError, sleep } from "../../src/core/retry.js";
import { SinkWriteError } from "../../src/pipeline/outcomes.js";
import { OwnershipLostError } from "../../src/store/rules/fence.js";
import { opErrorToError, toOpError } from "../../src/store/write-op.js";
import { S3PermanentError } from "../../src/warehouse/s3/errors.js";
import { PG_ADMIN_URL } from "../support/postgres.js";

const errno = (code: string, syscall = "write") =>
  Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno: -1, syscall });

describe("isRetryable: the allow-list", () => {
  it("accepts I/O, a full disk, exhausted descriptors, permissions on sluice's own paths, and the network", () => {
    for (const code of ["EIO", "ENOSPC", "EDQUOT", "EMFILE", "ENFILE", "EAGAIN", "EBUSY", "EROFS", "EACCES", "EPERM"]) {
      expect(isRetryable(errno(code)), code).toBe(true);
    }
    for (const code of ["ETIMEDOUT", "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "EHOSTUNREACH"]) {
      expect(isRetryable(errno(code, "connect")), code).toBe(true);
    }
    for (const code of ["ENETUNREACH", "ENETDOWN", "EAI_AGAIN", "ENOTFOUND"]) {
      expect(isRetryable(errno(code, "getaddrinfo")), code).toBe(true);
    }
  });

  it("refuses a bug, a missing or misplaced path, and anything unknown", () => {
    for (const err of [
      new TypeError("Cannot read properties of undefined (reading 'sha256')"),
      new RangeError("Invalid array length"),
      new ReferenceError("x is not defined"),
      Object.assign(new Error("assertion failed"), { name: "AssertionError", code: "ERR_ASSERTION" }),
      errno("ENOENT", "open"),
      errno("EEXIST", "mkdir"),
      errno("ENOTDIR", "mkdir"),
      errno("EISDIR", "open"),
      errno("ENAMETOOLONG", "open"),
      errno("EINVAL", "read"),
      errno("EBADF", "read"),
      new Error("something nobody foresaw"),
      "a string",
      undefined,
      null,
    ]) {
      expect(isRetryable(err), String(err)).toBe(false);
    }
  });

  it("refuses verdicts on the file and ownership lost, whatever their cause says", () => {
    expect(
      isRetryable(new SluiceError("SLUICE_ERR_PARSE", "no space left on device", { cause: errno("ENOSPC") })),
    ).toBe(false);
    expect(isRetryable(new OwnershipLostError("file x is no longer owned by this node"))).toBe(false);
    // As it comes back across the writer thread or a batch: data, turned back into the catalog's error.
    const crossed = opErrorToError(toOpError(new OwnershipLostError("adopted")));
    expect(crossed).toBeInstanceOf(SluiceError);
    expect((crossed as SluiceError).code).toBe("SLUICE_ERR_OWNERSHIP_LOST");
    expect(isRetryable(crossed)).toBe(false);
    expect(isRetryable(new ShutdownError("shutting down"))).toBe(false);
    expect(isRetryable(new S3PermanentError("no bucket", { code: "NoSuchBucket", cause: errno("ECONNRESET") }))).toBe(
      false,
    );
    // fetch() words a network failure as a TypeError whose cause is the errno: that is the network, not a bug.
    expect(isRetryable(new TypeError("fetch failed", { cause: errno("ECONNRESET") }))).toBe(true);
  });

  it("looks through wrappers: a cause chain, an AggregateError", () => {
    expect(isRetryable(new SinkWriteError("cannot write the temp copy", "ENOSPC", { cause: errno("ENOSPC") }))).toBe(
      true,
    );
    expect(isRetryable(new AggregateError([errno("ECONNREFUSED"), errno("ECONNREFUSED")], "connect failed"))).toBe(
      true,
    );
  });

  it("takes S3's retriable set as s3-errors defines it", () => {
    const sdk = (name: string, status: number) =>
      Object.assign(new Error("UnknownError"), { name, Code: name, $metadata: { httpStatusCode: status } });
    expect(isRetryable(sdk("SlowDown", 503))).toBe(true);
    expect(isRetryable(sdk("InternalError", 500))).toBe(true);
    expect(isRetryable(sdk("AccessDenied", 403))).toBe(false);
  });

  describe("SQLite (better-sqlite3's own errors)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-retry-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("a database locked by another connection is retryable; a constraint or a SQL error is not", () => {
      const path = join(dir, "t.db");
      const a = new Database(path);
      const b = new Database(path, { timeout: 0 });
      try {
        a.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
        a.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
        let busy: unknown;
        try {
          b.exec("INSERT INTO t VALUES (2)");
        } catch (err) {
          busy = err;
        }
        expect((busy as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
        expect(isRetryable(busy)).toBe(true);
        a.exec("COMMIT");
        const thrown = (sql: string) => {
          try {
            a.exec(sql);
          } catch (err) {
            return err;
          }
          throw new Error(`${sql} did not fail`);
        };
        const constraint = thrown("INSERT INTO t VALUES (1)");
        expect((constraint as { code?: string }).code).toBe("SQLITE_CONSTRAINT_PRIMARYKEY");
        expect(isRetryable(constraint)).toBe(false);
        expect(isRetryable(thrown("SELEC nonsense"))).toBe(false);
      } finally {
        b.close();
        a.close();
      }
    });

    it("the codes of a full or failing disk are retryable", () => {
      for (const code of ["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_LOCKED"]) {
        expect(isRetryable(Object.assign(new Error(code), { code })), code).toBe(true);
      }
      for (const code of ["SQLITE_CORRUPT", "SQLITE_MISUSE", "SQLITE_ERROR", "SQLITE_READONLY_DBMOVED"]) {
        expect(isRetryable(Object.assign(new Error(code), { code })), code).toBe(false);
      }
    });
  });

  describe("PostgreSQL (what pg throws)", () => {
    it("a refused connection is a connection error; a SQL error from the server is not", async () => {
      const down = new pg.Client({
        connectionString: "postgres://postgres@127.0.0.1:1/none",
        connectionTimeoutMillis: 2000,
      });
      const refused = await down.connect().then(
        () => null,
        (err: unknown) => err,
      );
      expect(isConnectionError(refused)).toBe(true);
      expect(isRetryable(refused)).toBe(true);

      const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        const division = await c.query("SELECT 1/0").then(
          () => null,
          (err: unknown) => err,
        );
        expect((division as { code?: string }).code).toBe("22012");
        expect(isConnectionError(division)).toBe(false);
        expect(isRetryable(division)).toBe(false);
        const syntax = await c.query("SELEC 1").then(
          () => null,
          (err: unknown) => err,
        );
        expect(isRetryable(syntax)).toBe(false);
      } finally {
        await c.end();
      }
    });

    it("connection-class SQLSTATEs and pg's own connection messages are; other classes are not", () => {
      const state = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code, severity: "FATAL" });
      for (const code of ["08006", "08001", "08P01", "53100", "53300", "57P01", "57P02", "57P03", "40001", "40P01"]) {
        expect(isConnectionError(state(code)), code).toBe(true);
        expect(isRetryable(state(code)), code).toBe(true);
      }
      for (const code of ["42601", "23505", "22012", "57014", "42P01"]) {
        expect(isConnectionError(state(code)), code).toBe(false);
        expect(isRetryable(state(code)), code).toBe(false);
      }
      expect(isConnectionError(new Error("Connection terminated unexpectedly"))).toBe(true);
      expect(isConnectionError(new Error("timeout exceeded when trying to connect"))).toBe(true);
    });
  });
});

describe("fullJitterMs", () => {
  it("is uniform below the capped exponential ceiling, and reaches across it (full, not equal, jitter)", () => {
    for (let attempt = 1; attempt < 40; attempt++) {
      const ceiling = Math.min(30_000, 100 * 2 ** (attempt - 1));
      const draws = Array.from({ length: 400 }, () => fullJitterMs(attempt, 100, 30_000));
      for (const d of draws) {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
      // Equal jitter would never go below ceiling/2; full jitter does, about half the time.
      expect(draws.some((d) => d < ceiling / 4)).toBe(true);
      expect(draws.some((d) => d > (ceiling * 3) / 4)).toBe(true);
    }
  });
});

describe("retry", () => {
  it("retries a retryable error with waits under the cap until fn succeeds", async () => {
    const waits: [number, number][] = [];
    let calls = 0;
    const out = await retry(
      async (attempt) => {
        calls++;
        expect(attempt).toBe(calls);
        if (calls < 5) throw errno("ENOSPC");
        return "ok";
      },
      { baseMs: 4, capMs: 10, onRetry: (_e, attempt, delay) => waits.push([attempt, delay]) },
    );
    expect(out).toBe("ok");
    expect(waits.map(([a]) => a)).toEqual([1, 2, 3, 4]);
    const ceilings = [4, 8, 10, 10];
    waits.forEach(([, delay], i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceilings[i] as number);
    });
  });

  it("throws a non-retryable error after exactly one call, without waiting", async () => {
    let calls = 0;
    let retries = 0;
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    await expect(
      retry(
        async () => {
          calls++;
          throw bug;
        },
        { baseMs: 1000, capMs: 30_000, onRetry: () => retries++ },
      ),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
    expect(retries).toBe(0);
  });

  it("honours a caller's own rule and an attempt limit (the last error is thrown)", async () => {
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        throw new Error(`try ${calls}`);
      },
      { retryable: () => true, maxAttempts: 3, baseMs: 1, capMs: 2 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect((err as Error).message).toBe("try 3");
  });

  it("stops with ShutdownError when the signal fires, also during a wait", async () => {
    const ac = new AbortController();
    let calls = 0;
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const err = await retry(
      async () => {
        calls++;
        throw errno("ECONNREFUSED", "connect");
      },
      { signal: ac.signal, baseMs: 5_000, capMs: 60_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShutdownError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls).toBeGreaterThanOrEqual(1);
    // An already-fired signal: not even one call.
    let after = 0;
    await expect(retry(async () => after++, { signal: ac.signal, baseMs: 1, capMs: 1 })).rejects.toBeInstanceOf(
      ShutdownError,
    );
    expect(after).toBe(0);
  });

  it("an error raised because the shutdown cut the work short is the shutdown, not the file's failure", async () => {
    const ac = new AbortController();
    const err = await retry(
      async () => {
        ac.abort();
        throw Object.assign(new Error("The operation was aborted"), { name: "AbortError" });
      },
      { signal: ac.signal, baseMs: 1, capMs: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShutdownError);
  });
});

describe("sleep", () => {
  it("waits, and rejects with ShutdownError at once when aborted", async () => {
    const t0 = Date.now();
    await sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const t1 = Date.now();
    await expect(sleep(10_000, ac.signal)).rejects.toBeInstanceOf(ShutdownError);
    expect(Date.now() - t1).toBeLessThan(1_000);
  });
});
