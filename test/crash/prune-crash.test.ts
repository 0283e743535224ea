import { afterEach, describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { put } from "../support/fixtures.js";
import { stateRows } from "../support/invariants.js";
import { dropMixed, prune, pruneArgs, verifyClean } from "../support/prune.js";
import { readManifest, type Sandbox } from "../support/sandbox.js";
import { STORES, storeSandboxes } from "../support/stores.js";

/**
 * SIGKILL inside a prune batch's transaction (files rows deleted, content rows not yet updated) and between two
 * committed batches, on both stores: the state is consistent at once (no content lost its dedupe record, no detail
 * row outlives its file, a batch is all or nothing), a rerun finishes the job, and the same bytes are still
 * duplicates of their first ingest.
 */

const sandboxes = storeSandboxes();
afterEach(() => sandboxes.cleanup());

const RUN = ["--stability-seconds", "0", "--schema", "sensor-readings"];
const BATCH = 4;

function drop(s: Sandbox): void {
  dropMixed(s);
  for (let i = 0; i < 12; i++) put(s.input, `plain-${i}.txt`, `plain content ${i}\n`);
}

/** What must hold after any kill: the invariants a half-done batch would break. */
function expectConsistent(s: Sandbox): void {
  // Every content row still answers "who was first": its files row, or the record prune kept.
  expect(
    stateRows(
      s,
      `SELECT c.sha256 FROM contents c LEFT JOIN files f ON f.ingest_id = c.ingest_id
        WHERE f.ingest_id IS NULL AND (c.pruned_at IS NULL OR c.warehouse_path IS NULL)`,
    ),
  ).toEqual([]);
  // No invalid row outlives its file.
  expect(
    stateRows(
      s,
      "SELECT i.ingest_id FROM invalid_rows i LEFT JOIN files f ON f.ingest_id = i.ingest_id WHERE f.ingest_id IS NULL",
    ),
  ).toEqual([]);
}

const fileCount = (s: Sandbox) => Number(stateRows<{ n: number }>(s, "SELECT COUNT(*) AS n FROM files")[0]?.n);

describe.each(STORES)("prune killed mid-way (%s)", (store) => {
  it.each([
    // The second batch's transaction is killed before its commit: only the first batch's rows are gone.
    { point: "prune-mid-batch:2", committed: BATCH },
    // Killed after the second batch committed: both are gone, nothing else.
    { point: "prune-after-batch:2", committed: 2 * BATCH },
  ])("at $point: consistent at once, a rerun finishes, dedupe intact", async ({ point, committed }) => {
    const s = await sandboxes.make(store);
    drop(s);
    const first = await runOnce([...s.args, ...RUN]);
    expect(first.code, first.stderr).toBe(0);
    const total = fileCount(s);
    expect(total).toBeGreaterThan(3 * BATCH);
    const firsts = new Map(
      readManifest(s.manifests)
        .filter((l) => l.status === "ingested")
        .map((l) => [l.sha256, l.ingest_id]),
    );

    const killed = await runSluice(
      ["prune", ...pruneArgs(s), "--older-than", "0s", "--prune-batch-rows", String(BATCH)],
      { env: { SLUICE_CRASH_AT: point } },
    );
    // The crash point must really have been reached; otherwise the test proves nothing.
    expect(killed.signal, `${point} was not reached: ${killed.stderr}`).toBe("SIGKILL");
    expect(fileCount(s)).toBe(total - committed);
    expectConsistent(s);
    await verifyClean(s);

    const rerun = await prune(s, "--older-than", "0s", "--prune-batch-rows", String(BATCH));
    expect(rerun.rows_deleted.files).toBe(total - committed);
    expect(fileCount(s)).toBe(0);
    expectConsistent(s);
    await verifyClean(s);

    drop(s);
    const again = await runOnce([...s.args, ...RUN]);
    expect(again.code, again.stderr).toBe(0);
    const rows = stateRows<{ name: string; sha256: string; state: string; duplicate_of: string | null }>(
      s,
      "SELECT name, sha256, state, duplicate_of FROM files WHERE state <> 'failed'",
    );
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) expect(r, r.name).toMatchObject({ state: "duplicate", duplicate_of: firsts.get(r.sha256) });
    await verifyClean(s);
  });
});
