import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RunResult, runOnce, SluiceProcess } from "../support/cli.js";
import {
  argsFor,
  bytesOf,
  eventsNamed,
  eventTime,
  partitionFor,
  put,
  readState,
  sleep,
  tmpLeftovers,
  useSandboxes,
} from "../support/fixtures.js";
import { listFiles, readManifest, type Sandbox, sha256, sha256File, warehouseFiles } from "../support/sandbox.js";

const sandbox = useSandboxes();

/** A long-running sluice on the sandbox, resolved once it has started. */
async function startSluice(s: Sandbox, ...extra: string[]): Promise<SluiceProcess> {
  mkdirSync(s.input, { recursive: true });
  const p = new SluiceProcess(["run", ...argsFor(s, ...extra)]);
  await p.waitForCount("sluice_started", 1, 20_000);
  return p;
}

async function stopClean(p: SluiceProcess): Promise<RunResult> {
  const r = await p.stop("SIGTERM");
  expect(r.code, r.stderr).toBe(0);
  expect(eventsNamed(r.events, "sluice_stopped")).toHaveLength(1);
  return r;
}

describe("stability mode", () => {
  it("does not ingest a file still being written in chunks, then ingests it once, whole", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--stability-seconds", "1", "--scan-interval", "1");
    const path = join(s.input, "slow.bin");
    const chunks: Buffer[] = [];
    let lastWriteAt = 0;
    // ~3 s of writes, one chunk every ~300 ms: never quiet for a whole 1 s window.
    for (let i = 0; i < 10; i++) {
      const chunk = bytesOf(`chunk-${i}`, 4096 + i);
      chunks.push(chunk);
      appendFileSync(path, chunk);
      lastWriteAt = Date.now();
      expect(p.named("file_ingested"), `ingested before write #${i + 1} of 10`).toHaveLength(0);
      await sleep(300);
    }
    const full = Buffer.concat(chunks);
    await p.waitForCount("file_ingested", 1, 15_000);
    // Give a second chance to misbehave (a rescan, a late event) before stopping.
    await sleep(1500);
    const r = await stopClean(p);

    const ingested = eventsNamed(r.events, "file_ingested");
    expect(ingested).toHaveLength(1);
    const ev = ingested[0]!;
    expect(ev.sha256).toBe(sha256(full));
    expect(ev.bytes).toBe(full.length);
    // Ready only after a full quiet window following the last write.
    expect(eventTime(ev) - lastWriteAt).toBeGreaterThanOrEqual(1000 - 5);

    const wh = warehouseFiles(s.warehouse);
    expect(wh).toHaveLength(1);
    expect(sha256File(join(s.warehouse, wh[0]!))).toBe(sha256(full));
    expect(listFiles(s.input)).toEqual([]);
    expect(tmpLeftovers(s.warehouse)).toEqual([]);

    const manifest = readManifest(s.manifests);
    expect(manifest).toHaveLength(1);
    expect(manifest[0]).toMatchObject({
      status: "ingested",
      name: "slow.bin",
      size: full.length,
      sha256: sha256(full),
    });
    const state = readState(s.statePath);
    expect(state.files).toHaveLength(1);
    expect(state.files[0]).toMatchObject({ state: "done", size: full.length, sha256: sha256(full) });
  });

  it("waits the full window for a file copied with an old mtime (no now - mtime shortcut)", async () => {
    const s = sandbox();
    const windowMs = 1500;
    const p = await startSluice(s, "--stability-seconds", String(windowMs / 1000), "--scan-interval", "60");
    const outside = put(s.root, "outside/old.dat", "id,value\n1,old\n2,older\n");
    const old = new Date("2020-01-02T03:04:05.000Z");
    utimesSync(outside, old, old);
    const dest = join(s.input, "old.dat");
    const createdAt = Date.now();
    // Like `cp -p`: the copy appears, then gets the old mtime.
    copyFileSync(outside, dest);
    utimesSync(dest, old, old);
    await p.waitForCount("file_ingested", 1, 15_000);
    const r = await stopClean(p);

    const ev = eventsNamed(r.events, "file_ingested")[0]!;
    expect(eventTime(ev) - createdAt).toBeGreaterThanOrEqual(windowMs);
    expect(ev.sha256).toBe(sha256File(outside));
    const manifest = readManifest(s.manifests);
    expect(manifest).toHaveLength(1);
    // The manifest records the source's own (old) mtime.
    expect(manifest[0]!.mtime).toBe(old.toISOString());
    const target = join(s.warehouse, partitionFor(manifest[0]!.ingested_at), "old.dat");
    expect(readFileSync(target, "utf8")).toBe("id,value\n1,old\n2,older\n");
    expect(existsSync(dest)).toBe(false);
  });

  it("ignores NAME.tmp and ingests the file once it is renamed to NAME", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--stability-seconds", "0.3", "--scan-interval", "1");
    const content = "a,b\n1,2\n3,4\n";
    const tmp = put(s.input, "x.dat.tmp", content);
    // Longer than the window: a .tmp that were not ignored would be ingested by now.
    await sleep(1200);
    expect(p.named("file_ingested")).toHaveLength(0);
    expect(existsSync(tmp)).toBe(true);
    renameSync(tmp, join(s.input, "x.dat"));
    await p.waitForCount("file_ingested", 1, 15_000);
    await sleep(1200); // a rescan or late event must not ingest anything again
    const r = await stopClean(p);

    const ingested = eventsNamed(r.events, "file_ingested");
    expect(ingested).toHaveLength(1);
    expect(ingested[0]).toMatchObject({ name: "x.dat", sha256: sha256(content) });
    const manifest = readManifest(s.manifests);
    expect(manifest.map((l) => l.name)).toEqual(["x.dat"]);
    expect(manifest.some((l) => l.path.endsWith(".tmp") || l.name.endsWith(".tmp"))).toBe(false);
    expect(readState(s.statePath).files.map((f) => f.name)).toEqual(["x.dat"]);
    const wh = warehouseFiles(s.warehouse);
    expect(wh).toEqual([`${partitionFor(manifest[0]!.ingested_at)}/x.dat`]);
    expect(readFileSync(join(s.warehouse, wh[0]!), "utf8")).toBe(content);
    expect(listFiles(s.input)).toEqual([]);
  });
});

describe("sidecar mode", () => {
  it("ingests NAME when NAME.ok exists, verifying a checksum when the .ok carries one", async () => {
    const s = sandbox();
    const plain = "plain,1\n";
    const bare = "bare,2\n";
    const summed = "summed,3\n";
    const upper = "upper,4\n";
    const bad = "bad,5\n";
    const lonely = "lonely,6\n";
    put(s.input, "plain.dat", plain);
    put(s.input, "plain.dat.ok", "");
    put(s.input, "bare.dat", bare);
    put(s.input, "bare.dat.ok", `${sha256(bare)}\n`);
    put(s.input, "summed.dat", summed);
    put(s.input, "summed.dat.ok", `${sha256(summed)}  summed.dat\n`);
    put(s.input, "upper.dat", upper);
    put(s.input, "upper.dat.ok", sha256(upper).toUpperCase());
    put(s.input, "bad.dat", bad);
    const wrong = sha256("something else entirely");
    put(s.input, "bad.dat.ok", `${wrong}  bad.dat\n`);
    put(s.input, "lonely.dat", lonely);

    const r = await runOnce(argsFor(s, "--mode", "sidecar"), { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);

    const ingested = eventsNamed(r.events, "file_ingested");
    expect(ingested.map((e) => e.name).sort()).toEqual(["bare.dat", "plain.dat", "summed.dat", "upper.dat"]);
    const manifest = readManifest(s.manifests);
    expect(manifest.map((l) => l.name).sort()).toEqual(["bare.dat", "plain.dat", "summed.dat", "upper.dat"]);
    for (const l of manifest) {
      expect(l.status).toBe("ingested");
      expect(sha256File(l.warehouse_path)).toBe(l.sha256);
    }
    const wh = warehouseFiles(s.warehouse);
    expect(wh.map((f) => basename(f)).sort()).toEqual(["bare.dat", "plain.dat", "summed.dat", "upper.dat"]);
    expect(wh.some((f) => f.endsWith(".ok"))).toBe(false);
    expect(tmpLeftovers(s.warehouse)).toEqual([]);

    // Only the file without a sidecar stays; every .ok left with its file.
    expect(listFiles(s.input)).toEqual(["lonely.dat"]);
    expect(readFileSync(join(s.input, "lonely.dat"), "utf8")).toBe(lonely);

    // The mismatch went to the error directory with its reason and its sidecar.
    const failed = eventsNamed(r.events, "file_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: "SLUICE_ERR_CHECKSUM_MISMATCH", path: join(s.input, "bad.dat") });
    const errorPath = String(failed[0]!.error_path);
    expect(basename(errorPath)).toMatch(/^\d{8}T\d{6}\.\d{3}Z_bad\.dat$/);
    expect(listFiles(s.errors).sort()).toEqual(
      [basename(errorPath), `${basename(errorPath)}.error.json`, `${basename(errorPath)}.ok`].sort(),
    );
    expect(readFileSync(errorPath, "utf8")).toBe(bad);
    expect(readFileSync(`${errorPath}.ok`, "utf8")).toBe(`${wrong}  bad.dat\n`);
    const doc = JSON.parse(readFileSync(`${errorPath}.error.json`, "utf8")) as Record<string, unknown>;
    expect(doc).toMatchObject({
      version: 1,
      code: "SLUICE_ERR_CHECKSUM_MISMATCH",
      path: join(s.input, "bad.dat"),
      ingest_id: failed[0]!.ingest_id,
    });
    expect(String(doc.reason)).toContain(wrong);

    const state = readState(s.statePath);
    const byName = new Map(state.files.map((f) => [f.name, f]));
    expect(byName.get("bad.dat")).toMatchObject({ state: "failed", error_code: "SLUICE_ERR_CHECKSUM_MISMATCH" });
    expect(byName.has("lonely.dat")).toBe(false);
    expect([...byName.keys()].some((n) => n.endsWith(".ok"))).toBe(false);
  });

  it("holds a data file until its .ok appears, then ingests it (long-running)", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--mode", "sidecar", "--scan-interval", "1");
    const content = bytesOf("waiting", 10_000);
    put(s.input, "waiting.bin", content);
    await sleep(1500); // past a rescan
    expect(p.named("file_ingested")).toHaveLength(0);
    put(s.input, "waiting.bin.ok", `${sha256(content)}  waiting.bin\n`);
    await p.waitForCount("file_ingested", 1, 15_000);
    const r = await stopClean(p);
    expect(eventsNamed(r.events, "file_ingested")).toHaveLength(1);
    const manifest = readManifest(s.manifests);
    expect(manifest).toHaveLength(1);
    expect(sha256File(manifest[0]!.warehouse_path)).toBe(sha256(content));
    expect(listFiles(s.input)).toEqual([]);
  });

  it("applies the always-ignored rules and --ignore to data files that have a .ok", async () => {
    const s = sandbox();
    put(s.input, "partial.dat.tmp", "t\n");
    put(s.input, "partial.dat.tmp.ok", "");
    put(s.input, "upload.part", "p\n");
    put(s.input, "upload.part.ok", "");
    put(s.input, "debug.log", "l\n");
    put(s.input, "debug.log.ok", "");
    put(s.input, "good.dat", "g\n");
    put(s.input, "good.dat.ok", "");
    const r = await runOnce(argsFor(s, "--mode", "sidecar", "--ignore", "*.log"), { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "file_ingested").map((e) => e.name)).toEqual(["good.dat"]);
    expect(warehouseFiles(s.warehouse).map((f) => basename(f))).toEqual(["good.dat"]);
    expect(listFiles(s.input)).toEqual([
      "debug.log",
      "debug.log.ok",
      "partial.dat.tmp",
      "partial.dat.tmp.ok",
      "upload.part",
      "upload.part.ok",
    ]);
  });
});

describe("files that are never ingested", () => {
  it("skips a FIFO and a symlink, and --once still exits promptly", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    execFileSync("mkfifo", [join(s.input, "pipe.dat")]);
    const target = put(s.root, "outside/target.dat", "secret,1\n");
    symlinkSync(target, join(s.input, "link.dat"));
    put(s.input, "real.dat", "real,1\n");

    const started = Date.now();
    const r = await runOnce(argsFor(s, "--stability-seconds", "0.5"), { timeoutMs: 20_000 });
    const took = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    expect(took).toBeLessThan(10_000);

    expect(eventsNamed(r.events, "file_ingested").map((e) => e.name)).toEqual(["real.dat"]);
    expect(warehouseFiles(s.warehouse).map((f) => basename(f))).toEqual(["real.dat"]);
    expect(lstatSync(join(s.input, "pipe.dat")).isFIFO()).toBe(true);
    expect(lstatSync(join(s.input, "link.dat")).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe("secret,1\n");
    expect(readState(s.statePath).files.map((f) => f.name)).toEqual(["real.dat"]);
  });

  it("skips FIFOs and symlinks in sidecar mode too, without hanging on a FIFO sidecar", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    execFileSync("mkfifo", [join(s.input, "pipe.dat")]);
    put(s.input, "pipe.dat.ok", "");
    const target = put(s.root, "outside/target.dat", "secret,2\n");
    symlinkSync(target, join(s.input, "link.dat"));
    put(s.input, "link.dat.ok", "");
    put(s.input, "data.dat", "data,1\n");
    execFileSync("mkfifo", [join(s.input, "data.dat.ok")]);
    put(s.input, "real.dat", "real,2\n");
    put(s.input, "real.dat.ok", "");

    const started = Date.now();
    const r = await runOnce(argsFor(s, "--mode", "sidecar"), { timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(eventsNamed(r.events, "file_ingested").map((e) => e.name)).toEqual(["real.dat"]);
    expect(warehouseFiles(s.warehouse).map((f) => basename(f))).toEqual(["real.dat"]);
    expect(lstatSync(join(s.input, "pipe.dat")).isFIFO()).toBe(true);
    expect(lstatSync(join(s.input, "link.dat")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(s.input, "data.dat"), "utf8")).toBe("data,1\n");
  });

  it("skips a FIFO created while a long-running sluice watches (event path)", async () => {
    const s = sandbox();
    const p = await startSluice(s, "--scan-interval", "60");
    execFileSync("mkfifo", [join(s.input, "late.pipe")]);
    put(s.input, "after.dat", "after\n");
    await p.waitForCount("file_ingested", 1, 15_000);
    await sleep(500);
    const r = await stopClean(p);
    expect(eventsNamed(r.events, "file_ingested").map((e) => e.name)).toEqual(["after.dat"]);
    expect(lstatSync(join(s.input, "late.pipe")).isFIFO()).toBe(true);
  });

  it("leaves hidden, .tmp, .part, .swp and --ignore'd files in staging", async () => {
    const s = sandbox();
    const ignored = {
      ".hidden.dat": "h\n",
      ".rsync.data.dat.AbC123": "r\n",
      "upload.part": "p\n",
      ".edit.dat.swp": "s\n",
      "edit.swp": "s2\n",
      "copy.dat.tmp": "t\n",
      "SHOUT.TMP": "T\n",
      "debug.log": "l\n",
      "trace.log": "l2\n",
      "backup.bak": "b\n",
    };
    for (const [name, data] of Object.entries(ignored)) put(s.input, name, data);
    writeFileSync(join(s.input, "kept.dat"), "k\n");
    writeFileSync(join(s.input, "log.dat"), "not a log\n");

    const r = await runOnce(argsFor(s, "--ignore", "*.log", "*.bak"), { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(
      eventsNamed(r.events, "file_ingested")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["kept.dat", "log.dat"]);
    expect(
      warehouseFiles(s.warehouse)
        .map((f) => basename(f))
        .sort(),
    ).toEqual(["kept.dat", "log.dat"]);
    expect(listFiles(s.input)).toEqual(Object.keys(ignored).sort());
    for (const [name, data] of Object.entries(ignored)) {
      expect(readFileSync(join(s.input, name), "utf8")).toBe(data);
    }
    expect(
      readManifest(s.manifests)
        .map((l) => l.name)
        .sort(),
    ).toEqual(["kept.dat", "log.dat"]);
  });
});
