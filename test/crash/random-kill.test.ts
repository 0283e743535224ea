import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runOnce, SluiceProcess } from "../support/cli.js";
import { checkExactlyOnce, type Inputs } from "../support/invariants.js";
import { makeSandbox, type Sandbox, sha256 } from "../support/sandbox.js";

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup();
});

/** Small deterministic PRNG so a failing run can be replayed from its printed seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

it("SIGKILL at random moments over a few hundred files loses and doubles nothing", async () => {
  const seed = Number(process.env.SLUICE_TEST_SEED ?? Date.now() % 1_000_000);
  const rand = rng(seed);
  console.log(`random-kill seed=${seed}`);
  const s = makeSandbox();
  sandboxes.push(s);
  mkdirSync(s.input, { recursive: true });

  const contents: Buffer[] = [];
  for (let i = 0; i < 240; i++) {
    const big = i % 24 === 0;
    contents.push(
      big ? randomBytes((1 << 20) + Math.floor(rand() * (2 << 20))) : randomBytes(64 + Math.floor(rand() * 8192)),
    );
  }
  const names: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < 300; i++) {
    const data = contents[i < 240 ? i : Math.floor(rand() * 240)] as Buffer;
    names.push({ name: `r${String(i).padStart(3, "0")}.bin`, data });
  }
  const inputs: Inputs = new Map();
  const drop = (n: number) => {
    for (const f of names.splice(0, n)) {
      writeFileSync(join(s.input, f.name), f.data);
      inputs.set(f.name, sha256(f.data));
    }
  };
  writeFileSync(join(s.input, ".hidden"), "ignored");
  writeFileSync(join(s.input, "upload.part"), "ignored");
  drop(120);

  const flags = [...s.args, "--stability-seconds", "0.05", "--scan-interval", "0.5", "--concurrency", "8"];
  let kills = 0;
  for (let cycle = 0; cycle < 12; cycle++) {
    const p = new SluiceProcess(["run", ...flags]);
    // Feed more files while it runs, so kills also land on files still arriving.
    await new Promise((r) => setTimeout(r, 50 + rand() * 150));
    drop(15);
    await new Promise((r) => setTimeout(r, 100 + rand() * 500));
    const result = await p.kill();
    if (result.signal === "SIGKILL") kills++;
  }
  drop(names.length);
  const final = await runOnce([...s.args, "--stability-seconds", "0.05"]);
  expect(final.code, `${final.stderr}\n${final.stdout.slice(-3000)}`).toBe(0);

  const report = checkExactlyOnce(s, inputs, { ignoredLeft: [".hidden", "upload.part"] });
  console.log(
    `random-kill: kills=${kills} files=${inputs.size} distinct=${report.distinct} lines=${report.manifestLines}`,
  );
  expect(kills).toBeGreaterThanOrEqual(10);
  expect(report.problems).toEqual([]);
});
