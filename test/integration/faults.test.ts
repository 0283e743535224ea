import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SluiceProcess } from "../support/cli.js";
import { readState, sleep, useSandboxes } from "../support/fixtures.js";
import { listFiles, makeSandbox, readManifest, type Sandbox, sha256 } from "../support/sandbox.js";
import { fill, useTinyDisks } from "../support/tiny-disk.js";

/**
 * Real faults, injected for real: a warehouse filesystem that is full, a
 * warehouse this user may not write, a state database whose disk is full, and
 * a staging file deleted, truncated or swapped for a symlink between the
 * readiness check and the open. Ingestion pauses or skips; nothing is lost,
 * doubled or taken from outside staging.
 */

const sandbox = useSandboxes();
const tinyDisk = useTinyDisks();
const running: SluiceProcess[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) await p.stop();
});

function start(s: Sandbox, extra: string[] = [], opts: ConstructorParameters<typeof SluiceProcess>[1] = {}) {
  const p = new SluiceProcess(["run", ...s.args, "--stability-seconds", "0.2", "--scan-interval", "1", ...extra], opts);
  running.push(p);
  return p;
}

function drop(dir: string, name: string, data: Buffer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.part`), data);
  renameSync(join(dir, `.${name}.part`), join(dir, name));
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));

function onlyLineFor(s: Sandbox, name: string) {
  const lines = readManifest(s.manifests).filter((l) => l.name === name);
  expect(lines, `manifest lines for ${name}`).toHaveLength(1);
  return lines[0];
}

describe("the warehouse disk is full", () => {
  it("pauses with staging untouched, retries, and completes once space is freed", async () => {
    const disk = tinyDisk("4m");
    const s = sandbox({ warehouse: join(disk, "warehouse") });
    mkdirSync(s.warehouse, { recursive: true });
    const filler = fill(disk);
    const data = bytes(1_500_000, 1);
    drop(s.input, "big.bin", data);
    const p = start(s);
    await p.waitFor((evs) => evs.some((e) => e.event === "write_retry" && e.code === "ENOSPC"), 30_000);
    expect(listFiles(s.input)).toEqual(["big.bin"]);
    expect(readFileSync(join(s.input, "big.bin")).equals(data)).toBe(true);
    expect(readManifest(s.manifests)).toEqual([]);
    unlinkSync(filler);
    await p.waitForCount("file_ingested", 1, 60_000);
    expect(listFiles(s.input)).toEqual([]);
    const stored = listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/"));
    expect(stored).toHaveLength(1);
    expect(sha256(readFileSync(join(s.warehouse, stored[0] as string)))).toBe(sha256(data));
    expect(onlyLineFor(s, "big.bin")?.sha256).toBe(sha256(data));
  });
});

describe("the state database's disk is full", () => {
  it("stalls without losing a file and finishes them once the disk has room", async () => {
    const disk = tinyDisk("2m");
    const base = makeSandbox();
    const s: Sandbox = { ...base, statePath: join(disk, "sluice.db") };
    s.args = base.args.map((a) => (a === base.statePath ? s.statePath : a));
    try {
      const p = start(s);
      await p.waitForCount("sluice_started", 1);
      await sleep(500);
      const filler = fill(disk);
      for (let i = 0; i < 40; i++) drop(s.input, `f-${i}.txt`, bytes(3000, i));
      await p.waitFor(
        (evs) => evs.some((e) => e.event === "write_retry" && String(e.what).startsWith("state")),
        30_000,
      );
      expect(readManifest(s.manifests)).toEqual([]); // nothing recorded, so nothing may be announced
      unlinkSync(filler);
      await p.waitForCount("file_ingested", 40, 60_000);
      await p.stop();
      expect(listFiles(s.input)).toEqual([]);
      const { files } = readState(s.statePath);
      expect(files.filter((f) => f.state === "done")).toHaveLength(40);
      expect(readManifest(s.manifests)).toHaveLength(40);
    } finally {
      base.cleanup();
    }
  });
});

describe("the warehouse may not be written", () => {
  it("an unprivileged sluice loses write access mid-run: it retries, then stores once when access is back", async () => {
    const s = sandbox();
    const nobody = Number(execFileSync("id", ["-u", "nobody"]).toString());
    const nogroup = Number(execFileSync("id", ["-g", "nobody"]).toString());
    for (const d of [s.input, s.manifests, s.errors, join(s.root, "state"), s.warehouse]) {
      mkdirSync(d, { recursive: true });
      chownSync(d, nobody, nogroup);
    }
    chmodSync(s.root, 0o755);
    const p = start(s, [], { uid: nobody, gid: nogroup });
    await p.waitForCount("sluice_started", 1);
    await sleep(500);
    // Revoked: the warehouse now belongs to root, and nobody cannot create the day's partition in it.
    chownSync(s.warehouse, 0, 0);
    chmodSync(s.warehouse, 0o755);
    const data = bytes(5000, 7);
    drop(s.input, "locked-out.bin", data);
    chownSync(join(s.input, "locked-out.bin"), nobody, nogroup);
    await p.waitFor((evs) => evs.some((e) => e.event === "write_retry" && e.code === "EACCES"), 30_000);
    expect(listFiles(s.input)).toEqual(["locked-out.bin"]);
    chownSync(s.warehouse, nobody, nogroup);
    await p.waitForCount("file_ingested", 1, 60_000);
    expect(onlyLineFor(s, "locked-out.bin")?.sha256).toBe(sha256(data));
    expect(listFiles(s.input)).toEqual([]);
  });
});

describe("the staging file changes between the readiness check and the open", () => {
  async function pausedBeforeOpen(s: Sandbox, name: string, data: Buffer) {
    drop(s.input, name, data);
    const p = start(s, [], { env: { SLUICE_PAUSE_AT: "before-open", SLUICE_PAUSE_MS: "1500" } });
    const deadline = Date.now() + 30_000;
    while (!p.stderr.includes("SLUICE_PAUSE_AT=before-open reached")) {
      if (Date.now() > deadline) throw new Error(`never paused: ${p.stderr}`);
      await sleep(25);
    }
    return p;
  }

  it("deleted: recorded as vanished, nothing stored, no manifest line", async () => {
    const s = sandbox();
    const p = await pausedBeforeOpen(s, "gone.bin", bytes(4000, 3));
    unlinkSync(join(s.input, "gone.bin"));
    await p.waitForCount("file_vanished", 1, 30_000);
    expect(listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/"))).toEqual([]);
    expect(readManifest(s.manifests)).toEqual([]);
  });

  it("truncated: the stale readiness is thrown away and the file is ingested as it now is, once", async () => {
    const s = sandbox();
    const p = await pausedBeforeOpen(s, "shrinks.bin", bytes(10_000, 4));
    truncateSync(join(s.input, "shrinks.bin"), 2500);
    await p.waitForCount("file_ingested", 1, 30_000);
    const line = onlyLineFor(s, "shrinks.bin");
    expect(line?.size).toBe(2500);
    expect(line?.sha256).toBe(sha256(bytes(10_000, 4).subarray(0, 2500)));
  });

  it("swapped for a symlink to a file outside staging: never followed, nothing outside staging is read or stored", async () => {
    const s = sandbox();
    const secret = join(s.root, "outside-secret.txt");
    writeFileSync(secret, "not for the warehouse\n");
    const p = await pausedBeforeOpen(s, "swap.bin", bytes(4000, 5));
    unlinkSync(join(s.input, "swap.bin"));
    symlinkSync(secret, join(s.input, "swap.bin"));
    await sleep(4000); // the pause, the hand-back, and a rescan or two
    await p.stop();
    const stored = listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/"));
    expect(stored).toEqual([]);
    expect(readManifest(s.manifests)).toEqual([]);
    expect(readFileSync(secret, "utf8")).toBe("not for the warehouse\n");
    expect(p.named("file_ingested")).toEqual([]);
  });
});
