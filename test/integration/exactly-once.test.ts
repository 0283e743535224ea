import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunResult, runOnce, SluiceProcess } from "../support/cli.js";
import {
  argsFor,
  bytesOf,
  eventsNamed,
  partitionFor,
  put,
  readState,
  sleep,
  spinUntilGone,
  spinUntilOpenBy,
  tmpLeftovers,
  useSandboxes,
} from "../support/fixtures.js";
import {
  listFiles,
  type ManifestLine,
  readManifest,
  type Sandbox,
  sha256,
  sha256File,
  warehouseFiles,
} from "../support/sandbox.js";

const sandbox = useSandboxes();

async function once(s: Sandbox, ...extra: string[]): Promise<RunResult> {
  const r = await runOnce(argsFor(s, ...extra), { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

async function startSluice(s: Sandbox, ...extra: string[]): Promise<SluiceProcess> {
  mkdirSync(s.input, { recursive: true });
  const p = new SluiceProcess(["run", ...argsFor(s, ...extra)]);
  await p.waitForCount("sluice_started", 1, 20_000);
  return p;
}

function byName(lines: ManifestLine[], name: string): ManifestLine[] {
  return lines.filter((l) => l.name === name);
}

describe("duplicates", () => {
  it("stores one copy of content resent under other names, in the same run and a later one", async () => {
    const s = sandbox();
    const payload = "id,amount\n1,100\n2,200\n";
    put(s.input, "first.dat", payload);
    put(s.input, "second.dat", payload);
    put(s.input, "unrelated.dat", "something,else\n");
    const r1 = await once(s);
    expect(eventsNamed(r1.events, "file_ingested")).toHaveLength(2);
    expect(eventsNamed(r1.events, "file_duplicate")).toHaveLength(1);

    put(s.input, "third.dat", payload);
    const r2 = await once(s);
    expect(eventsNamed(r2.events, "file_ingested")).toHaveLength(0);
    expect(eventsNamed(r2.events, "file_duplicate")).toHaveLength(1);

    const manifest = readManifest(s.manifests);
    expect(manifest).toHaveLength(4);
    const forPayload = manifest.filter((l) => l.sha256 === sha256(payload));
    expect(forPayload).toHaveLength(3);
    const originals = forPayload.filter((l) => l.status === "ingested");
    expect(originals).toHaveLength(1);
    const original = originals[0]!;
    expect(["first.dat", "second.dat"]).toContain(original.name);
    const dups = forPayload.filter((l) => l.status === "duplicate");
    expect(dups.map((l) => l.name).sort()).toEqual(
      [original.name === "first.dat" ? "second.dat" : "first.dat", "third.dat"].sort(),
    );
    for (const d of dups) {
      expect(d.duplicate_of).toBe(original.ingest_id);
      expect(d.warehouse_path).toBe(original.warehouse_path);
      expect(d.path).toBe(join(s.input, d.name));
    }
    expect(original.duplicate_of).toBeUndefined();

    // Exactly one warehouse copy of the payload, with the right bytes.
    const wh = warehouseFiles(s.warehouse);
    expect(wh).toHaveLength(2);
    const payloadCopies = wh.filter((f) => sha256File(join(s.warehouse, f)) === sha256(payload));
    expect(payloadCopies).toEqual([`${partitionFor(original.ingested_at)}/${original.name}`]);
    expect(listFiles(s.input)).toEqual([]);

    const state = readState(s.statePath);
    expect(state.contents.filter((c) => c.sha256 === sha256(payload))).toEqual([
      { sha256: sha256(payload), ingest_id: original.ingest_id },
    ]);
    const rows = state.files.filter((f) => f.sha256 === sha256(payload));
    expect(rows.map((f) => f.state).sort()).toEqual(["done", "duplicate", "duplicate"]);
    for (const f of rows.filter((x) => x.state === "duplicate")) expect(f.duplicate_of).toBe(original.ingest_id);
  });
});

describe("name collisions", () => {
  it("keeps both versions of a name reused the same day with other content, the second hash-tagged", async () => {
    const s = sandbox();
    const v1 = "version,1\n";
    const v2 = "version,2\nmore\n";
    put(s.input, "report.dat", v1);
    put(s.input, "bundle.tar.xz", bytesOf("bundle-1", 2000));
    await once(s);
    put(s.input, "report.dat", v2);
    put(s.input, "bundle.tar.xz", bytesOf("bundle-2", 2000));
    await once(s);
    // The first content again: a duplicate of the first report, not a third file.
    put(s.input, "report.dat", v1);
    const r3 = await once(s);
    expect(eventsNamed(r3.events, "file_duplicate")).toHaveLength(1);

    const manifest = readManifest(s.manifests);
    const reports = byName(manifest, "report.dat");
    expect(reports.map((l) => l.status)).toEqual(["ingested", "ingested", "duplicate"]);
    const [first, second, third] = reports as [ManifestLine, ManifestLine, ManifestLine];
    expect(partitionFor(first.ingested_at)).toBe(partitionFor(second.ingested_at));
    const part = join(s.warehouse, partitionFor(first.ingested_at));
    expect(first.warehouse_path).toBe(join(part, "report.dat"));
    expect(second.warehouse_path).toBe(join(part, `report.${sha256(v2).slice(0, 12)}.dat`));
    expect(third.duplicate_of).toBe(first.ingest_id);
    expect(readFileSync(first.warehouse_path, "utf8")).toBe(v1);
    expect(readFileSync(second.warehouse_path, "utf8")).toBe(v2);

    const bundles = byName(manifest, "bundle.tar.xz");
    expect(bundles).toHaveLength(2);
    const b2 = sha256(bytesOf("bundle-2", 2000));
    expect(bundles[0]!.warehouse_path).toBe(join(part, "bundle.tar.xz"));
    expect(bundles[1]!.warehouse_path).toBe(join(part, `bundle.${b2.slice(0, 12)}.tar.xz`));
    expect(sha256File(bundles[1]!.warehouse_path)).toBe(b2);

    const day = partitionFor(first.ingested_at);
    expect(warehouseFiles(s.warehouse)).toEqual(
      [
        `${day}/report.dat`,
        `${day}/report.${sha256(v2).slice(0, 12)}.dat`,
        `${day}/bundle.tar.xz`,
        `${day}/bundle.${b2.slice(0, 12)}.tar.xz`,
      ].sort(),
    );
    expect(listFiles(s.input)).toEqual([]);
  });
});

describe("inode reuse", () => {
  it("ingests a new file that reuses the inode (and size and mtime) of a just-removed duplicate, live", async () => {
    const s = sandbox();
    const a = "aaaa,1111\n";
    const b = "bbbb,2222\n"; // same length as a, different bytes
    put(s.input, "orig.dat", a);
    await once(s);

    const p = await startSluice(s, "--stability-seconds", "0.3", "--scan-interval", "60");
    const resend = put(s.input, "resend.dat", a);
    const first = statSync(resend);
    await p.waitForCount("file_duplicate", 1, 15_000);
    // Let sluice let go of the path (a new file appearing in that instant is a separate case, below).
    await sleep(300);
    // The duplicate's source was unlinked: its inode is free. Same name, size and mtime, other bytes.
    const again = put(s.input, "resend.dat", b);
    utimesSync(again, first.atime, first.mtime);
    const reused = statSync(again).ino === first.ino;
    console.info(`inode reuse (live): ${reused ? "reused" : "not reused"} (old ${first.ino})`);
    await p.waitForCount("file_ingested", 1, 15_000);
    const r = await p.stop();
    expect(r.code, r.stderr).toBe(0);

    const manifest = readManifest(s.manifests);
    const lines = byName(manifest, "resend.dat");
    expect(lines.map((l) => l.status)).toEqual(["duplicate", "ingested"]);
    expect(lines[0]!.inode).toBe(first.ino);
    expect(lines[1]!.sha256).toBe(sha256(b));
    if (reused) expect(lines[1]!.inode).toBe(first.ino);
    expect(readFileSync(lines[1]!.warehouse_path, "utf8")).toBe(b);
    expect(readFileSync(byName(manifest, "orig.dat")[0]!.warehouse_path, "utf8")).toBe(a);
    expect(listFiles(s.input)).toEqual([]);
    expect(readState(s.statePath).files.map((f) => f.state)).toEqual(["done", "duplicate", "done"]);
  });

  it("ingests a file reusing a freed inode across restarts (cross-filesystem warehouse unlinks sources)", async () => {
    const shm = mkdtempSync("/dev/shm/sluice-test-");
    try {
      const s = sandbox({ warehouse: join(shm, "warehouse") });
      const a = bytesOf("inode-a", 4096);
      const b = bytesOf("inode-b", 4096);
      const first = statSync(put(s.input, "same.bin", a));
      await once(s);
      // Cross-filesystem: the source was copied then unlinked, freeing its inode.
      const again = put(s.input, "same.bin", b);
      utimesSync(again, first.atime, first.mtime);
      const reused = statSync(again).ino === first.ino;
      console.info(`inode reuse (restart): ${reused ? "reused" : "not reused"} (old ${first.ino})`);
      await once(s);

      const lines = byName(readManifest(s.manifests), "same.bin");
      expect(lines.map((l) => [l.status, l.sha256])).toEqual([
        ["ingested", sha256(a)],
        ["ingested", sha256(b)],
      ]);
      expect(lines[0]!.inode).toBe(first.ino);
      expect(lines[1]!.warehouse_path).toBe(
        join(s.warehouse, partitionFor(lines[1]!.ingested_at), `same.${sha256(b).slice(0, 12)}.bin`),
      );
      expect(sha256File(lines[0]!.warehouse_path)).toBe(sha256(a));
      expect(sha256File(lines[1]!.warehouse_path)).toBe(sha256(b));
      expect(listFiles(s.input)).toEqual([]);
      expect(tmpLeftovers(s.warehouse)).toEqual([]);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });
});

describe("a name reused while sluice is still working on it", () => {
  it("ingests a new file written under a name the moment the previous file left staging (events, not rescan)", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--scan-interval", "60", "--log-level", "debug");
    await p.waitForCount("scan_completed", 1, 15_000);
    const path = put(s.input, "export.dat", "export,v1\n");
    // Same filesystem: the file is renamed into the warehouse, then manifest and state are committed.
    // Write the next export as soon as the name is free, while sluice is still finishing v1.
    expect(spinUntilGone(path, 10_000)).toBe(true);
    put(s.input, "export.dat", "export,v2,newer\n");
    await p.waitForCount("file_ingested", 2, 5_000).catch(() => undefined);
    const r = await p.stop();
    expect(r.code, r.stderr).toBe(0);
    const lines = byName(readManifest(s.manifests), "export.dat");
    expect(lines.map((l) => l.sha256)).toEqual([sha256("export,v1\n"), sha256("export,v2,newer\n")]);
    for (const l of lines) expect(sha256File(l.warehouse_path)).toBe(l.sha256);
    expect(listFiles(s.input)).toEqual([]);
  });

  it("never stores bytes other than the ones it hashed when the name is replaced (rename over) mid-ingest", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--scan-interval", "60", "--log-level", "debug");
    await p.waitForCount("scan_completed", 1, 15_000);
    const v1 = bytesOf("replace-v1", 2 * 1024 * 1024);
    const v2 = Buffer.from("version 2, written to a temp name and renamed over\n");
    const path = put(s.input, "data.bin", v1);
    // Once sluice has opened v1 to hash it, an uploader atomically replaces the name with v2.
    const sawOpen = spinUntilOpenBy(p.child.pid!, path, 10_000);
    put(s.input, ".data.bin.upload", v2);
    renameSync(join(s.input, ".data.bin.upload"), path);
    expect(sawOpen).toBe(true);
    // v2 is a new file in staging: it must end up ingested under its own sha (give it a few windows).
    await p
      .waitFor((evs) => evs.some((e) => e.event === "file_ingested" && e.sha256 === sha256(v2)), 5_000)
      .catch(() => undefined);
    const r = await p.stop();
    expect(r.code, r.stderr).toBe(0);

    const manifest = readManifest(s.manifests);
    // Whatever sluice decided, every manifest line must describe the bytes actually in the warehouse.
    for (const l of manifest) {
      expect(sha256File(l.warehouse_path), `warehouse bytes of ${l.ingest_id} vs manifest sha`).toBe(l.sha256);
    }
    for (const e of eventsNamed(r.events, "file_ingested")) expect(sha256File(String(e.warehouse_path))).toBe(e.sha256);
    // And v2 is not silently swallowed: ingested under its own line, or still waiting in staging.
    const v2Ingested = manifest.some((l) => l.sha256 === sha256(v2) && sha256File(l.warehouse_path) === sha256(v2));
    const v2InStaging = listFiles(s.input).includes("data.bin") && sha256File(path) === sha256(v2);
    expect(v2Ingested || v2InStaging).toBe(true);
  });
});

describe("cross-filesystem warehouse", () => {
  let shm: string | null = null;
  afterEach(() => {
    if (shm) rmSync(shm, { recursive: true, force: true });
    shm = null;
  });

  it("copies into a warehouse on another filesystem with the right bytes and no temp files left", async () => {
    shm = mkdtempSync("/dev/shm/sluice-test-");
    const s = sandbox({ warehouse: join(shm, "warehouse") });
    mkdirSync(s.input, { recursive: true });
    expect(statSync(shm).dev).not.toBe(statSync(s.input).dev);
    const files: Record<string, Buffer> = {
      "small.dat": Buffer.from("x,y\n1,2\n"),
      "empty.dat": Buffer.alloc(0),
      "big.bin": bytesOf("big", 3 * 1024 * 1024 + 17), // above the inline limit: hashed+copied in a worker
      // The worker writes chunk k while it hashes chunk k + 1, from two alternating buffers: chunk-aligned and long.
      "aligned.bin": bytesOf("aligned", 2 * 1024 * 1024),
      "long.bin": bytesOf("long", 9 * 1024 * 1024 + 1),
      "dup-a.json": Buffer.from('{"same":true}\n'),
      "dup-b.json": Buffer.from('{"same":true}\n'),
    };
    for (const [name, data] of Object.entries(files)) put(s.input, name, data);
    const r = await once(s, "--concurrency", "4");
    expect(eventsNamed(r.events, "file_ingested")).toHaveLength(6);
    expect(eventsNamed(r.events, "file_duplicate")).toHaveLength(1);

    const manifest = readManifest(s.manifests);
    expect(manifest).toHaveLength(7);
    const inputDev = statSync(s.input).dev;
    for (const l of manifest) {
      const data = files[l.name]!;
      expect(l.sha256).toBe(sha256(data));
      expect(l.size).toBe(data.length);
      expect(l.device).toBe(inputDev);
      expect(l.warehouse_path.startsWith(`${s.warehouse}/`)).toBe(true);
      expect(sha256File(l.warehouse_path)).toBe(sha256(data));
    }
    const wh = warehouseFiles(s.warehouse);
    expect(wh).toHaveLength(6);
    for (const f of wh) expect(statSync(join(s.warehouse, f)).dev).toBe(statSync(shm).dev);
    expect(listFiles(s.input)).toEqual([]);
    expect(statSync(join(s.warehouse, ".sluice-tmp")).isDirectory()).toBe(true);
    expect(tmpLeftovers(s.warehouse)).toEqual([]);
    expect(
      readState(s.statePath)
        .files.map((f) => f.state)
        .sort(),
    ).toEqual(["done", "done", "done", "done", "done", "done", "duplicate"]);
  });
});

describe("long-running service", () => {
  it("picks up files dropped after start from fs events (not a rescan) and exits 0 on SIGTERM", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--scan-interval", "60", "--log-level", "debug");
    await p.waitForCount("scan_completed", 1, 15_000);
    const dropped = { "late-1.dat": "l,1\n", "late-2.dat": "l,2\n", "late-3.bin": bytesOf("late-3", 50_000) };
    for (const [name, data] of Object.entries(dropped)) put(s.input, name, data);
    await p.waitForCount("file_ingested", 3, 15_000);
    expect(p.named("scan_completed")).toHaveLength(1); // the initial scan ran before the files existed
    expect(p.named("file_ready").map((e) => e.name)).toEqual(expect.arrayContaining(Object.keys(dropped)));
    const r = await p.stop("SIGTERM");
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.at(-1)?.event).toBe("sluice_stopped");
    expect(eventsNamed(r.events, "sluice_stopped")).toHaveLength(1);

    const manifest = readManifest(s.manifests);
    expect(manifest.map((l) => l.name).sort()).toEqual(Object.keys(dropped).sort());
    for (const l of manifest)
      expect(sha256File(l.warehouse_path)).toBe(sha256(dropped[l.name as keyof typeof dropped]));
    expect(listFiles(s.input)).toEqual([]);
    expect(tmpLeftovers(s.warehouse)).toEqual([]);
  });

  it("on SIGINT exits 0 and leaves a file still inside its stability window in staging, unrecorded", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--stability-seconds", "30", "--scan-interval", "60");
    const path = put(s.input, "waiting.dat", "w,1\n");
    await sleep(500);
    const r = await p.stop("SIGINT");
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "sluice_stopped")).toHaveLength(1);
    expect(eventsNamed(r.events, "file_ingested")).toHaveLength(0);
    expect(readFileSync(path, "utf8")).toBe("w,1\n");
    expect(warehouseFiles(s.warehouse)).toEqual([]);
    expect(readState(s.statePath).files).toEqual([]);
  });
});

describe("--recursive", () => {
  it("keeps the subdirectory path in the warehouse and manifest, and skips hidden directories", async () => {
    const s = sandbox();
    const files = {
      "top.dat": "t\n",
      "a/one.dat": "1\n",
      "a/b/two.dat": "2\n",
      "a/b/c/three.tar.xz": "3\n",
      "x/one.dat": "x1\n", // same base name as a/one.dat: no collision, different directories
    };
    for (const [name, data] of Object.entries(files)) put(s.input, name, data);
    put(s.input, ".git/objects/blob.dat", "hidden dir\n");
    put(s.input, "a/.cache/c.dat", "hidden subdir\n");
    const r = await once(s, "--recursive");
    expect(eventsNamed(r.events, "file_ingested")).toHaveLength(5);

    const manifest = readManifest(s.manifests);
    expect(manifest.map((l) => l.name).sort()).toEqual(Object.keys(files).sort());
    const day = partitionFor(manifest[0]!.ingested_at);
    for (const l of manifest) {
      expect(l.warehouse_path).toBe(join(s.warehouse, day, l.name));
      expect(l.path).toBe(join(s.input, l.name));
      expect(readFileSync(l.warehouse_path, "utf8")).toBe(files[l.name as keyof typeof files]);
    }
    expect(warehouseFiles(s.warehouse)).toEqual(
      Object.keys(files)
        .map((n) => `${day}/${n}`)
        .sort(),
    );
    expect(listFiles(s.input)).toEqual([".git/objects/blob.dat", "a/.cache/c.dat"]);
  });

  it("without --recursive leaves subdirectories alone", async () => {
    const s = sandbox();
    put(s.input, "top.dat", "t\n");
    put(s.input, "sub/deep.dat", "d\n");
    const r = await once(s);
    expect(eventsNamed(r.events, "file_ingested").map((e) => e.name)).toEqual(["top.dat"]);
    expect(listFiles(s.input)).toEqual(["sub/deep.dat"]);
  });

  it("watches subdirectories created after start", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--recursive", "--scan-interval", "60");
    await sleep(300);
    put(s.input, "new/deep/z.dat", "z\n");
    await p.waitForCount("file_ingested", 1, 15_000);
    put(s.input, "new/deep/later.dat", "later\n");
    await p.waitForCount("file_ingested", 2, 15_000);
    const r = await p.stop();
    expect(r.code, r.stderr).toBe(0);
    const manifest = readManifest(s.manifests);
    expect(manifest.map((l) => l.name).sort()).toEqual(["new/deep/later.dat", "new/deep/z.dat"]);
    for (const l of manifest) {
      expect(l.warehouse_path).toBe(join(s.warehouse, partitionFor(l.ingested_at), l.name));
      expect(existsFile(l.warehouse_path)).toBe(true);
    }
    expect(listFiles(s.input)).toEqual([]);
  });
});

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
