import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SluiceProcess } from "../support/cli.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { put, sleep, useSandboxes } from "../support/fixtures.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw } from "../support/s3-servers.js";
import { listFiles, readManifest, sha256 } from "../support/sandbox.js";
import { s3Target, targetArgs } from "../support/warehouse-targets.js";

/**
 * A fault-injecting proxy between sluice and Ceph's RADOS Gateway drops
 * connections (before and mid-transfer), answers 500 and 503, and stalls
 * requests, for a while during a run of a few hundred files of mixed sizes,
 * two of them over 100 MiB (multipart). Once the faults stop, every content
 * must be stored once with its SHA-256, every file have one manifest line,
 * staging be empty and no multipart upload be left open.
 */

const sandbox = useSandboxes();
const MiB = 1024 * 1024;
let server: S3TestServer | undefined;
let proxy: FaultProxy | undefined;
let skip: string | undefined;

beforeAll(async () => {
  skip = await radosGwUnavailable();
  if (skip) return;
  server = await startRadosGw();
  await server.createBucket("faulty");
  proxy = await startFaultProxy(server.endpoint, { seed: 7 });
}, 600_000);
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

/** The mix: many small files, some of a few MiB, a few multipart ones, two over 100 MiB, and duplicates. */
function makeInputs(): Map<string, Buffer> {
  const inputs = new Map<string, Buffer>();
  for (let i = 0; i < 240; i++) inputs.set(`small/s${i}.dat`, randomBytes(1 + ((i * 7919) % 65_536)));
  for (let i = 0; i < 30; i++) inputs.set(`medium/m${i}.bin`, randomBytes(MiB + i * 150_000));
  for (let i = 0; i < 6; i++) inputs.set(`multi/p${i}.bin`, randomBytes(11 * MiB + i * 333_333));
  inputs.set("huge/h0.bin", randomBytes(104 * MiB + 17));
  inputs.set("huge/h1.bin", randomBytes(120 * MiB + 3));
  for (let i = 0; i < 20; i++) inputs.set(`dupes/d${i}.dat`, inputs.get(`small/s${i * 3}.dat`) as Buffer);
  return inputs;
}

it("lands every file exactly once through dropped connections, 5xx answers and stalls", async (ctx) => {
  if (skip) ctx.skip(skip);
  const srv = server as S3TestServer;
  const px = proxy as FaultProxy;
  const s = sandbox();
  const inputs = makeInputs();
  for (const [name, data] of inputs) put(s.input, name, data);

  const direct = s3Target(srv, "faulty");
  const viaProxy = {
    ...direct,
    args: (x: typeof s) => [...direct.args(x).slice(0, 2), ...swapEndpoint(direct.args(x))],
  };
  px.setFaults({ dropRate: 0.05, errorRate: 0.1, stallRate: 0.03, stallMs: 2000 });
  const p = new SluiceProcess(
    ["run", ...targetArgs(viaProxy, s), "--recursive", "--stability-seconds", "0", "--metrics-interval", "1"],
    { env: direct.env() },
  );
  try {
    await sleep(20_000);
    const during = px.stats();
    px.setFaults({});
    const finished = () => p.named("file_ingested").length + p.named("file_duplicate").length;
    await p.waitFor(() => finished() >= inputs.size, 240_000);
    // The faults really happened, and sluice saw them as retries, not failures.
    expect(during.dropped).toBeGreaterThan(0);
    expect(during.errors).toBeGreaterThan(0);
    expect(during.stalled).toBeGreaterThan(0);
    expect(p.named("write_retry").length).toBeGreaterThan(0);
    // Including the multipart uploads of the files over 100 MiB (their parts: PUT .../huge/h1.bin?partNumber=...).
    expect(px.faulted().filter((t) => t.startsWith("PUT ") && t.includes("/huge/")).length).toBeGreaterThan(0);
    expect(p.named("file_failed")).toEqual([]);
  } finally {
    await p.stop();
  }

  const stored = await direct.stored(s);
  const expected = [...new Set([...inputs.values()].map((b) => sha256(b)))].sort();
  expect([...stored.values()].map((e) => e.sha256).sort()).toEqual(expected);
  for (const [key, e] of stored) expect(e.metaSha256, key).toBe(e.sha256);
  const lines = readManifest(s.manifests);
  expect(lines).toHaveLength(inputs.size);
  expect(new Set(lines.map((l) => l.path)).size).toBe(inputs.size);
  expect(lines.filter((l) => l.status === "duplicate")).toHaveLength(20);
  expect(listFiles(s.input)).toEqual([]);
  expect(await direct.openUploads(s)).toEqual([]);
}, 420_000);

/** `--s3-endpoint` pointed at the proxy instead of the server. */
function swapEndpoint(args: string[]): string[] {
  const out = args.slice(2);
  const i = out.indexOf("--s3-endpoint");
  out[i + 1] = (proxy as FaultProxy).endpoint;
  return out;
}
