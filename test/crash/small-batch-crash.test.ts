import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { checkExactlyOnce, type Inputs } from "../support/invariants.js";
import { type Sandbox, sha256 } from "../support/sandbox.js";
import { STORES, type StoreKind, storeSandboxes } from "../support/stores.js";

/**
 * The forward path (src/pipeline/forward/driver.ts) takes each step for up to 128 small files at once. SIGKILL
 * in the middle of a batch at every step it protects, then a clean restart: nothing lost, nothing doubled.
 * 300 files, so two lanes run at once (128 + 128, then the rest), with duplicates inside and across batches.
 */

const sandboxes = storeSandboxes();
const extraDirs: string[] = [];
afterEach(async () => {
  await sandboxes.cleanup();
  for (const d of extraDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** 300 small files: 260 distinct contents, 40 copies of earlier ones. */
function dropSmallFiles(s: Sandbox): Inputs {
  mkdirSync(s.input, { recursive: true });
  const inputs: Inputs = new Map();
  const contents: Buffer[] = [];
  for (let i = 0; i < 260; i++) contents.push(randomBytes(64 + ((i * 37) % 4096)));
  for (let i = 0; i < 300; i++) {
    const data = contents[i < 260 ? i : (i * 7) % 260] as Buffer;
    const name = `s${String(i).padStart(3, "0")}.bin`;
    writeFileSync(join(s.input, name), data);
    inputs.set(name, sha256(data));
  }
  return inputs;
}

function crossFsSandbox(store: StoreKind): Promise<Sandbox> {
  const shm = mkdtempSync("/dev/shm/sluice-batch-crash-wh-");
  extraDirs.push(shm);
  return sandboxes.make(store, { warehouse: join(shm, "warehouse") });
}

const FLAGS = ["--stability-seconds", "0"];

async function crashThenRecover(s: Sandbox, point: string): Promise<void> {
  const crashed = await runOnce([...s.args, ...FLAGS, "--log-level", "debug"], { env: { SLUICE_CRASH_AT: point } });
  // The crash point must really have been reached, in a batch; otherwise the test proves nothing.
  expect(crashed.signal, `${point} was not reached: ${crashed.stderr}`).toBe("SIGKILL");
  const batches = crashed.events.filter((e) => e.event === "batch_started").map((e) => e.files as number);
  expect(Math.max(0, ...batches), "the files went through the batch lane").toBeGreaterThan(60);
  const resumed = await runOnce([...s.args, ...FLAGS]);
  expect(resumed.code, resumed.stderr).toBe(0);
}

for (const store of STORES) {
  describe(`small-file batches: SIGKILL mid-batch at each step, same filesystem (${store})`, () => {
    for (const point of [
      "after-discover:60",
      "after-hash:60",
      "after-hash:200",
      "after-store:60",
      "after-stored:60",
      "after-manifest:60",
      "after-manifest:200",
      "after-source-removed:60",
    ]) {
      it(`recovers from ${point}`, async () => {
        const s = await sandboxes.make(store);
        const inputs = dropSmallFiles(s);
        await crashThenRecover(s, point);
        expect(checkExactlyOnce(s, inputs).problems).toEqual([]);
      });
    }
  });

  describe(`small-file batches: SIGKILL mid-batch at each step, warehouse on another filesystem (${store})`, () => {
    for (const point of [
      "after-copy:60",
      "after-hash:60",
      "after-store:60",
      "after-stored:60",
      "after-manifest:60",
      "after-manifested:60",
      "after-source-removed:60",
    ]) {
      it(`recovers from ${point}`, async () => {
        const s = await crossFsSandbox(store);
        const inputs = dropSmallFiles(s);
        await crashThenRecover(s, point);
        expect(checkExactlyOnce(s, inputs).problems).toEqual([]);
      });
    }
  });
}
