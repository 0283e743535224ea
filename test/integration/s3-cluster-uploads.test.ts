import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SluiceProcess } from "../support/cli.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { sleep, useSandboxes } from "../support/fixtures.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw } from "../support/s3-servers.js";
import type { Sandbox } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * Two nodes on one PostgreSQL state and one bucket prefix (the deployment docs/operations.md recommends), on
 * Ceph's RADOS Gateway: a node that starts while another is in the middle of a multipart upload must leave that
 * upload alone (before, every start aborted every upload under the prefix, so live nodes restarted theirs from
 * byte 0, or never finished); an upload whose node is gone is aborted, and its file finished by a live node.
 */

const sandbox = useSandboxes();
const running: SluiceProcess[] = [];
const MiB = 1024 * 1024;
const BUCKET = "cluster";
let server: S3TestServer | undefined;
let proxy: FaultProxy | undefined;
let db: TestDatabase | undefined;
let skip: string | undefined;

beforeAll(async () => {
  skip = missing("postgres") ?? (await radosGwUnavailable());
  if (skip) return;
  server = await startRadosGw();
  await server.createBucket(BUCKET);
  // Every request through the proxy waits 2 s: an upload stays open long enough to start another node meanwhile.
  proxy = await startFaultProxy(server.endpoint, { seed: 3 });
  proxy.setFaults({ stallRate: 1, stallMs: 2000 });
  db = await createTestDatabase("sluice_s3cluster");
}, 600_000);
afterAll(async () => {
  await proxy?.close();
  await db?.drop();
  // Awaited: the worker exits right after, and would leave the Ceph daemons running.
  await server?.stop();
});
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
});

function node(s: Sandbox, id: string, prefix: string, opts: { viaProxy?: boolean; lease?: number } = {}) {
  const srv = server as S3TestServer;
  const p = new SluiceProcess(
    [
      "run",
      "--input",
      s.input,
      "--manifests",
      s.manifests,
      "--errors",
      s.errors,
      "--scratch-dir",
      join(s.root, "scratch"),
      "--warehouse",
      `s3://${BUCKET}/${prefix}`,
      "--s3-endpoint",
      opts.viaProxy ? (proxy as FaultProxy).endpoint : srv.endpoint,
      "--s3-part-size",
      String(5 * MiB),
      "--state",
      (db as TestDatabase).url,
      "--node-id",
      id,
      "--lease-seconds",
      String(opts.lease ?? 30),
      "--stability-seconds",
      "0",
      "--scan-interval",
      "1",
    ],
    { env: { S3_ACCESS_KEY: srv.accessKeyId, S3_SECRET_KEY: srv.secretAccessKey } },
  );
  running.push(p);
  return p;
}

function drop(dir: string, name: string, data: Buffer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.part`), data);
  renameSync(join(dir, `.${name}.part`), join(dir, name));
}

async function openUploads(prefix: string): Promise<string[]> {
  const page = await (server as S3TestServer)
    .client()
    .send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  return (page.Uploads ?? []).map((u) => String(u.Key));
}

async function untilUploadOpen(prefix: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const keys = await openUploads(prefix);
    if (keys.length > 0) return keys[0] as string;
    await sleep(100);
  }
  throw new Error("no multipart upload was opened");
}

describe("several nodes on one bucket prefix", () => {
  it("a node starting during another's multipart upload leaves it alone; the upload completes once", async (ctx) => {
    if (skip) ctx.skip(skip);
    const a = sandbox();
    const b = sandbox();
    const uploader = node(a, "up-a", "live", { viaProxy: true });
    drop(a.input, "big.bin", randomBytes(12 * MiB));
    const key = await untilUploadOpen("live");
    const starter = node(b, "up-b", "live");
    await starter.waitForCount("cluster_joined", 1, 60_000);
    await sleep(1000);
    expect(starter.named("s3_stale_uploads_aborted")).toEqual([]);
    expect(await openUploads("live")).toContain(key);
    await uploader.waitForCount("file_ingested", 1, 120_000);
    // The upload was never cut from under its node: no NoSuchUpload retry, no restart from byte 0.
    expect(uploader.events.filter((e) => /NoSuchUpload/.test(JSON.stringify(e)))).toEqual([]);
    expect(await openUploads("live")).toEqual([]);
    console.log(
      `[s3-cluster] uploads aborted by another node's start: ${starter.named("s3_stale_uploads_aborted").length}`,
    );
  }, 300_000);

  it("the upload of a node that died mid-way is aborted, and a live node finishes its file", async (ctx) => {
    if (skip) ctx.skip(skip);
    const a = sandbox();
    const b = sandbox();
    const dying = node(a, "gone-a", "dead", { viaProxy: true, lease: 4 });
    drop(a.input, "orphan.bin", randomBytes(12 * MiB));
    const key = await untilUploadOpen("dead");
    await dying.kill();
    // Started after the dead node's lease: its upload is known orphaned at this node's start.
    await sleep(4_500);
    const peer = node(b, "gone-b", "dead", { lease: 4 });
    await peer.waitFor((evs) => evs.some((e) => e.event === "s3_stale_uploads_aborted"), 60_000);
    expect(peer.named("s3_stale_uploads_aborted")[0]?.keys).toContain(key);
    // The peer adopts the dead node's file (once it trusts its own lock) and uploads it anew.
    await peer.waitFor((evs) => evs.some((e) => e.event === "file_ingested" && e.name === "orphan.bin"), 120_000);
    expect(await openUploads("dead")).toEqual([]);
  }, 300_000);
  it("a node recovering for longer than its lease keeps beating: no peer adopts the files it is recovering", async (ctx) => {
    if (skip) ctx.skip(skip);
    const a = sandbox();
    const b = sandbox();
    const first = node(a, "rec-a", "recovering", { viaProxy: true, lease: 2 });
    drop(a.input, "slow.bin", randomBytes(12 * MiB));
    await untilUploadOpen("recovering");
    await first.kill();
    // Restarted behind the stalling proxy, its start (upload sweep, then recovery re-uploading 12 MiB, every
    // request 2 s late) lasts several leases; the peer trusts its own lease 3 s after joining. Before, the
    // heartbeat only began after recovery, so the peer took the recovering node for dead and adopted its file.
    const again = node(a, "rec-a", "recovering", { viaProxy: true, lease: 2 });
    const peer = node(b, "rec-b", "recovering", { lease: 2 });
    await Promise.race([
      again.waitFor((evs) => evs.some((e) => e.event === "file_ingested" && e.name === "slow.bin"), 120_000),
      peer.waitFor((evs) => evs.some((e) => e.event === "files_adopted"), 120_000),
    ]);
    await sleep(1500);
    expect(peer.named("files_adopted")).toEqual([]);
    expect(peer.named("file_ingested")).toEqual([]);
    expect(again.events.filter((e) => /ownership lost/i.test(JSON.stringify(e)))).toEqual([]);
    expect(await openUploads("recovering")).toEqual([]);
  }, 300_000);
});
