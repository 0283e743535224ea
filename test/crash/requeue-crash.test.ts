import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { argsFor } from "../support/fixtures.js";
import { stateRows } from "../support/invariants.js";
import { READINGS_CSV, rowsOf, writeSchema } from "../support/requeue-fixtures.js";
import { listFiles, readManifest, type Sandbox, sha256, sha256File, warehouseFiles } from "../support/sandbox.js";
import { STORES, type StoreKind, storeSandboxes } from "../support/stores.js";

/**
 * SIGKILL at each durable step of `sluice requeue` (intent committed; copy made in staging's temp name; copy linked
 * into its staging name; error copy removed) and of the ingest that completes it (decided and linked; stored;
 * manifest line written; source removed), then the same command again: one new attempt per failed file, linked both
 * ways, its bytes in exactly one place (the warehouse), nothing left in staging or in the error directory.
 */

const sandboxes = storeSandboxes();
const extraDirs: string[] = [];
afterEach(async () => {
  await sandboxes.cleanup();
  for (const d of extraDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NAMES = ["readings-1.csv", "readings-2.csv", "readings-3.csv"];
const contentOf = (name: string) => `${READINGS_CSV}${name.slice(9, 10)},extra\n`;

async function failedSandbox(store: StoreKind, crossFs: boolean): Promise<Sandbox> {
  let errors: string | undefined;
  if (crossFs) {
    // The error directory on another filesystem than staging: the copy path (temp name, fsync, link).
    const shm = mkdtempSync("/dev/shm/sluice-requeue-");
    extraDirs.push(shm);
    errors = join(shm, "errors");
  }
  const s = await sandboxes.make(store, errors ? { errors } : {});
  writeSchema(join(s.root, "schema.json"), false);
  mkdirSync(s.input, { recursive: true });
  for (const n of NAMES) writeFileSync(join(s.input, n), contentOf(n));
  expect((await runOnce(run(s))).code).toBe(0);
  expect(rowsOf(s).map((r) => r.state)).toEqual(["failed", "failed", "failed"]);
  writeSchema(join(s.root, "schema.json"), true);
  return s;
}

const run = (s: Sandbox) => argsFor(s, "--schema", join(s.root, "schema.json"), "--stability-seconds", "0");
const requeueAll = (s: Sandbox, env: Record<string, string> = {}) =>
  runSluice(["requeue", "--failed", ...s.args], { env });

function checkRequeuedOnce(s: Sandbox): void {
  const rows = rowsOf(s);
  const failed = rows.filter((r) => r.requeued_from === null);
  const attempts = rows.filter((r) => r.requeued_from !== null);
  expect(failed.map((r) => r.state)).toEqual(["failed", "failed", "failed"]);
  // One new attempt per failed file, each linked both ways, each done.
  expect(attempts).toHaveLength(3);
  for (const f of failed) {
    const mine = attempts.filter((a) => a.requeued_from === f.ingest_id);
    expect(mine, f.name).toHaveLength(1);
    expect(mine[0]).toMatchObject({ state: "done", name: f.name, sha256: sha256(contentOf(f.name)) });
    expect(f.requeued_to).toBe(mine[0]?.ingest_id);
  }
  expect(stateRows<{ n: number }>(s, "SELECT COUNT(*) AS n FROM requeues WHERE new_id IS NULL")[0]?.n).toBe(0);
  // The bytes in exactly one place: the warehouse, once each; one manifest line each; nothing elsewhere.
  const stored = warehouseFiles(s.warehouse).filter((f) => f.endsWith(".csv"));
  expect(stored.map((f) => sha256File(join(s.warehouse, f))).sort()).toEqual(
    NAMES.map((n) => sha256(contentOf(n))).sort(),
  );
  expect(
    readManifest(s.manifests)
      .map((l) => l.name)
      .sort(),
  ).toEqual(NAMES);
  expect(listFiles(s.input)).toEqual([]);
  expect(listFiles(s.errors)).toEqual([]);
}

const REQUEUE_POINTS: [string, boolean][] = [
  ["after-requeue-intent:2", false],
  ["after-requeue-link:2", false],
  ["after-requeue-move:2", false],
  ["after-requeue-copy:2", true],
  ["after-requeue-link:2", true],
  ["after-requeue-move:1", true],
];
const INGEST_POINTS = ["after-hash:2", "after-stored:2", "after-manifest:2", "after-source-removed:2"];

describe.each(STORES)("requeue survives SIGKILL (%s state)", (store) => {
  it.each(REQUEUE_POINTS)("killed at %s (error directory on another filesystem: %s), run again", async (point, x) => {
    const s = await failedSandbox(store, x);
    const killed = await requeueAll(s, { SLUICE_CRASH_AT: point });
    expect(killed.signal, `${point} not reached: ${killed.stderr}`).toBe("SIGKILL");
    const again = await requeueAll(s);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout.trim().split("\n")).toHaveLength(3);
    const r = await runOnce(run(s));
    expect(r.code, r.stderr).toBe(0);
    checkRequeuedOnce(s);
    // And once more: everything says it was requeued already; nothing moves.
    const third = await requeueAll(s, {});
    expect([third.code, third.stdout]).toEqual([0, "nothing to requeue\n"]);
  });

  it.each(INGEST_POINTS)("the ingest that completes it killed at %s, then run again", async (point) => {
    const s = await failedSandbox(store, false);
    expect((await requeueAll(s)).code).toBe(0);
    const killed = await runOnce(run(s), { env: { SLUICE_CRASH_AT: point } });
    expect(killed.signal, `${point} not reached: ${killed.stderr}`).toBe("SIGKILL");
    const r = await runOnce(run(s));
    expect(r.code, r.stderr).toBe(0);
    checkRequeuedOnce(s);
  });
});
