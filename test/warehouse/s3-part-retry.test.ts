import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRetriableS3Error, S3Sink, type S3SinkOptions } from "../../src/warehouse/s3/sink.js";
import { startPartResetProxy } from "../support/part-reset-proxy.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw, startS3rver } from "../support/s3-servers.js";

/*
 * Per-part retry of multipart uploads, for real: a proxy between the SDK and the server resets the connection
 * of UploadPart requests for one part, and counts the body bytes of every request. A part that fails is sent
 * again alone (the other parts once each, one CreateMultipartUpload); a part that keeps failing ends the upload,
 * aborted, with a retriable error for the caller's whole-operation retry.
 */

const MiB = 1024 * 1024;
const PART = 5 * MiB;

const rgwSkip = await radosGwUnavailable();
if (rgwSkip) console.warn(`[s3-part-retry] SKIPPING the RADOS Gateway suite: ${rgwSkip}`);
const servers = [
  { name: "s3rver", start: startS3rver, skip: undefined as string | undefined },
  { name: "radosgw", start: startRadosGw, skip: rgwSkip },
];

async function sha256Of(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("sha256");
  for await (const chunk of out.Body as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest("hex");
}

describe.each(servers)("multipart part retry on $name", ({ name, start, skip }) => {
  const test = skip ? it.skip : it;
  let server: S3TestServer;
  let dir: string;
  let bucket: string;
  let file: string;
  let meta: { sha256: string; size: number };
  const closing: (() => Promise<void> | void)[] = [];

  const sinkVia = (endpoint: string, over: Partial<S3SinkOptions> = {}) => {
    const sink = new S3Sink({
      location: { bucket, prefix: "wh" },
      endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      partSizeBytes: PART,
      queueSize: 2,
      ...over,
    });
    closing.push(() => sink.close());
    return sink;
  };

  beforeAll(async () => {
    if (skip) return;
    server = await start();
    bucket = `sluice-${randomBytes(4).toString("hex")}`;
    await server.createBucket(bucket);
    dir = mkdtempSync(join(tmpdir(), "sluice-part-retry-"));
    // Four parts: 5, 5, 5 and 3 MiB.
    const body = randomBytes(3 * PART + 3 * MiB);
    file = join(dir, "big.bin");
    writeFileSync(file, body);
    meta = { sha256: createHash("sha256").update(body).digest("hex"), size: body.length };
  }, 600_000);

  afterAll(async () => {
    for (const c of closing.reverse()) await c();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a part whose connection is reset is sent again alone; the object's SHA-256 is right", async () => {
    const proxy = await startPartResetProxy(server.endpoint, { part: 2, times: 2, cutAfterBytes: MiB });
    closing.push(() => proxy.close());
    const sink = sinkVia(proxy.endpoint);
    const key = sink.keyFor("ingest_date=2026-12-06/reset.bin");

    expect(await sink.put(key, { path: file }, meta)).toBe("uploaded");

    const seen = proxy.seen();
    expect(seen.filter((r) => r.createsUpload)).toHaveLength(1); // never restarted from byte 0
    const partLength = (n: number) => Math.min(PART, meta.size - (n - 1) * PART);
    for (const n of [1, 3, 4]) {
      const sends = seen.filter((r) => r.partNumber === n);
      expect(
        sends.map((r) => r.bytes),
        `part ${n}`,
      ).toEqual([partLength(n)]);
    }
    const part2 = seen.filter((r) => r.partNumber === 2);
    expect(part2.map((r) => r.reset)).toEqual([true, true, false]);
    expect(part2[2]?.bytes).toBe(PART);
    // What the resets cost: the cut requests' bytes, each short of a whole part, and nothing of the other parts.
    for (const r of part2.slice(0, 2)) {
      expect(r.bytes).toBeGreaterThanOrEqual(MiB);
      expect(r.bytes).toBeLessThan(PART);
    }
    const partBytes = seen.filter((r) => r.partNumber !== null && !r.reset).reduce((s, r) => s + r.bytes, 0);
    expect(partBytes).toBe(meta.size);
    expect(await sink.head(key)).toEqual({ key, size: meta.size, sha256: meta.sha256 });
    expect(await sha256Of(server.client(), bucket, key)).toBe(meta.sha256);
    console.info(
      `[s3-part-retry] ${name}: part 2 sent ${part2.length} times (${part2.map((r) => r.bytes).join(", ")} bytes), the others once`,
    );
  }, 120_000);

  test("a part that keeps failing aborts its upload (no orphan) with a retriable error", async () => {
    const proxy = await startPartResetProxy(server.endpoint, { part: 3, times: 1_000, cutAfterBytes: MiB });
    closing.push(() => proxy.close());
    const sink = sinkVia(proxy.endpoint, { partAttempts: 2 });
    const key = sink.keyFor("ingest_date=2026-12-06/doomed.bin");

    const err = await sink.put(key, { path: file }, meta).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isRetriableS3Error(err), String(err)).toBe(true);

    const seen = proxy.seen();
    expect(seen.filter((r) => r.createsUpload)).toHaveLength(1);
    // The upload's own abort went through the proxy to the server (DELETE ?uploadId=...).
    expect(seen.some((r) => r.method === "DELETE")).toBe(true);
    // Each part attempt of part 3 was cut: the SDK's own attempts times partAttempts, no more.
    const part3 = seen.filter((r) => r.partNumber === 3);
    expect(part3.length).toBeGreaterThanOrEqual(2);
    expect(part3.length).toBeLessThanOrEqual(4);
    expect(await sink.head(key)).toBeNull();
    if (name === "radosgw") {
      const open = await server.client().send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      expect(open.Uploads ?? []).toEqual([]);
    }
  }, 120_000);
});
