import { copyFileSync, mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce, runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { argsFor, readState, sleep, useSandboxes } from "../support/fixtures.js";
import { type Sandbox, warehouseFiles } from "../support/sandbox.js";

/**
 * Issue 18, W5: a file whose source is swapped for a symlink (or taken away) after its outputs were placed and
 * before its rename ends `vanished` ("nothing was stored"), and then nothing of it may stay in the warehouse:
 * its NAME.parquet goes in the same step as the row ends, on the live path, in recovery after a SIGKILL, and
 * `sluice verify --repair` removes any that remain.
 */

const sandbox = useSandboxes();
const running = useRunning();

const CSV = "id,value\n1,a\n2,b\n3,c\n";

function staged(s: Sandbox, name: string): string {
  mkdirSync(s.input, { recursive: true });
  writeFileSync(join(s.input, name), CSV);
  return join(s.input, name);
}

/** Runs `--once` paused after the outputs are placed, swaps the source for a symlink there; returns the run. */
async function swapAfterOutputsPlaced(s: Sandbox, name: string, env: Record<string, string> = {}) {
  const path = staged(s, name);
  const outside = join(s.root, "outside.csv");
  writeFileSync(outside, "id,value\n9,z\n");
  const p = new SluiceProcess(["run", "--once", ...argsFor(s)], {
    env: { SLUICE_PAUSE_AT: "after-outputs-placed", SLUICE_PAUSE_MS: "1500", ...env },
  });
  running.push(p);
  for (let i = 0; i < 1500 && !p.stderr.includes("SLUICE_PAUSE_AT=after-outputs-placed reached"); i++) await sleep(20);
  expect(p.stderr).toContain("SLUICE_PAUSE_AT=after-outputs-placed reached");
  // The Parquet is in the warehouse now, beside the name the raw file is about to take.
  expect(warehouseFiles(s.warehouse).some((f) => f.endsWith(`/${name}.parquet`))).toBe(true);
  symlinkSync(outside, `${path}.swap`);
  renameSync(`${path}.swap`, path);
  return p.exited;
}

async function verify(s: Sandbox, ...extra: string[]) {
  const r = await runSluice(["verify", ...s.args, "--json", ...extra]);
  return { code: r.code, report: JSON.parse(r.stdout) as { ok: boolean; problems: { kind: string; path?: string }[] } };
}

function onlyRow(s: Sandbox) {
  const rows = readState(s.statePath).files;
  expect(rows).toHaveLength(1);
  return rows[0] as (typeof rows)[number];
}

describe("outputs of a file that ends vanished are removed with it (W5)", () => {
  it("live: swapped for a symlink after its Parquet was placed → vanished, no Parquet left, verify clean", async () => {
    const s = sandbox();
    const r = await swapAfterOutputsPlaced(s, "race.csv");
    expect(r.code, r.stderr).toBe(0);
    const row = onlyRow(s);
    expect([row.state, row.error_code]).toEqual(["failed", "SLUICE_ERR_VANISHED"]);
    expect(warehouseFiles(s.warehouse)).toEqual([]);
    const v = await verify(s);
    expect(v.report.problems).toEqual([]);
    expect(v.code).toBe(0);
  });

  it("SIGKILL after the outputs were placed, source gone before the restart → recovery ends it vanished, no Parquet", async () => {
    const s = sandbox();
    const path = staged(s, "gone.csv");
    const killed = await runOnce(argsFor(s), { env: { SLUICE_CRASH_AT: "after-outputs-placed" } });
    expect(killed.signal).toBe("SIGKILL");
    expect(warehouseFiles(s.warehouse).some((f) => f.endsWith("/gone.csv.parquet"))).toBe(true);
    unlinkSync(path);
    const r = await runOnce(argsFor(s));
    expect(r.code, r.stderr).toBe(0);
    const row = onlyRow(s);
    expect([row.state, row.error_code]).toEqual(["failed", "SLUICE_ERR_VANISHED"]);
    expect(warehouseFiles(s.warehouse)).toEqual([]);
    expect((await verify(s)).code).toBe(0);
  });

  it("SIGKILL after the outputs were removed and before the row ended: the restart finishes it, clean", async () => {
    const s = sandbox();
    const r = await swapAfterOutputsPlaced(s, "half.csv", { SLUICE_CRASH_AT: "after-outputs-removed" });
    expect(r.signal).toBe("SIGKILL");
    expect(onlyRow(s).state).toBe("hashed");
    expect(warehouseFiles(s.warehouse)).toEqual([]);
    const again = await runOnce(argsFor(s));
    expect(again.code, again.stderr).toBe(0);
    const row = onlyRow(s);
    expect([row.state, row.error_code]).toEqual(["failed", "SLUICE_ERR_VANISHED"]);
    expect((await verify(s)).code).toBe(0);
  });
});

describe("sluice verify --repair removes orphan outputs, and only those", () => {
  it("a Parquet planted beside a vanished file's name is reported and removed; a foreign file is left", async () => {
    const s = sandbox();
    await swapAfterOutputsPlaced(s, "planted.csv");
    expect(onlyRow(s).state).toBe("failed");
    // The failed row no longer holds a warehouse path: the name it had reserved, as the old code left it.
    const row = onlyRow(s);
    const target = join(s.warehouse, `ingest_date=${(row.updated_at as string).slice(0, 10)}`, "planted.csv");
    mkdirSync(join(target, ".."), { recursive: true });
    const ok = join(s.root, "ok.csv");
    writeFileSync(ok, CSV);
    copyFileSync(ok, `${target}.parquet`);
    const foreign = join(target, "..", "foreign.bin");
    writeFileSync(foreign, "someone's");
    const before = await verify(s);
    expect(before.code).toBe(1);
    expect(before.report.problems.map((p) => [p.kind, p.path]).sort()).toEqual([
      ["orphan_object", foreign],
      ["orphan_output", `${target}.parquet`],
    ]);
    const repaired = await verify(s, "--repair");
    expect(repaired.report.problems.map((p) => p.kind)).toEqual(["orphan_object"]);
    expect(warehouseFiles(s.warehouse).map((f) => join(s.warehouse, f))).toEqual([foreign]);
  });
});
