import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { checkExactlyOnce, type Inputs } from "../support/invariants.js";
import { readManifest, type Sandbox, sha256 } from "../support/sandbox.js";
import { STORES, type StoreKind, storeSandboxes } from "../support/stores.js";

/**
 * SIGKILL at every step boundary (the test-only SLUICE_CRASH_AT hook), then a
 * clean restart: the result must be exactly what an uninterrupted run gives.
 */

const sandboxes = storeSandboxes();
const extraDirs: string[] = [];
afterEach(async () => {
  await sandboxes.cleanup();
  for (const d of extraDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** 16 files: 12 distinct contents (one of them 3 MiB, hashed in a worker), 4 duplicates. */
function dropFiles(s: Sandbox): Inputs {
  mkdirSync(s.input, { recursive: true });
  const inputs: Inputs = new Map();
  const contents: Buffer[] = [];
  for (let i = 0; i < 12; i++)
    contents.push(i === 5 ? randomBytes(3 << 20) : Buffer.from(`file ${i} ${randomBytes(8).toString("hex")}\n`));
  for (let i = 0; i < 16; i++) {
    const data = contents[i % 12] as Buffer;
    const name = `f${String(i).padStart(2, "0")}.dat`;
    writeFileSync(join(s.input, name), data);
    inputs.set(name, sha256(data));
  }
  return inputs;
}

function crossFsSandbox(store: StoreKind): Promise<Sandbox> {
  const shm = mkdtempSync("/dev/shm/sluice-crash-wh-");
  extraDirs.push(shm);
  return sandboxes.make(store, { warehouse: join(shm, "warehouse") });
}

const FLAGS = ["--stability-seconds", "0", "--concurrency", "4"];

async function crashThenRecover(s: Sandbox, point: string): Promise<void> {
  const crashed = await runOnce([...s.args, ...FLAGS], { env: { SLUICE_CRASH_AT: point } });
  // The crash point must really have been reached; otherwise the test proves nothing.
  expect(crashed.signal, `${point} was not reached: ${crashed.stderr}`).toBe("SIGKILL");
  const resumed = await runOnce([...s.args, ...FLAGS]);
  expect(resumed.code, resumed.stderr).toBe(0);
}

const SAME_FS_POINTS = [
  "after-discover:3",
  "after-hash:3",
  "after-store:3",
  "after-stored:3",
  "after-manifest:3",
  "after-manifested:3",
  "after-source-removed:3",
  // The duplicates' path: the 13th+ decisions are duplicates of already stored content.
  "after-hash:14",
  "after-manifest:14",
  "after-source-removed:14",
];

for (const store of STORES) {
  describe(`SIGKILL at each step, same filesystem (${store})`, () => {
    for (const point of SAME_FS_POINTS) {
      it(`recovers from ${point}`, async () => {
        const s = await sandboxes.make(store);
        const inputs = dropFiles(s);
        await crashThenRecover(s, point);
        expect(checkExactlyOnce(s, inputs).problems).toEqual([]);
      });
    }
  });

  describe(`SIGKILL at each step, warehouse on another filesystem (${store})`, () => {
    for (const point of ["after-copy:2", "after-hash:3", "after-store:3", "after-stored:3", "after-source-removed:3"]) {
      it(`recovers from ${point}`, async () => {
        const s = await crossFsSandbox(store);
        const inputs = dropFiles(s);
        await crashThenRecover(s, point);
        expect(checkExactlyOnce(s, inputs).problems).toEqual([]);
      });
    }
  });

  describe(`SIGKILL while quarantining (${store})`, () => {
    for (const point of ["after-quarantine-begin", "after-quarantine-move"]) {
      it(`recovers from ${point}`, async () => {
        const s = await sandboxes.make(store);
        mkdirSync(s.input, { recursive: true });
        writeFileSync(join(s.input, "good.dat"), "good\n");
        writeFileSync(join(s.input, "good.dat.ok"), `${sha256("good\n")}  good.dat\n`);
        writeFileSync(join(s.input, "bad.dat"), "bad\n");
        writeFileSync(join(s.input, "bad.dat.ok"), `${"0".repeat(64)}\n`);
        const args = [...s.args, "--mode", "sidecar", ...FLAGS];
        const crashed = await runOnce(args, { env: { SLUICE_CRASH_AT: point } });
        expect(crashed.signal).toBe("SIGKILL");
        const resumed = await runOnce(args);
        expect(resumed.code, resumed.stderr).toBe(0);
        const report = checkExactlyOnce(s, new Map([["good.dat", sha256("good\n")]]));
        expect(report.problems).toEqual([]);
        const { listFiles } = await import("../support/sandbox.js");
        const errs = listFiles(s.errors);
        expect(errs.filter((f) => f.endsWith("_bad.dat"))).toHaveLength(1);
        expect(errs.filter((f) => f.endsWith("_bad.dat.error.json"))).toHaveLength(1);
        expect(errs.filter((f) => f.endsWith("_bad.dat.ok"))).toHaveLength(1);
        expect(readManifest(s.manifests).map((l) => l.name)).toEqual(["good.dat"]);
      });
    }
  });
}
