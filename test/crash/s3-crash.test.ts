import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { bytesOf, put, readState, useSandboxes } from "../support/fixtures.js";
import type { ProcessedLine } from "../support/outputs.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw } from "../support/s3-servers.js";
import { listFiles, readManifest, type Sandbox, sha256 } from "../support/sandbox.js";
import { s3Target, targetArgs, type WarehouseTarget } from "../support/warehouse-targets.js";

/**
 * SIGKILL at each S3 step, then a restart, against Ceph's RADOS Gateway (it
 * lists and aborts multipart uploads, which s3rver cannot): the object ends
 * complete once with the hashed bytes, no multipart upload is left open, and
 * the source leaves staging only after all of it.
 */

const sandbox = useSandboxes();
const MiB = 1024 * 1024;
let server: S3TestServer | undefined;
let target: WarehouseTarget;
let skip: string | undefined;

beforeAll(async () => {
  skip = await radosGwUnavailable();
  if (skip) return;
  server = await startRadosGw();
  await server.createBucket("crash");
  target = s3Target(server, "crash");
}, 600_000);
afterAll(() => server?.stop());

function run(s: Sandbox, env: Record<string, string> = {}) {
  return runOnce([...targetArgs(target, s), "--stability-seconds", "0", "--concurrency", "1"], {
    env: { ...target.env(), ...env },
    timeoutMs: 180_000,
  });
}

async function expectStoredOnce(s: Sandbox, inputs: Map<string, Buffer>): Promise<void> {
  const lines = readManifest(s.manifests) as ProcessedLine[];
  expect(lines).toHaveLength(inputs.size);
  const root = target.root(s);
  const outputs = new Set(
    lines.flatMap((l) => (l.processing?.outputs ?? []).map((o) => o.path.slice(root.length + 1))),
  );
  const stored = await target.stored(s);
  const raw = [...stored].filter(([p]) => !outputs.has(p));
  expect(raw.map(([, e]) => e.sha256).sort()).toEqual([...inputs.values()].map((b) => sha256(b)).sort());
  for (const [p, e] of stored) expect(e.metaSha256, p).toBe(e.sha256);
  for (const o of outputs) expect(stored.has(o), o).toBe(true);
  expect(await target.openUploads(s)).toEqual([]);
  expect(listFiles(s.input)).toEqual([]);
  expect(readState(s.statePath).files.every((f) => f.state === "done")).toBe(true);
}

describe("SIGKILL during S3 storage", () => {
  it("mid-multipart-upload: the next start aborts the orphaned upload and the object completes once", async (ctx) => {
    if (skip) ctx.skip(skip);
    const s = sandbox();
    const inputs = new Map([["big.bin", bytesOf("multipart", 40 * MiB + 7)]]);
    for (const [n, d] of inputs) put(s.input, n, d);

    const crashed = await run(s, { SLUICE_CRASH_AT: "mid-upload" });
    expect(crashed.signal, `mid-upload not reached: ${crashed.stderr}`).toBe("SIGKILL");
    // The crash really left a multipart upload open, and the file still in staging.
    expect((await target.openUploads(s))?.length).toBeGreaterThanOrEqual(1);
    expect(listFiles(s.input)).toEqual(["big.bin"]);

    const resumed = await run(s);
    expect(resumed.code, resumed.stderr).toBe(0);
    const aborted = resumed.events.find((e) => e.event === "s3_stale_uploads_aborted");
    expect(aborted?.count).toBeGreaterThanOrEqual(1);
    await expectStoredOnce(s, inputs);
  });

  for (const point of ["after-upload", "after-outputs-placed", "after-stored:2"]) {
    it(`${point}: replayed to the same keys, nothing doubled`, async (ctx) => {
      if (skip) ctx.skip(skip);
      const s = sandbox();
      const inputs = new Map<string, Buffer>([
        ["a-table.csv", Buffer.from("id,name\n1,alpha\n2,beta\n3,gamma\n")],
        ["b-blob.bin", bytesOf("blob", 6 * MiB)],
        ["c-small.dat", bytesOf("small", 1000)],
      ]);
      for (const [n, d] of inputs) put(s.input, n, d);
      const crashed = await run(s, { SLUICE_CRASH_AT: point });
      expect(crashed.signal, `${point} not reached: ${crashed.stderr}`).toBe("SIGKILL");
      const resumed = await run(s);
      expect(resumed.code, resumed.stderr).toBe(0);
      await expectStoredOnce(s, inputs);
      const table = (readManifest(s.manifests) as ProcessedLine[]).find((l) => l.name === "a-table.csv");
      expect(table?.processing?.outputs[0]?.row_count).toBe(3);
    });
  }

  it("aborts only uploads under its own prefix", async (ctx) => {
    if (skip) ctx.skip(skip);
    const client = (server as S3TestServer).client();
    const foreign = await client.send(new CreateMultipartUploadCommand({ Bucket: "crash", Key: "elsewhere/x.bin" }));
    try {
      const s = sandbox();
      put(s.input, "one.dat", "one");
      const r = await run(s);
      expect(r.code, r.stderr).toBe(0);
      const all = await client.send(new ListMultipartUploadsCommand({ Bucket: "crash", Prefix: "elsewhere/" }));
      expect((all.Uploads ?? []).map((u) => u.UploadId)).toContain(foreign.UploadId);
    } finally {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: "crash", Key: "elsewhere/x.bin", UploadId: foreign.UploadId }),
      );
    }
  });
});
