import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { fixtureFacts, stageFixtures } from "../support/fixture-files.js";
import { bytesOf, partitionFor, put, readState, useSandboxes } from "../support/fixtures.js";
import type { ProcessedLine } from "../support/outputs.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw, startS3rver } from "../support/s3-servers.js";
import { listFiles, readManifest, type Sandbox, sha256 } from "../support/sandbox.js";
import { localTarget, s3Target, targetArgs, type WarehouseTarget } from "../support/warehouse-targets.js";

/**
 * The warehouse contract: the same tests, through the real CLI, against the
 * local filesystem, s3rver and Ceph's RADOS Gateway. What must hold for
 * every warehouse: each distinct content stored once, byte for byte, under
 * `ingest_date=YYYY-MM-DD/NAME`; names reused by other content get the
 * content-tagged name; processing outputs and archive members land beside
 * the raw file; a crash replays to the same place; staging ends empty.
 */

const sandbox = useSandboxes();
const MiB = 1024 * 1024;

interface Backend {
  name: string;
  start(): Promise<{ target: WarehouseTarget; stop(): Promise<void> } | string>;
}

async function s3Backend(server: S3TestServer): Promise<{ target: WarehouseTarget; stop(): Promise<void> }> {
  await server.createBucket("contract");
  return { target: s3Target(server, "contract"), stop: () => server.stop() };
}

const BACKENDS: Backend[] = [
  { name: "local filesystem", start: async () => ({ target: localTarget, stop: async () => undefined }) },
  { name: "s3rver", start: async () => s3Backend(await startS3rver()) },
  {
    name: "radosgw",
    start: async () => (await radosGwUnavailable()) ?? s3Backend(await startRadosGw()),
  },
];

function run(t: WarehouseTarget, s: Sandbox, extra: string[] = [], env: Record<string, string> = {}) {
  return runOnce([...targetArgs(t, s), "--stability-seconds", "0", ...extra], {
    env: { ...t.env(), ...env },
    timeoutMs: 120_000,
  });
}

/** Raw stored entries (no processing outputs) by content hash → how many times. */
function countByContent(stored: Map<string, { sha256: string }>, outputs: Set<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [path, e] of stored) {
    if (outputs.has(path)) continue;
    counts.set(e.sha256, (counts.get(e.sha256) ?? 0) + 1);
  }
  return counts;
}

/** Output paths recorded in the manifest, relative to the warehouse root. */
function outputPaths(lines: ProcessedLine[], root: string): Set<string> {
  const out = new Set<string>();
  for (const l of lines) for (const o of l.processing?.outputs ?? []) out.add(o.path.slice(root.length + 1));
  return out;
}

for (const backend of BACKENDS) {
  describe(`warehouse contract: ${backend.name}`, () => {
    let target: WarehouseTarget | undefined;
    let stop: () => Promise<void> = async () => undefined;
    let skip: string | undefined;

    beforeAll(async () => {
      const started = await backend.start();
      if (typeof started === "string") skip = started;
      else ({ target, stop } = started);
    }, 600_000);
    afterAll(() => stop());

    const t = (): WarehouseTarget => {
      if (!target) throw new Error(`backend unavailable: ${skip}`);
      return target;
    };

    it("stores each distinct content once, byte for byte, in its date partition, and empties staging", async (ctx) => {
      if (skip) ctx.skip(skip);
      const s = sandbox();
      const inputs = new Map<string, Buffer>();
      for (let i = 0; i < 25; i++) inputs.set(`small-${i}.dat`, bytesOf(`small-${i}`, 1 + i * 997));
      inputs.set("empty.dat", Buffer.alloc(0));
      inputs.set("big.bin", bytesOf("big", 12 * MiB + 12345)); // three 5 MiB parts in S3
      inputs.set("copy-of-small-3.dat", bytesOf("small-3", 1 + 3 * 997));
      inputs.set("sub/dir/nested.dat", bytesOf("nested", 4096));
      for (const [name, data] of inputs) put(s.input, name, data);

      const r = await run(t(), s, ["--recursive"]);
      expect(r.code, r.stderr).toBe(0);

      const stored = await t().stored(s);
      const distinct = new Set([...inputs.values()].map((b) => sha256(b)));
      const counts = countByContent(stored, new Set());
      expect(counts.size).toBe(distinct.size);
      for (const h of distinct) expect(counts.get(h), h).toBe(1);
      for (const [path, e] of stored) {
        expect(path).toMatch(/^ingest_date=\d{4}-\d{2}-\d{2}\//);
        if (e.metaSha256 !== undefined) expect(e.metaSha256, path).toBe(e.sha256);
      }
      const lines = readManifest(s.manifests);
      expect(lines).toHaveLength(inputs.size);
      expect(lines.filter((l) => l.status === "duplicate")).toHaveLength(1);
      const root = t().root(s);
      for (const l of lines) {
        expect(l.sha256).toBe(sha256(inputs.get(l.name) as Buffer));
        expect(l.warehouse_path.startsWith(`${root}/${partitionFor(l.ingested_at)}/`), l.warehouse_path).toBe(true);
        const rel = l.warehouse_path.slice(root.length + 1);
        expect(stored.get(rel)?.sha256, rel).toBe(l.sha256);
      }
      expect(stored.has(`${partitionFor(lines[0]?.ingested_at as string)}/sub/dir/nested.dat`)).toBe(true);
      expect(listFiles(s.input)).toEqual([]);
      expect(readState(s.statePath).files.every((f) => f.state === "done" || f.state === "duplicate")).toBe(true);
      expect(await t().openUploads(s)).toSatisfy((u: string[] | null) => u === null || u.length === 0);
    });

    it("gives a name reused by other content the content-tagged name, and never replaces the first", async (ctx) => {
      if (skip) ctx.skip(skip);
      const s = sandbox();
      const first = Buffer.from("first version\n");
      const second = Buffer.from("second version, other bytes\n");
      put(s.input, "report.txt", first);
      expect((await run(t(), s)).code).toBe(0);
      put(s.input, "report.txt", second);
      expect((await run(t(), s)).code).toBe(0);

      const stored = await t().stored(s);
      const day = partitionFor(readManifest(s.manifests)[0]?.ingested_at as string);
      expect(stored.get(`${day}/report.txt`)?.sha256).toBe(sha256(first));
      expect(stored.get(`${day}/report.${sha256(second).slice(0, 12)}.txt`)?.sha256).toBe(sha256(second));
      expect(stored.size).toBe(2);
    });

    it("puts Parquet outputs and archive members beside their raw file", async (ctx) => {
      if (skip) ctx.skip(skip);
      const s = sandbox();
      stageFixtures(s.input, ["archives/normal/bundle.tar.gz"]);
      const r = await run(t(), s);
      expect(r.code, r.stderr).toBe(0);
      // The preset applies to every tabular name, so the sensor file gets a run of its own.
      stageFixtures(s.input, ["sensors/sensors_dirty.csv"]);
      const r2 = await run(t(), s, ["--schema", "sensor-readings"]);
      expect(r2.code, r2.stderr).toBe(0);

      const lines = readManifest(s.manifests) as ProcessedLine[];
      const root = t().root(s);
      const stored = await t().stored(s);
      const sensors = lines.find((l) => l.name === "sensors_dirty.csv");
      expect(sensors?.processing?.invalid_count).toBe(
        fixtureFacts<{ invalid_row_count: number }>("sensors/sensors_dirty.expected.json").invalid_row_count,
      );
      const rel = String(sensors?.warehouse_path).slice(root.length + 1);
      expect(stored.has(rel)).toBe(true);
      expect(stored.has(`${rel}.parquet`)).toBe(true);
      expect(stored.has(`${rel}.rejects.jsonl`)).toBe(true);
      const members = lines.filter((l) => l.archive_ingest_id);
      expect(members.length).toBe(8);
      for (const m of members) {
        const mrel = m.warehouse_path.slice(root.length + 1);
        expect(mrel).toMatch(/\/bundle\//);
        expect(stored.get(mrel)?.sha256, mrel).toBe(m.sha256);
        for (const o of m.processing?.outputs ?? [])
          expect(stored.has(o.path.slice(root.length + 1)), o.path).toBe(true);
      }
      // Every stored object is either a recorded raw file or a recorded output: nothing stray.
      const outputs = outputPaths(lines, root);
      const raws = new Set(lines.map((l) => l.warehouse_path.slice(root.length + 1)));
      for (const p of stored.keys()) expect(raws.has(p) || outputs.has(p), p).toBe(true);
      expect(listFiles(s.input)).toEqual([]);
    });

    for (const point of ["after-stored", "after-manifest:3"]) {
      it(`replays a crash at ${point} to the same place, once`, async (ctx) => {
        if (skip) ctx.skip(skip);
        const s = sandbox();
        const inputs = new Map<string, Buffer>();
        for (let i = 0; i < 6; i++) inputs.set(`f${i}.dat`, bytesOf(`crash-${i}`, 200_000 + i));
        inputs.set("table.csv", Buffer.from("a,b\n1,x\n2,y\n"));
        for (const [name, data] of inputs) put(s.input, name, data);
        const crashed = await run(t(), s, ["--concurrency", "1"], { SLUICE_CRASH_AT: point });
        expect(crashed.signal, crashed.stderr).toBe("SIGKILL");
        const resumed = await run(t(), s);
        expect(resumed.code, resumed.stderr).toBe(0);

        const lines = readManifest(s.manifests) as ProcessedLine[];
        expect(lines).toHaveLength(inputs.size);
        expect(new Set(lines.map((l) => l.ingest_id)).size).toBe(inputs.size);
        const stored = await t().stored(s);
        const counts = countByContent(stored, outputPaths(lines, t().root(s)));
        for (const data of inputs.values()) expect(counts.get(sha256(data))).toBe(1);
        expect(counts.size).toBe(inputs.size);
        expect(listFiles(s.input)).toEqual([]);
      });
    }
  });
}
