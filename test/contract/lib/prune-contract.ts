import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import { newIngestId } from "../../../src/core/ids.js";
import type { NewFile, PlacementRequest, StateStore } from "../../../src/store/state-store.js";
import { PARTIAL, PARTIAL_INVALID } from "../../api/read-fixture.js";

/**
 * The prune part of the state store contract (issue 21), run by state-store.contract.test.ts against each
 * dialect on a store of its own (prune deletes rows the other cases count). "Old" and "recent" are told apart
 * by a cutoff taken between them on the real clock, never by a hard-coded time.
 */

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
let seq = 0;
const file = (name: string, extra: Partial<NewFile> = {}): NewFile => ({
  ingestId: newIngestId(),
  sourcePath: `/staging/${name}`,
  name,
  device: 2049,
  inode: 7_000_000_000 + seq++,
  size: 99,
  mtimeMs: 1_795_000_000_000,
  sidecarPath: null,
  ...extra,
});
const place = (name: string, content: string): PlacementRequest => ({
  partitionDir: "/wh/ingest_date=2026-11-24",
  baseName: name,
  collisionName: `${sha(content).slice(0, 12)}.${name}`,
  ingestedAt: "2026-11-24T10:00:00.000Z",
  manifestPath: "/manifests/2026/11/24/10/manifest.jsonl",
});

async function ingest(s: StateStore, f: NewFile, content: string, processing?: typeof PARTIAL) {
  const p = place(f.name, content);
  const d = await s.decide(f, sha(content), p);
  if (d.kind === "new") {
    await s.markStored(f.ingestId, p.ingestedAt, p.manifestPath, processing);
    await s.finish(f.ingestId, "done");
  } else if (d.kind === "duplicate") await s.finish(f.ingestId, "duplicate");
  else throw new Error(`expected new or duplicate, got ${d.kind}`);
  return d;
}

/** A cutoff strictly after every change made so far, and strictly before every later one. */
async function cutoffNow(): Promise<string> {
  const t = new Date().toISOString();
  while (new Date().toISOString() <= t) await new Promise((r) => setImmediate(r));
  return t;
}

export function pruneContract(open: () => Promise<StateStore>): void {
  it("prunes old finished rows with their detail; the same content again is a duplicate of the first ingest, its path stays reserved", async () => {
    const s = await open();
    // Old: an original with invalid rows, its duplicate, a failed file, an active file, an active archive's member.
    const orig = file("report.csv");
    const first = await ingest(s, orig, "report-bytes", PARTIAL);
    expect(first.kind).toBe("new");
    const origPath = (first as { warehousePath: string }).warehousePath;
    const dup = file("copy-of-report.csv");
    expect((await ingest(s, dup, "report-bytes")).kind).toBe("duplicate");
    const bad = file("bad.csv");
    await s.decide(bad, sha("bad-bytes"), place(bad.name, "bad-bytes"));
    await s.beginQuarantine(bad.ingestId, { code: "SLUICE_ERR_PARSE", message: "bad", attempts: 1 }, "/errors/bad.csv");
    await s.finishFailed(bad.ingestId);
    const active = file("in-flight.bin");
    await s.decide(active, sha("in-flight"), place(active.name, "in-flight"));
    const archive = file("bundle.tar");
    await s.decide(archive, sha("bundle"), place(archive.name, "bundle"));
    const member = file("bundle/a.txt", { archiveIngestId: archive.ingestId, memberPath: "a.txt", memberIndex: 0 });
    await ingest(s, member, "member-bytes");
    const cutoff = await cutoffNow();
    // Recent: finished after the cutoff.
    const recent = file("recent.txt");
    await ingest(s, recent, "recent-bytes");

    // Dry run: counts, changes nothing.
    const before = await s.countByState();
    const counted = await s.countPrunable(cutoff);
    expect(counted).toEqual({
      files: { done: 1, duplicate: 1, failed: 1 },
      originalsKept: 1,
      detail: { invalid_rows: PARTIAL_INVALID, file_history: 0, requeues: 0 },
    });
    expect(await s.countByState()).toEqual(before);
    expect(await s.invalidRowCount(orig.ingestId)).toBe(PARTIAL_INVALID);

    // Small batches: the rerun of a batch finds nothing twice; the totals match the dry run.
    const tallies: Awaited<ReturnType<StateStore["pruneBatch"]>>[] = [];
    for (;;) {
      const t = await s.pruneBatch(cutoff, 2);
      if (t.files.done + t.files.duplicate + t.files.failed === 0) break;
      tallies.push(t);
    }
    expect(tallies).toHaveLength(2);
    const sum = (k: "done" | "duplicate" | "failed") => tallies.reduce((n, t) => n + t.files[k], 0);
    expect({ done: sum("done"), duplicate: sum("duplicate"), failed: sum("failed") }).toEqual(counted.files);
    expect(tallies.reduce((n, t) => n + t.originalsKept, 0)).toBe(1);
    expect(tallies.reduce((n, t) => n + (t.detail.invalid_rows ?? 0), 0)).toBe(PARTIAL_INVALID);

    for (const gone of [orig, dup, bad]) expect(await s.get(gone.ingestId)).toBeUndefined();
    expect(await s.invalidRowCount(orig.ingestId)).toBe(0);
    // Untouched: the active rows, the member of an archive still in flight, the recent file.
    expect((await s.get(active.ingestId))?.state).toBe("hashed");
    expect((await s.get(archive.ingestId))?.state).toBe("hashed");
    expect((await s.get(member.ingestId))?.state).toBe("done");
    expect((await s.get(recent.ingestId))?.state).toBe("done");
    expect(await s.countPrunable(cutoff)).toMatchObject({ files: { done: 0, duplicate: 0, failed: 0 } });

    // The same bytes again: a duplicate of the first ingest, pointing at its stored copy.
    const again = file("report-again.csv");
    const d = await s.decide(again, sha("report-bytes"), place(again.name, "report-bytes"));
    expect(d).toEqual({ kind: "duplicate", duplicateOf: orig.ingestId, warehousePath: origPath });
    await s.finish(again.ingestId, "duplicate");
    expect(await s.get(again.ingestId)).toMatchObject({
      state: "duplicate",
      duplicateOf: orig.ingestId,
      warehousePath: origPath,
    });
    // Rehashed onto those bytes: a duplicate too.
    const changing = file("changing.csv");
    await s.decide(changing, sha("changing-1"), place(changing.name, "changing-1"));
    const at = { ingestedAt: "2026-11-24T10:00:00.000Z", manifestPath: "/m" };
    expect(await s.rehash(changing.ingestId, sha("report-bytes"), { size: 12, mtimeMs: 1 }, at)).toBe("duplicate");
    expect((await s.get(changing.ingestId))?.duplicateOf).toBe(orig.ingestId);

    // The pruned original's name stays reserved: other bytes under that name take the collision name.
    expect(await s.isReserved(origPath)).toBe(true);
    const other = file("report.csv");
    const o = await s.decide(other, sha("other-bytes"), place(other.name, "other-bytes"));
    expect(o).toEqual({
      kind: "new",
      warehousePath: `/wh/ingest_date=2026-11-24/${sha("other-bytes").slice(0, 12)}.report.csv`,
    });
    // A failed file's bytes were never claimed: they are new content when they come back.
    const retry = file("bad.csv");
    expect((await s.decide(retry, sha("bad-bytes"), place(retry.name, "bad-bytes"))).kind).toBe("new");

    expect(await s.prunedOriginals("", 10)).toEqual([
      {
        sha256: sha("report-bytes"),
        ingestId: orig.ingestId,
        warehousePath: origPath,
        ingestedAt: "2026-11-24T10:00:00.000Z",
        prunedAt: expect.any(String),
      },
    ]);
    expect(await s.prunedOriginals(sha("report-bytes"), 10)).toEqual([]);
  });

  it("reports the state's bytes and gives deleted rows' space back", async () => {
    const s = await open();
    const padding = "x".repeat(400);
    for (let i = 0; i < 300; i++) await ingest(s, file(`bulk-${i}-${padding}.csv`), `bulk-${i}`, PARTIAL);
    const cutoff = await cutoffNow();
    const before = await s.stateBytes();
    expect(before).toBeGreaterThan(300 * PARTIAL_INVALID * 10);
    let deleted = 0;
    for (;;) {
      const t = await s.pruneBatch(cutoff, 100);
      if (t.files.done === 0) break;
      deleted += t.files.done;
    }
    expect(deleted).toBeGreaterThanOrEqual(300);
    const reclaim = await s.reclaimSpace();
    expect(["incremental_vacuum", "vacuum"]).toContain(reclaim.method);
    const after = await s.stateBytes();
    // The invalid rows were most of the state: at least half of it is given back.
    expect(after).toBeLessThan(before / 2);
  });
}
