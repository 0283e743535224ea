import { createHash, randomBytes } from "node:crypto";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { type S3TestServer, startS3rver } from "../support/s3-servers.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

/** Network failures as node and the SDK report them: no HTTP status, a reset or hang-up. */
function isNetworkError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata?.httpStatusCode !== undefined) return false;
  return (
    ["ECONNRESET", "EPIPE", "ECONNABORTED"].includes(e?.code ?? "") ||
    /socket hang up|aborted|ECONNRESET|EPIPE|premature close/i.test(e?.message ?? "")
  );
}

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

interface RawResponse {
  status: number;
  rawHeaders: string[];
  body: Buffer;
}

/** One request with headers sent exactly as given; `body` is written only once the 100 Continue arrives. */
function rawRequest(
  endpoint: string,
  opts: { method: string; path: string; headers: string[]; body?: Buffer; agent?: Agent },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(endpoint);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method,
        path: opts.path,
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", reject);
    if (opts.body === undefined) req.end();
    else req.on("continue", () => req.end(opts.body));
  });
}

const pairs = (raw: string[]) => raw.flatMap((v, i) => (i % 2 === 0 ? [`${v}: ${raw[i + 1]}`] : []));

describe("fault proxy over plain HTTP", () => {
  let echo: Server;
  let echoUrl: string;
  const echoed: { method?: string; url?: string; rawHeaders: string[]; bodySha?: string }[] = [];

  beforeAll(async () => {
    echo = createServer((req, res) => {
      if (req.url === "/half") {
        // A target that dies after half a response: headers and some body, then a reset.
        res.writeHead(200, { "content-length": "1000000" });
        res.write(Buffer.alloc(10_000), () => req.socket.destroy());
        return;
      }
      const hash = createHash("sha256");
      req.on("data", (c: Buffer) => hash.update(c));
      req.on("end", () => {
        echoed.push({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, bodySha: hash.digest("hex") });
        res.writeHead(201, "Made", [
          "ETag",
          '"abc"',
          "x-amz-meta-sha256",
          "feed",
          "Set-Cookie",
          "a=1",
          "Set-Cookie",
          "b=2",
          "Content-Length",
          "5",
        ]);
        res.end("hello");
      });
    });
    echoUrl = await listen(echo);
  });
  afterAll(() => closeServer(echo));

  it("forwards method, path, query, body and every header unchanged, Host and 100-continue included", async () => {
    const proxy = await startFaultProxy(echoUrl);
    try {
      const body = randomBytes(1 << 20);
      const sent = [
        "Host",
        "bucket.example.invalid:4321",
        "X-Amz-Date",
        "20240101T000000Z",
        "authorization",
        "AWS4-HMAC-SHA256 Credential=x",
        "x-amz-meta-Mixed",
        "1",
        "x-amz-meta-mixed",
        "2",
        "Content-Length",
        String(body.length),
        "Expect",
        "100-continue",
        "Connection",
        "keep-alive",
      ];
      const res = await rawRequest(proxy.endpoint, {
        method: "PUT",
        path: "/b/some%20key?partNumber=3&uploadId=u",
        headers: sent,
        body,
      });
      expect(res.status).toBe(201);
      expect(res.body.toString()).toBe("hello");
      expect(pairs(res.rawHeaders)).toEqual(
        expect.arrayContaining(['ETag: "abc"', "x-amz-meta-sha256: feed", "Set-Cookie: a=1", "Set-Cookie: b=2"]),
      );
      const got = echoed.at(-1);
      expect(got?.method).toBe("PUT");
      expect(got?.url).toBe("/b/some%20key?partNumber=3&uploadId=u");
      expect(got?.rawHeaders).toEqual(sent);
      expect(got?.bodySha).toBe(sha256(body));
      expect(proxy.stats()).toEqual({ requests: 1, forwarded: 1, dropped: 0, errors: 0, stalled: 0 });
    } finally {
      await proxy.close();
    }
  });

  it("answers 502 when the target is down, and cuts the client when the target dies mid-response", async () => {
    const gone = createServer();
    const goneUrl = await listen(gone);
    await closeServer(gone);
    const deadProxy = await startFaultProxy(goneUrl);
    const liveProxy = await startFaultProxy(echoUrl);
    try {
      const res = await rawRequest(deadProxy.endpoint, { method: "GET", path: "/x", headers: ["Host", "h"] });
      expect(res.status).toBe(502);
      expect(res.body.toString()).toContain("<Code>BadGateway</Code>");

      const cut = rawRequest(liveProxy.endpoint, { method: "GET", path: "/half", headers: ["Host", "h"] });
      await expect(cut).rejects.toSatisfy(isNetworkError);
      // Still serving after both.
      expect((await rawRequest(liveProxy.endpoint, { method: "GET", path: "/", headers: ["Host", "h"] })).status).toBe(
        201,
      );
    } finally {
      await deadProxy.close();
      await liveProxy.close();
    }
  });

  it("close() resolves promptly with an idle keep-alive connection and a request in flight", {
    timeout: 5_000,
  }, async () => {
    const proxy = await startFaultProxy(echoUrl);
    const agent = new Agent({ keepAlive: true });
    try {
      await rawRequest(proxy.endpoint, { method: "GET", path: "/", headers: ["Host", "h"], agent });
      const idle = Object.values(agent.freeSockets).flat();
      expect(idle).toHaveLength(1);
      const idleClosed = new Promise<void>((r) => idle[0]?.once("close", () => r()));
      // server.close() alone ends idle connections but waits for active ones: this one would hold it a minute.
      proxy.setFaults({ stallRate: 1, stallMs: 60_000 });
      const inFlight = rawRequest(proxy.endpoint, { method: "GET", path: "/", headers: ["Host", "h"] });
      inFlight.catch(() => {});
      while (proxy.stats().stalled === 0) await new Promise((r) => setTimeout(r, 5));
      const t0 = Date.now();
      await proxy.close();
      await idleClosed;
      await expect(inFlight).rejects.toSatisfy(isNetworkError);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      agent.destroy();
    }
  });

  it("rejects rates outside [0, 1]", async () => {
    const proxy = await startFaultProxy(echoUrl);
    try {
      expect(() => proxy.setFaults({ dropRate: 1.5 })).toThrow(RangeError);
      expect(() => proxy.setFaults({ errorRate: -0.1 })).toThrow(RangeError);
      expect(() => proxy.setFaults({ stallRate: Number.NaN })).toThrow(RangeError);
    } finally {
      await proxy.close();
    }
  });
});

describe("fault proxy in front of s3rver", () => {
  const bucket = "faults";
  let s3: S3TestServer;
  let proxy: FaultProxy;
  let client: S3Client;
  const clients: S3Client[] = [];
  const proxies: FaultProxy[] = [];

  const clientFor = (endpoint: string) => {
    const c = new S3Client({
      endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  const proxyFor = async (seed?: number) => {
    const p = await startFaultProxy(s3.endpoint, seed === undefined ? {} : { seed });
    proxies.push(p);
    return p;
  };

  /** PutObject then GetObject through `c`; resolves with what came back. */
  async function roundTrip(c: S3Client, key: string, body: Buffer): Promise<Uint8Array> {
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return got.Body!.transformToByteArray();
  }

  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.createBucket(bucket);
    proxy = await proxyFor();
    client = clientFor(proxy.endpoint);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(proxies.map((p) => p.close()));
    await s3?.stop();
  });

  it("passes a 3 MiB object through byte-identically, ETag and metadata included", async () => {
    proxy.setFaults({});
    const before = proxy.stats();
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const put = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: "big", Body: body, Metadata: { sha256: sha256(body) } }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "big" }));
    const bytes = await got.Body!.transformToByteArray();
    expect(bytes.length).toBe(body.length);
    expect(sha256(bytes)).toBe(sha256(body));
    expect(got.ETag).toBe(put.ETag);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "big" }));
    expect(head.Metadata?.sha256).toBe(sha256(body));
    expect(head.ContentLength).toBe(body.length);
    const after = proxy.stats();
    expect(after.requests - before.requests).toBe(3);
    expect(after.forwarded - before.forwarded).toBe(3);
  });

  it("errorRate 1 answers every call with 500 or 503 without reaching the server", async () => {
    proxy.setFaults({ errorRate: 1 });
    const before = proxy.stats();
    const statuses = new Set<number | undefined>();
    for (let i = 0; i < 6; i++) {
      const err = await client
        .send(new PutObjectCommand({ Bucket: bucket, Key: `err-${i}`, Body: randomBytes(64 * 1024) }))
        .then(
          () => undefined,
          (e: unknown) => e as { $metadata?: { httpStatusCode?: number }; name?: string },
        );
      expect(err, "PutObject succeeded through errorRate 1").toBeDefined();
      expect([500, 503]).toContain(err?.$metadata?.httpStatusCode);
      expect(err?.name).toMatch(/^(InternalError|SlowDown)$/);
      statuses.add(err?.$metadata?.httpStatusCode);
    }
    const after = proxy.stats();
    expect(after.errors - before.errors).toBe(6);
    expect(after.forwarded - before.forwarded).toBe(0);
    proxy.setFaults({});
    await expect(s3.client().send(new HeadObjectCommand({ Bucket: bucket, Key: "err-0" }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect(statuses.size, "both 500 and 503 over 6 calls with seed 1").toBe(2);
  });

  it("dropRate 1 fails every call with a network error, some before and some mid-transfer", {
    timeout: 10_000,
  }, async () => {
    const body = randomBytes(2 * 1024 * 1024);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "to-get", Body: body }));
    proxy.setFaults({ dropRate: 1 });
    const before = proxy.stats();
    const t0 = Date.now();
    for (let i = 0; i < 4; i++) {
      const put = client.send(new PutObjectCommand({ Bucket: bucket, Key: `drop-${i}`, Body: randomBytes(1 << 20) }));
      await expect(put).rejects.toSatisfy(isNetworkError);
    }
    let cutBeforeResponse = 0;
    let cutMidBody = 0;
    for (let i = 0; i < 8; i++) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "to-get" })).catch((e: unknown) => e);
      if (res instanceof Error) {
        expect(res).toSatisfy(isNetworkError);
        cutBeforeResponse++;
        continue;
      }
      // Headers arrived: the body must then break off part way.
      const { Body } = res as { Body: AsyncIterable<Uint8Array> };
      let received = 0;
      const read = (async () => {
        for await (const chunk of Body) received += chunk.length;
      })();
      await expect(read).rejects.toSatisfy(isNetworkError);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(body.length);
      cutMidBody++;
    }
    expect(cutBeforeResponse).toBeGreaterThan(0);
    expect(cutMidBody).toBeGreaterThan(0);
    expect(proxy.stats().dropped - before.dropped).toBe(12);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("stallRate 1 holds a call for stallMs and then lets it succeed", async () => {
    proxy.setFaults({ stallRate: 1, stallMs: 300 });
    const before = proxy.stats();
    const t0 = performance.now();
    const bytes = await roundTrip(client, "slow", Buffer.from("slow but fine"));
    const elapsed = performance.now() - t0;
    expect(Buffer.from(bytes).toString()).toBe("slow but fine");
    expect(elapsed).toBeGreaterThanOrEqual(2 * 290); // two calls, each held
    expect(proxy.stats().stalled - before.stalled).toBe(2);
  });

  it("setFaults({}) lets everything through again", async () => {
    proxy.setFaults({ dropRate: 1, errorRate: 1, stallRate: 1 });
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: "big" }))).rejects.toBeDefined();
    proxy.setFaults({});
    const before = proxy.stats();
    const body = randomBytes(256 * 1024);
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) expect(sha256(await roundTrip(client, `again-${i}`, body))).toBe(sha256(body));
    expect(performance.now() - t0).toBeLessThan(3000);
    const after = proxy.stats();
    expect(after.forwarded - before.forwarded).toBe(6);
    expect(after.dropped + after.errors + after.stalled).toBe(before.dropped + before.errors + before.stalled);
  });

  it("makes the same fault decisions for the same seed, and different ones for another", async () => {
    const outcomes = async (p: FaultProxy) => {
      p.setFaults({ dropRate: 0.3, errorRate: 0.5 });
      const c = clientFor(p.endpoint);
      const seq: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await c.send(new PutObjectCommand({ Bucket: bucket, Key: `seq-${i}`, Body: randomBytes(4096) })).then(
          () => "ok",
          (e: unknown) => {
            const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
            if (status !== undefined) return String(status);
            return isNetworkError(e) ? "drop" : `unexpected: ${String(e)}`;
          },
        );
        seq.push(r);
      }
      return { seq, stats: p.stats() };
    };
    const a = await outcomes(await proxyFor(42));
    const b = await outcomes(await proxyFor(42));
    const other = await outcomes(await proxyFor(43));
    expect(b.seq).toEqual(a.seq);
    expect(b.stats).toEqual(a.stats);
    expect(new Set(a.seq)).toEqual(new Set(["ok", "500", "503", "drop"]));
    expect(other.seq).not.toEqual(a.seq);
  });
});
