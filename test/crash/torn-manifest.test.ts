import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { checkExactlyOnce, type Inputs } from "../support/invariants.js";
import { listFiles, makeSandbox, type Sandbox, sha256 } from "../support/sandbox.js";

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup();
});

/**
 * A power cut can leave half a manifest line (SIGKILL cannot: a write() to a
 * file completes or not). Simulate it: kill right after `stored` commits, so
 * lines are owed, then append a torn fragment as the interrupted write would
 * have left it. The restart must cut the fragment and write each owed line once.
 */
it("cuts a torn manifest tail on restart and writes every owed line exactly once", async () => {
  const s = makeSandbox();
  sandboxes.push(s);
  mkdirSync(s.input, { recursive: true });
  const inputs: Inputs = new Map();
  for (let i = 0; i < 8; i++) {
    const data = `torn ${i} ${Math.random()}\n`;
    writeFileSync(join(s.input, `t${i}.dat`), data);
    inputs.set(`t${i}.dat`, sha256(data));
  }
  const flags = [...s.args, "--stability-seconds", "0", "--concurrency", "2"];
  const crashed = await runOnce(flags, { env: { SLUICE_CRASH_AT: "after-stored:4" } });
  expect(crashed.signal).toBe("SIGKILL");

  const manifests = listFiles(s.manifests).filter((f) => f.endsWith("manifest.jsonl"));
  expect(manifests.length).toBe(1);
  const manifest = join(s.manifests, manifests[0] as string);
  appendFileSync(manifest, '{"version":1,"ingest_id":"01a2-torn","status":"ingest');

  const resumed = await runOnce(flags);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.events.some((e) => e.event === "manifest_tail_repaired")).toBe(true);
  // readManifest (inside checkExactlyOnce) throws on a torn or non-JSON line.
  expect(checkExactlyOnce(s, inputs).problems).toEqual([]);
});
