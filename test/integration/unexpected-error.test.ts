import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunResult, runOnce, SluiceProcess, useRunning } from "../support/cli.js";
import { argsFor, eventsNamed, put, type StateRow, useSandboxes } from "../support/fixtures.js";
import { stateRows } from "../support/invariants.js";
import { listFiles, readManifest, type Sandbox, sha256, sha256File, warehouseFiles } from "../support/sandbox.js";
import { STORES, storeSandboxes } from "../support/stores.js";

// A bug in a step (here a TypeError thrown by the test-only SLUICE_FAULT_AT at a named step, for matching names)
// must fail that file once with its error, never loop as write_retry; the other files and the service go on.
const sandbox = useSandboxes();
const running = useRunning();
const stores = storeSandboxes();
afterEach(() => stores.cleanup());

const GOOD = { "a.txt": "alpha\n", "b.txt": "bravo\n", "c.txt": "charlie\n" };

function putGood(s: Sandbox): void {
  for (const [name, data] of Object.entries(GOOD)) put(s.input, name, data);
}

function rowsOf(s: Sandbox, name: string): StateRow[] {
  return stateRows<StateRow>(s, "SELECT * FROM files").filter((r) => r.name === name);
}

/** The good files: each stored once, its manifest line once, its row done. */
function expectGoodIngested(s: Sandbox): void {
  const lines = readManifest(s.manifests);
  for (const [name, data] of Object.entries(GOOD)) {
    const rows = rowsOf(s, name);
    expect(
      rows.map((r) => r.state),
      name,
    ).toEqual(["done"]);
    expect(
      lines.filter((l) => l.name === name),
      name,
    ).toHaveLength(1);
    const stored = warehouseFiles(s.warehouse).filter((p) => basename(p) === name);
    expect(stored, name).toHaveLength(1);
    expect(readFileSync(join(s.warehouse, stored[0] as string), "utf8")).toBe(data);
  }
}

/** `name` failed exactly once with SLUICE_ERR_INTERNAL naming the TypeError, and its bytes are in the error directory. */
function expectFailedOnce(s: Sandbox, r: RunResult, name: string, data: string): void {
  const failed = eventsNamed(r.events, "file_failed");
  expect(failed.map((e) => e.name)).toEqual([name]);
  const ev = failed[0] as Record<string, unknown>;
  expect(ev.code).toBe("SLUICE_ERR_INTERNAL");
  expect(String(ev.reason)).toMatch(/^unexpected error: TypeError: injected fault \(SLUICE_FAULT_AT=/);
  expect(ev.attempts).toBe(1);
  const rows = rowsOf(s, name);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ state: "failed", error_code: "SLUICE_ERR_INTERNAL", attempts: 1 });
  expect(rows[0]?.error_message).toContain("TypeError");
  const errorPath = String(ev.error_path);
  expect(dirname(errorPath)).toBe(s.errors);
  expect(sha256File(errorPath)).toBe(sha256(data));
  const reason = JSON.parse(readFileSync(`${errorPath}.error.json`, "utf8")) as Record<string, unknown>;
  expect(reason).toMatchObject({ code: "SLUICE_ERR_INTERNAL", attempts: 1 });
  expect(listFiles(s.errors)).toHaveLength(2);
  expect(readManifest(s.manifests).filter((l) => l.name === name)).toEqual([]);
}

describe("an unexpected error (a TypeError) before the content is stored", () => {
  it.each(
    STORES.flatMap((store) => [
      // In a batch of small files, inside the decision's state write (retryUntilDone): the batch goes on without it.
      [store, "decide", "bad.txt", "bad,1\n"],
      // In a file's processor (processWithRetry), a batch of one.
      [store, "process", "bad.csv", "x,y\n1,2\n"],
    ]),
  )(
    "%s, at %s: fails %s once with its error, the other files are ingested, the run ends",
    async (store, point, name, data) => {
      const s = await stores.make(store);
      putGood(s);
      put(s.input, name, data);
      const r = await runOnce(argsFor(s), { env: { SLUICE_FAULT_AT: `${point}:bad.*` }, timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(eventsNamed(r.events, "write_retry")).toEqual([]);
      expectFailedOnce(s, r, name, data);
      const errors = eventsNamed(r.events, "file_error");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: "SLUICE_ERR_INTERNAL" });
      expect(String(errors[0]?.stack)).toMatch(/^TypeError: injected fault/);
      expectGoodIngested(s);
      expect(listFiles(s.input)).toEqual([]);
    },
  );

  it("the long-running service fails that file and keeps ingesting what comes next", async () => {
    const s = sandbox();
    putGood(s);
    put(s.input, "bad.txt", "bad,1\n");
    const p = new SluiceProcess(["run", ...argsFor(s)], { env: { SLUICE_FAULT_AT: "decide:bad.*" } });
    running.push(p);
    await p.waitFor(
      (evs) => eventsNamed(evs, "file_failed").length === 1 && eventsNamed(evs, "file_ingested").length === 3,
    );
    put(s.input, "later.txt", "later\n");
    await p.waitFor((evs) => eventsNamed(evs, "file_ingested").some((e) => e.name === "later.txt"));
    const r = await p.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "write_retry")).toEqual([]);
    expectFailedOnce(s, r, "bad.txt", "bad,1\n");
    expectGoodIngested(s);
    expect(rowsOf(s, "later.txt").map((row) => row.state)).toEqual(["done"]);
  });
});

describe("an unexpected error after the content is stored", () => {
  it("leaves the row for recovery, which tries it once per start and finishes it once the bug is gone", async () => {
    const s = sandbox();
    putGood(s);
    // A .csv is a batch of one (it has a processor): its batch-mates are not held up by its tail.
    put(s.input, "late.csv", "x,y\n1,2\n");
    const fault = { SLUICE_FAULT_AT: "finish:late.csv" };
    const first = await runOnce(argsFor(s), { env: fault, timeoutMs: 30_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(eventsNamed(first.events, "write_retry")).toEqual([]);
    expect(eventsNamed(first.events, "file_failed")).toEqual([]);
    expect(eventsNamed(first.events, "file_error").map((e) => e.code)).toEqual(["SLUICE_ERR_INTERNAL"]);
    expectGoodIngested(s);
    // Past the point of no return: the content is in the warehouse, the row is not failed but left mid-way.
    const left = rowsOf(s, "late.csv");
    expect(left).toHaveLength(1);
    expect(["stored", "manifested"]).toContain(left[0]?.state);
    expect(warehouseFiles(s.warehouse).filter((p) => basename(p) === "late.csv")).toHaveLength(1);

    // The bug is still there: recovery meets it once, says so, and the start goes on (no loop, no hang).
    const second = await runOnce(argsFor(s), { env: fault, timeoutMs: 30_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(eventsNamed(second.events, "write_retry")).toEqual([]);
    const failedRecovery = eventsNamed(second.events, "recovery_failed");
    expect(failedRecovery).toHaveLength(1);
    expect(failedRecovery[0]).toMatchObject({ code: "SLUICE_ERR_INTERNAL", ingest_id: left[0]?.ingest_id });
    // Still not terminal (recovery may have taken it a step on: its idempotent steps redo nothing).
    expect(["stored", "manifested"]).toContain(rowsOf(s, "late.csv")[0]?.state);
    expect(readManifest(s.manifests).filter((l) => l.name === "late.csv")).toHaveLength(1);

    // Fixed: the next start finishes it, exactly once.
    const third = await runOnce(argsFor(s), { timeoutMs: 30_000 });
    expect(third.code, third.stderr).toBe(0);
    expect(eventsNamed(third.events, "recovery_failed")).toEqual([]);
    expect(rowsOf(s, "late.csv").map((r) => r.state)).toEqual(["done"]);
    expect(readManifest(s.manifests).filter((l) => l.name === "late.csv")).toHaveLength(1);
    expect(warehouseFiles(s.warehouse).filter((p) => basename(p) === "late.csv")).toHaveLength(1);
    expectGoodIngested(s);
    expect(listFiles(s.input)).toEqual([]);
  });
});

describe("failing the file itself meets an unexpected error", () => {
  it("the run ends without storing it; the next start fails it, once, with its own error", async () => {
    const s = sandbox();
    putGood(s);
    const broken = '{"a": 1,,}\n';
    put(s.input, "broken.json", broken);
    const first = await runOnce(argsFor(s), { env: { SLUICE_FAULT_AT: "quarantine:broken.json" }, timeoutMs: 30_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(eventsNamed(first.events, "write_retry")).toEqual([]);
    expect(eventsNamed(first.events, "file_failed")).toEqual([]);
    expect(eventsNamed(first.events, "file_error").length).toBeGreaterThanOrEqual(1);
    expectGoodIngested(s);
    // Nothing of it stored, its source untouched in staging, its row not terminal.
    expect(warehouseFiles(s.warehouse).filter((p) => basename(p) === "broken.json")).toEqual([]);
    expect(readFileSync(join(s.input, "broken.json"), "utf8")).toBe(broken);
    expect(rowsOf(s, "broken.json").map((r) => r.state)).not.toContain("failed");

    const second = await runOnce(argsFor(s), { timeoutMs: 30_000 });
    expect(second.code, second.stderr).toBe(0);
    const failed = eventsNamed(second.events, "file_failed");
    expect(failed.map((e) => [e.name, e.code])).toEqual([["broken.json", "SLUICE_ERR_PARSE"]]);
    const rows = rowsOf(s, "broken.json");
    expect(rows.map((r) => r.state)).toEqual(["failed"]);
    expect(sha256File(String(failed[0]?.error_path))).toBe(sha256(broken));
    expect(existsSync(join(s.input, "broken.json"))).toBe(false);
    expect(readManifest(s.manifests).filter((l) => l.name === "broken.json")).toEqual([]);
  });
});
