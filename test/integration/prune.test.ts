import { afterEach, describe, expect, it } from "vitest";
import { runOnce, runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { put } from "../support/fixtures.js";
import { stateRows } from "../support/invariants.js";
import { dropMixed, prune, pruneArgs, verifyClean } from "../support/prune.js";
import { listFiles, readManifest } from "../support/sandbox.js";
import { STORES, storeSandboxes } from "../support/stores.js";

/**
 * `sluice prune` through the real CLI on both stores (issue 21): a real ingest (a validated table with invalid
 * rows, an archive with members, a duplicate, a failed file), a prune of everything finished, then the same
 * bytes again — each a duplicate of its first ingest — and `sluice verify` clean throughout.
 */

const sandboxes = storeSandboxes();
const running = useRunning();
afterEach(() => sandboxes.cleanup());

const RUN = ["--stability-seconds", "0", "--schema", "sensor-readings"];

describe.each(STORES)("sluice prune (%s)", (store) => {
  it("drops old detail, keeps dedupe: the same bytes after a prune are duplicates of the first ingest; verify stays clean", async () => {
    const s = await sandboxes.make(store);
    dropMixed(s);
    const first = await runOnce([...s.args, ...RUN]);
    expect(first.code, first.stderr).toBe(0);
    // Each content's first ingest: its id and stored path, from the manifest lines.
    const firsts = new Map(
      readManifest(s.manifests)
        .filter((l) => l.status === "ingested")
        .map((l) => [l.sha256, { id: l.ingest_id, path: l.warehouse_path }]),
    );
    expect(firsts.size).toBe(5); // sensors.csv, alpha, bundle.tar and its two members
    const counts = stateRows<{ state: string; n: number }>(s, "SELECT state, COUNT(*) AS n FROM files GROUP BY state");
    const byState = Object.fromEntries(counts.map((c) => [c.state, Number(c.n)]));
    expect(byState).toMatchObject({ done: 5, duplicate: 1, failed: 1 });
    const invalid = Number(stateRows<{ n: number }>(s, "SELECT COUNT(*) AS n FROM invalid_rows")[0]?.n);
    expect(invalid).toBeGreaterThan(0);
    await verifyClean(s);

    // A dry run counts and changes nothing.
    const dry = await prune(s, "--older-than", "0s", "--dry-run");
    expect(dry).toMatchObject({
      dry_run: true,
      rows_deleted: { files: 7, files_by_state: { done: 5, duplicate: 1, failed: 1 }, invalid_rows: invalid },
      originals_kept: 5,
      files_after: 7,
    });

    const report = await prune(s, "--older-than", "0s", "--prune-batch-rows", "3");
    expect(report).toMatchObject({
      dry_run: false,
      rows_deleted: dry.rows_deleted,
      originals_kept: 5,
      batches: 3,
      files_before: 7,
      files_after: 0,
    });
    expect(report.bytes.before).toBeGreaterThan(0);
    expect(report.bytes.per_file_after).toBe(Math.round(report.bytes.after / 7));
    expect(report.reclaim?.method).toBe(store === "sqlite" ? "incremental_vacuum" : "vacuum");
    expect(stateRows(s, "SELECT 1 FROM files")).toEqual([]);
    expect(stateRows(s, "SELECT 1 FROM invalid_rows")).toEqual([]);
    // The stored originals are still accounted for by verify.
    expect((await verifyClean(s)).checked.pruned_originals).toBe(5);

    // The same contents again, under new names: each a duplicate of its first ingest, at its stored path.
    dropMixed(s);
    const again = await runOnce([...s.args, ...RUN]);
    expect(again.code, again.stderr).toBe(0);
    const rows = stateRows<{
      name: string;
      sha256: string;
      state: string;
      duplicate_of: string | null;
      warehouse_path: string;
    }>(s, "SELECT name, sha256, state, duplicate_of, warehouse_path FROM files");
    // The archive is a duplicate as a whole: its members are not expanded again.
    expect(rows.map((r) => r.name).sort()).toEqual(["a-copy.txt", "a.txt", "broken.json", "bundle.tar", "sensors.csv"]);
    for (const r of rows.filter((x) => x.name !== "broken.json")) {
      const first = firsts.get(r.sha256);
      expect(r, r.name).toMatchObject({ state: "duplicate", duplicate_of: first?.id, warehouse_path: first?.path });
    }
    // The failed file's bytes were never stored: it fails again (a new failure, not a duplicate).
    expect(rows.find((r) => r.name === "broken.json")?.state).toBe("failed");
    await verifyClean(s);
  });

  it("runs beside a live `sluice run` on the same state: no file fails or doubles, the re-sent bytes are duplicates", async () => {
    const s = await sandboxes.make(store);
    const wave = (prefix: string, n: number, content: (i: number) => string) => {
      for (let i = 0; i < n; i++) put(s.input, `${prefix}-${i}.txt`, content(i));
    };
    wave("a", 150, (i) => `first wave ${i}\n`);
    const p = new SluiceProcess(["run", ...s.args, "--stability-seconds", "0"]);
    running.push(p);
    await p.waitForCount("file_ingested", 150, 120_000);
    // While the service ingests new files and copies of the first wave, prune deletes in batches of 10.
    wave("b", 150, (i) => `second wave ${i}\n`);
    wave("a-copy", 150, (i) => `first wave ${i}\n`);
    const pruned = await prune(s, "--older-than", "0s", "--prune-batch-rows", "10");
    expect(pruned.rows_deleted.files).toBeGreaterThanOrEqual(150);
    await p.waitFor(
      (evs) =>
        evs.filter((e) => e.event === "file_ingested").length >= 300 &&
        evs.filter((e) => e.event === "file_duplicate").length >= 150,
      120_000,
    );
    const stopped = await p.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(p.named("file_ingested")).toHaveLength(300);
    expect(p.named("file_duplicate")).toHaveLength(150);
    expect(p.named("file_failed")).toEqual([]);
    // Each content once in the warehouse.
    expect(listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp"))).toHaveLength(300);
    await prune(s, "--older-than", "0s");
    expect(stateRows(s, "SELECT 1 FROM files")).toEqual([]);
    await verifyClean(s);
  });

  it("refuses without --older-than, and on a state that does not exist", async () => {
    const s = await sandboxes.make(store);
    const r = await runSluice(["prune", ...pruneArgs(s)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--older-than is required/);
    if (store === "sqlite") {
      const none = await runSluice(["prune", ...pruneArgs(s), "--older-than", "1d"]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no state database/);
    }
  });
});
