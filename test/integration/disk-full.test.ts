import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTar, member } from "../fixtures/lib/archive-writers.js";
import { SluiceProcess, useRunning } from "../support/cli.js";
import { readState, useSandboxes } from "../support/fixtures.js";
import { type S3TestServer, startS3rver } from "../support/s3-servers.js";
import { listFiles, readManifest, type Sandbox } from "../support/sandbox.js";
import { fill, useTinyDisks } from "../support/tiny-disk.js";
import { s3Target, targetArgs } from "../support/warehouse-targets.js";

/**
 * Full disks under every directory sluice writes, while the work that writes there is under way: the warehouse
 * while tables, a JSON file, a SQL dump and an archive are converted or expanded (DuckDB and the archive reader
 * hit ENOSPC, not only sluice's own copy), the manifests (a batch of lines cut short by the disk), the error
 * directory, and an S3 warehouse's local scratch area. A full disk is never the file's fault: nothing may be
 * quarantined, lost or doubled, and ingestion resumes by itself once there is room.
 */

const sandbox = useSandboxes();
const tinyDisk = useTinyDisks();
const running = useRunning();

function start(s: Sandbox, args: string[] = s.args, env: Record<string, string> = {}): SluiceProcess {
  const p = new SluiceProcess(["run", ...args, "--stability-seconds", "0.2", "--scan-interval", "1"], { env });
  running.push(p);
  return p;
}

function drop(dir: string, name: string, data: string | Buffer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.part`), data);
  renameSync(join(dir, `.${name}.part`), join(dir, name));
}

/** A CSV of about `kib` KiB whose rows differ per seed (no two files share content). */
function csv(seed: number, kib: number): string {
  const rows = ["id,label,amount"];
  for (let i = 0; rows.join("\n").length < kib * 1024; i++)
    rows.push(`${i},row ${seed}-${i},${(i * 7 + seed) % 1000}.5`);
  return `${rows.join("\n")}\n`;
}

const retried = (what: RegExp) => (evs: { event?: string; what?: unknown; code?: unknown }[]) =>
  evs.some((e) => e.event === "write_retry" && what.test(String(e.what)) && /ENOSPC/.test(String(e.code)));

/** Every file of the run ended done, exactly one manifest line each, nothing in the error directory. */
function expectAllDone(s: Sandbox, names: string[]): void {
  const lines = readManifest(s.manifests).filter((l) => !(l as { archive_ingest_id?: string }).archive_ingest_id);
  expect(lines.map((l) => l.name).sort()).toEqual([...names].sort());
  const { files } = readState(s.statePath);
  const failed = files.filter((f) => f.state === "failed").map((f) => `${f.name}: ${f.error_code} ${f.error_message}`);
  expect(failed).toEqual([]);
  expect(listFiles(s.errors)).toEqual([]);
  expect(listFiles(s.input)).toEqual([]);
}

describe("the warehouse fills while files are converted and expanded", () => {
  it("waits (write_retry ENOSPC from DuckDB or the archive reader), then converts every file once", async () => {
    // Staging on the warehouse's filesystem: storing a raw file is a rename that needs no room, so the first
    // writes to meet the full disk are the conversions' own (DuckDB's Parquet, the archive's members).
    const disk = tinyDisk("8m");
    const s = sandbox({ input: join(disk, "staging"), warehouse: join(disk, "warehouse") });
    mkdirSync(s.warehouse, { recursive: true });
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      drop(s.input, `table-${i}.csv`, csv(i, 150));
      names.push(`table-${i}.csv`);
    }
    const records = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `record ${i}`, nested: { v: i / 3 } }));
    drop(s.input, "records.json", JSON.stringify(records));
    const inserts = Array.from({ length: 3000 }, (_, i) => `(${i}, 'name ${i}', ${i * 1.5})`).join(",\n");
    drop(
      s.input,
      "dump.sql",
      `CREATE TABLE t (id INT, name VARCHAR(40), v DOUBLE);\nINSERT INTO t VALUES\n${inserts};\n`,
    );
    const tar = buildTar(
      Array.from({ length: 6 }, (_, i) => member(`inner/part-${i}.csv`, { data: Buffer.from(csv(100 + i, 120)) })),
    );
    drop(s.input, "bundle.tar.gz", gzipSync(tar));
    names.push("records.json", "dump.sql", "bundle.tar.gz");
    const filler = fill(disk);

    const p = start(s, [...s.args, "--concurrency", "8"]);
    // DuckDB's own refusal to write the Parquet (an "IO Error"), not only sluice's copy of an archive member.
    await p.waitFor(
      (evs) =>
        evs.some(
          (e) =>
            e.event === "write_retry" && /processing output/.test(String(e.what)) && /IO Error/.test(String(e.error)),
        ),
      60_000,
    );
    // The files still waiting are whole in staging; none has failed for the disk's sake.
    expect(p.named("file_failed")).toEqual([]);
    unlinkSync(filler);
    await p.waitFor(() => readManifest(s.manifests).length >= names.length + 6, 120_000);
    await p.stop();
    expectAllDone(s, names);
    const outputs = listFiles(s.warehouse).filter((f) => f.endsWith(".parquet"));
    // 12 CSVs, the JSON, 6 archive members, and the dump's one table.
    expect(outputs.filter((f) => !f.includes(".tables/"))).toHaveLength(12 + 1 + 6);
    expect(outputs.filter((f) => f.includes("dump.sql.tables/"))).toHaveLength(1);
    expect(listFiles(s.warehouse).filter((f) => f.startsWith(".sluice-tmp/"))).toEqual([]);
  });
});

describe("the manifests' disk fills", () => {
  it("a batch cut short by the disk is cut back, retried, and lands whole: no line lost, doubled or torn", async () => {
    const disk = tinyDisk("1m");
    const s = sandbox({ manifests: join(disk, "manifests") });
    const p = start(s);
    drop(s.input, "first.txt", "the hour's manifest file exists before the disk fills\n");
    await p.waitForCount("file_ingested", 1, 30_000);
    // Filled to the last page: the manifest file's own last page keeps some room, so the next batch's write
    // gets part of its bytes in and then meets ENOSPC (a short write).
    const filler = fill(disk);
    const names = ["first.txt"];
    for (let i = 0; i < 25; i++) {
      drop(s.input, `next-${i}.txt`, `file ${i} of a batch that will not fit\n`);
      names.push(`next-${i}.txt`);
    }
    await p.waitFor(retried(/manifest/), 30_000);
    unlinkSync(filler);
    await p.waitForCount("file_ingested", names.length, 60_000);
    await p.stop();
    for (const f of listFiles(s.manifests)) {
      const text = readFileSync(join(s.manifests, f), "utf8");
      expect(text.endsWith("\n"), `${f} ends with a whole line`).toBe(true);
      for (const line of text.trimEnd().split("\n")) expect(() => JSON.parse(line), line).not.toThrow();
    }
    const ids = readManifest(s.manifests).map((l) => l.ingest_id);
    expect(new Set(ids).size).toBe(ids.length);
    expectAllDone(s, names);
  });
});

describe("the error directory's disk fills", () => {
  it("files that must be quarantined wait in staging, then each arrives once with a whole .error.json", async () => {
    const disk = tinyDisk("1m");
    const s = sandbox({ errors: join(disk, "errors") });
    mkdirSync(s.errors, { recursive: true });
    const filler = fill(disk);
    const bad = ["a.json", "b.json", "c.json"];
    for (const name of bad) drop(s.input, name, `[{"id": 1}, {"id": 2, ${name}`);
    const p = start(s);
    await p.waitFor(retried(/errors/), 30_000);
    expect(listFiles(s.input).sort()).toEqual(bad);
    unlinkSync(filler);
    await p.waitForCount("file_failed", bad.length, 60_000);
    await p.stop();
    const docs = listFiles(s.errors).filter((f) => f.endsWith(".error.json"));
    expect(docs).toHaveLength(bad.length);
    for (const d of docs) {
      const doc = JSON.parse(readFileSync(join(s.errors, d), "utf8")) as { code: string };
      expect(doc.code).toBe("SLUICE_ERR_PARSE");
    }
    expect(listFiles(s.errors).filter((f) => !f.endsWith(".error.json"))).toHaveLength(bad.length);
    expect(listFiles(s.input)).toEqual([]);
  });
});

describe("an S3 warehouse's scratch disk fills", () => {
  let server: S3TestServer;
  beforeAll(async () => {
    server = await startS3rver();
    await server.createBucket("lake");
  }, 120_000);
  afterAll(() => server?.stop());

  it("archive members and Parquet waiting for upload wait for room, then land once", async () => {
    const scratch = tinyDisk("2m");
    const s = sandbox();
    const lake = s3Target(server, "lake");
    const p = start(s, [...targetArgs(lake, s), "--scratch-dir", scratch], lake.env());
    // Filled once sluice has recovered: recovery empties its work area, the filler included.
    await p.waitForCount("sluice_ready", 1, 30_000);
    const filler = fill(scratch);
    drop(s.input, "big.csv", csv(7, 400));
    const tar = buildTar([0, 1, 2].map((i) => member(`m-${i}.csv`, { data: Buffer.from(csv(50 + i, 100)) })));
    drop(s.input, "members.tar", tar);
    await p.waitFor(retried(/./), 60_000);
    expect(p.named("file_failed")).toEqual([]);
    unlinkSync(filler);
    await p.waitFor(() => readManifest(s.manifests).length >= 2 + 3, 60_000);
    await p.stop();
    expectAllDone(s, ["big.csv", "members.tar"]);
    const stored = [...(await lake.stored(s)).keys()];
    expect(stored.filter((k) => k.endsWith(".parquet"))).toHaveLength(1 + 3);
    expect(readdirSync(scratch).filter((f) => f !== "lost+found")).toEqual([]);
  });
});
