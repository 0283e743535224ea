import { describe, expect, it } from "vitest";
import { describeS3Error, toS3PermanentError } from "../../src/warehouse/s3/errors.js";
import { fullJitterMs } from "../../src/warehouse/s3/retry.js";
import { isRetriableS3Error, S3PermanentError, S3Sink, withS3Retries } from "../../src/warehouse/s3/sink.js";

/** Errors shaped the way SDK v3 and Node produce them (seen against s3rver and RGW). */
const sdk = (name: string, status?: number) =>
  Object.assign(new Error("UnknownError"), { name, Code: name, $metadata: { httpStatusCode: status } });
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code, syscall: "connect" });

describe("isRetriableS3Error", () => {
  it("retries throttling, 5xx, timeouts and broken connections", () => {
    for (const err of [
      sdk("SlowDown", 503),
      sdk("InternalError", 500),
      sdk("Unknown", 502),
      sdk("ServiceUnavailable", 503),
      sdk("TooManyRequestsException", 429),
      sdk("XAmzContentSHA256Mismatch", 400),
      sdk("NoSuchUpload", 404),
      Object.assign(new Error("socket timed out"), { name: "TimeoutError" }),
      errno("ECONNREFUSED"),
      errno("ECONNRESET"),
      errno("EPIPE"),
      errno("ETIMEDOUT"),
      new Error("socket hang up"),
      new AggregateError([errno("ECONNREFUSED"), errno("ECONNREFUSED")], "connect failed"),
      new Error("wrapped", { cause: errno("ECONNRESET") }),
    ]) {
      expect(isRetriableS3Error(err), `${err.name}: ${err.message}`).toBe(true);
    }
  });

  it("does not retry refusals, unimplemented operations, aborts or local errors", () => {
    for (const err of [
      sdk("NoSuchBucket", 404),
      sdk("AccessDenied", 403),
      sdk("InvalidAccessKeyId", 403),
      sdk("SignatureDoesNotMatch", 403),
      sdk("Unknown", 403),
      sdk("NotImplemented", 501),
      sdk("CredentialsProviderError"),
      new S3PermanentError("x", { code: "AccessDenied" }),
      Object.assign(new Error("aborted"), { name: "AbortError" }),
      Object.assign(new Error("no such file"), { code: "ENOENT", syscall: "open" }),
      new TypeError("bug"),
      "a string",
      undefined,
    ]) {
      expect(isRetriableS3Error(err), String(err)).toBe(false);
    }
  });
});

describe("toS3PermanentError", () => {
  const ctx = { op: "HeadBucket", bucket: "lake", endpoint: "http://127.0.0.1:9000" };

  it("says in one line what is wrong and where", () => {
    expect(toS3PermanentError(sdk("NotFound", 404), ctx)?.message).toBe(
      'S3 HeadBucket s3://lake at http://127.0.0.1:9000: bucket "lake" does not exist (NotFound, HTTP 404)',
    );
    expect(toS3PermanentError(sdk("Unknown", 403), ctx)?.message).toMatch(/access denied \(HTTP 403\)/);
    const put = { ...ctx, op: "PutObject", key: "raw/a.csv" };
    expect(toS3PermanentError(sdk("SignatureDoesNotMatch", 403), put)?.message).toMatch(
      /^S3 PutObject s3:\/\/lake\/raw\/a.csv .*secret key does not match/,
    );
    expect(toS3PermanentError(sdk("CredentialsProviderError"), put)?.message).toMatch(/no S3 credentials found/);
  });

  it("leaves retriable and non-S3 errors alone", () => {
    expect(toS3PermanentError(sdk("SlowDown", 503), ctx)).toBeUndefined();
    expect(toS3PermanentError(errno("ECONNREFUSED"), ctx)).toBeUndefined();
    expect(toS3PermanentError(new TypeError("bug"), ctx)).toBeUndefined();
    expect(describeS3Error(errno("ECONNREFUSED"))).toBe("ECONNREFUSED");
    expect(describeS3Error(sdk("SlowDown", 503))).toBe("SlowDown (HTTP 503)");
  });
});

describe("withS3Retries", () => {
  it("retries retriable errors with growing, jittered waits until fn succeeds", async () => {
    const seen: [number, number][] = [];
    let calls = 0;
    const out = await withS3Retries(
      async () => {
        if (++calls < 4) throw sdk("SlowDown", 503);
        return "ok";
      },
      { baseMs: 10, maxMs: 25, onRetry: (_e, attempt, delay) => seen.push([attempt, delay]) },
    );
    expect(out).toBe("ok");
    expect(seen.map(([a]) => a)).toEqual([1, 2, 3]);
    const ceilings = [10, 20, 25];
    seen.forEach(([, delay], i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceilings[i] ?? 0);
    });
  });

  it("rethrows permanent and unknown errors at once", async () => {
    let retries = 0;
    const onRetry = () => retries++;
    await expect(withS3Retries(() => Promise.reject(sdk("AccessDenied", 403)), { onRetry })).rejects.toThrow();
    await expect(withS3Retries(() => Promise.reject(new TypeError("bug")), { onRetry })).rejects.toThrow("bug");
    expect(retries).toBe(0);
  });

  it("keeps going with no attempt limit, and stops with the abort reason when the signal fires", async () => {
    const ac = new AbortController();
    let calls = 0;
    setTimeout(() => ac.abort(new Error("shutting down")), 150);
    await expect(
      withS3Retries(
        () => {
          calls++;
          return Promise.reject(errno("ECONNREFUSED"));
        },
        { signal: ac.signal, baseMs: 1, maxMs: 5 },
      ),
    ).rejects.toThrow("shutting down");
    expect(calls).toBeGreaterThan(5);
  });

  it("full jitter stays under the capped exponential ceiling", () => {
    for (let attempt = 1; attempt < 60; attempt++) {
      const d = fullJitterMs(attempt, 100, 30_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(30_000, 100 * 2 ** (attempt - 1)));
    }
  });
});

describe("S3Sink keys and construction", () => {
  const sink = (prefix: string) =>
    new S3Sink({
      location: { bucket: "lake", prefix },
      endpoint: "http://127.0.0.1:1",
      region: "us-east-1",
      forcePathStyle: true,
    });

  it("keyFor joins the prefix and the relative path with single slashes", () => {
    expect(sink("").keyFor("ingest_date=2026-11-23/a.csv")).toBe("ingest_date=2026-11-23/a.csv");
    expect(sink("raw").keyFor("ingest_date=2026-11-23/sub/a.csv")).toBe("raw/ingest_date=2026-11-23/sub/a.csv");
    expect(sink("/raw/in/").keyFor("/ingest_date=2026-11-23//a.csv")).toBe("raw/in/ingest_date=2026-11-23/a.csv");
    expect(() => sink("raw").keyFor("../a.csv")).toThrow(/"\.\." segment/);
    expect(() => sink("raw").keyFor("/")).toThrow(/empty/);
  });

  it("placementKeys follows the local warehouse's date partition and collision name", () => {
    const sha = "1a2b3c4d5e6f".padEnd(64, "0");
    const at = new Date("2026-11-23T23:59:59Z");
    expect(sink("raw").placementKeys("feeds/x.tar.gz", sha, at)).toEqual({
      key: "raw/ingest_date=2026-11-23/feeds/x.tar.gz",
      collisionKey: "raw/ingest_date=2026-11-23/feeds/x.1a2b3c4d5e6f.tar.gz",
    });
  });

  it("refuses a part size under 5 MiB and an unreadable CA bundle", () => {
    const base = { location: { bucket: "lake", prefix: "" }, region: "us-east-1", forcePathStyle: false };
    expect(() => new S3Sink({ ...base, partSizeBytes: 1024 })).toThrow(/at least 5 MiB/);
    expect(() => new S3Sink({ ...base, caBundlePath: "/nonexistent/ca.pem" })).toThrow(/AWS_CA_BUNDLE/);
  });
});
