import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { type CountingProxy, startCountingProxy } from "../support/counting-proxy.js";
import { eventsNamed, put, useSandboxes } from "../support/fixtures.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw, startS3rver } from "../support/s3-servers.js";
import { s3Target, targetArgs } from "../support/warehouse-targets.js";

/*
 * `sluice run` against each server through a counting proxy: the start-up line says what the probe found, and the
 * requests sent per new small file are exactly what docs/s3.md promises for that path (the pipeline's HEAD of
 * the reserved name included).
 */

const rgwSkip = await radosGwUnavailable();
if (rgwSkip) console.warn(`[s3-put-features-cli] SKIPPING the RADOS Gateway suite: ${rgwSkip}`);

const sandbox = useSandboxes();
const FILES = 6;

const servers = [
  {
    name: "s3rver",
    start: startS3rver,
    skip: undefined as string | undefined,
    line: { conditional_put: false, payload_hash_verified: false, checksum_verified: false, requests_per_small_put: 3 },
    // HEAD of the reserved name (free), PUT, HEAD to verify.
    perFile: ["HEAD 404", "PUT 200", "HEAD 200"],
  },
  {
    name: "radosgw",
    start: startRadosGw,
    skip: rgwSkip,
    line: { conditional_put: true, payload_hash_verified: true, checksum_verified: false, requests_per_small_put: 1 },
    // HEAD of the reserved name (free), one conditional PUT the server verified.
    perFile: ["HEAD 404", "PUT 200"],
  },
];

describe.each(servers)(
  "sluice run on $name: the probe's verdict and the requests per file",
  ({ start, skip, line, perFile }) => {
    const test = skip ? it.skip : it;
    let server: S3TestServer;
    let proxy: CountingProxy;

    beforeAll(async () => {
      if (skip) return;
      server = await start();
      await server.createBucket("features");
      proxy = await startCountingProxy(server.endpoint);
    }, 600_000);
    afterAll(async () => {
      await proxy?.close();
      await server?.stop();
    });

    test("logs s3_put_features once, stores every file, and sends exactly the promised requests per file", async () => {
      const s = sandbox();
      const bodies = new Map<string, Buffer>();
      for (let i = 0; i < FILES; i++) {
        const body = randomBytes(4096);
        bodies.set(`f${i}.dat`, body);
        put(s.input, `f${i}.dat`, body);
      }
      const t = s3Target(server, "features");
      const args = targetArgs(t, s).map((a) => (a === server.endpoint ? proxy.endpoint : a));
      proxy.reset();
      const r = await runOnce([...args, "--stability-seconds", "0"], { env: t.env(), timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);

      const lines = eventsNamed(r.events, "s3_put_features");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject(line);
      expect(eventsNamed(r.events, "file_ingested")).toHaveLength(FILES);

      for (const name of bodies.keys()) {
        const mine = proxy.seen().filter((q) => q.path.endsWith(`/${name}`));
        expect(
          mine.map((q) => `${q.method} ${q.status}`),
          name,
        ).toEqual(perFile);
      }
      const stored = await t.stored(s);
      expect(stored.size).toBe(FILES);
      for (const [key, o] of stored) {
        const body = bodies.get(key.split("/").at(-1) ?? "");
        const sha = createHash("sha256")
          .update(body ?? Buffer.alloc(0))
          .digest("hex");
        expect({ size: o.size, sha256: o.sha256, meta: o.metaSha256 }, key).toEqual({
          size: 4096,
          sha256: sha,
          meta: sha,
        });
      }
    }, 180_000);
  },
);
