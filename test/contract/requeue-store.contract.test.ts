import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngestId } from "../../src/core/ids.js";
import type { NewFile, StateStore } from "../../src/store/state-store.js";
import { file, place, postgresDialect, sha, sqliteDialect } from "./lib/store-dialects.js";

/**
 * The requeue capability of the state store (migration 0006), the same on both dialects: the intent, its link
 * made by decide, the state's own refusal of a second attempt per failed row.
 */

/** A file that went all the way to `failed` (hashed first when `content` is given), with an error copy. */
async function failedFile(s: StateStore, name: string, content: string | null, extra: Partial<NewFile> = {}) {
  const f = file(name, extra);
  if (content === null) await s.recordDiscovered(f);
  else await s.decide(f, sha(content), place(name, content));
  await s.beginQuarantine(
    f.ingestId,
    { code: "SLUICE_ERR_PARSE", message: "bad", attempts: 1 },
    `/errors/20261124T100000000Z_${name}`,
  );
  await s.finishFailed(f.ingestId);
  return f;
}

for (const make of [sqliteDialect, postgresDialect]) {
  const dialect = make();
  describe(`requeue contract: ${dialect.name}`, () => {
    let s: StateStore;
    beforeAll(async () => {
      s = await dialect.open();
    });
    afterAll(() => dialect.cleanup());

    it("records one intent per failed row; a second request finds it; unknown and unfinished rows are refused", async () => {
      const f = await failedFile(s, "req-a.csv", "bad-a");
      const first = await s.requestRequeue(f.ingestId);
      expect(first).toMatchObject({
        kind: "pending",
        again: false,
        intent: { failedId: f.ingestId, name: "req-a.csv", sha256: sha("bad-a"), newId: null },
      });
      const second = await s.requestRequeue(f.ingestId);
      expect(second).toMatchObject({ kind: "pending", again: true, intent: { failedId: f.ingestId } });
      expect(await s.requeueIntent(f.ingestId)).toMatchObject({ name: "req-a.csv", newId: null });
      expect(await s.requestRequeue(newIngestId())).toEqual({ kind: "unknown" });
      const live = file("live.csv");
      await s.recordDiscovered(live);
      expect(await s.requestRequeue(live.ingestId)).toEqual({ kind: "not-failed", state: "discovered" });
      // Concurrent requests of one row (two operators, a rerun beside a first run) record one intent.
      const g = await failedFile(s, "req-race.csv", "bad-race");
      const both = await Promise.all([s.requestRequeue(g.ingestId), s.requestRequeue(g.ingestId)]);
      expect(both.map((r) => r.kind)).toEqual(["pending", "pending"]);
      expect(both.filter((r) => r.kind === "pending" && !r.again)).toHaveLength(1);
    });

    it("links the new attempt in its decide transaction, both ways, and refuses a second attempt", async () => {
      const f = await failedFile(s, "req-b.csv", "bad-b");
      await s.requestRequeue(f.ingestId);
      // Another name, or the same name with other bytes, is not the requeued file.
      const other = file("req-b-other.csv");
      await s.decide(other, sha("bad-b"), place(other.name, "bad-b"));
      await s.markStored(other.ingestId, "2026-11-24T10:00:00.000Z", "/m/x.jsonl");
      const impostor = file("req-b.csv");
      await s.decide(impostor, sha("different"), place(impostor.name, "different"));
      expect((await s.get(impostor.ingestId))?.requeuedFrom).toBeNull();
      expect((await s.requeueIntent(f.ingestId))?.newId).toBeNull();

      const again = file("req-b.csv");
      const d = await s.decide(again, sha("bad-b"), place(again.name, "bad-b"));
      // The decision is the ordinary one; the link is committed with it (read back at once, nothing else ran).
      expect(d.kind).toBe("duplicate"); // `other` holds these bytes now: a duplicate is an attempt like any
      expect((await s.get(again.ingestId))?.requeuedFrom).toBe(f.ingestId);
      expect((await s.get(f.ingestId))?.requeuedTo).toBe(again.ingestId);
      expect(await s.requestRequeue(f.ingestId)).toMatchObject({ kind: "linked", newId: again.ingestId });
      expect(await s.cancelRequeue(f.ingestId)).toBe(false);

      // A replayed decide of the linked file changes nothing; a later file of that name is not linked again.
      await s.decide(again, sha("bad-b"), place(again.name, "bad-b"));
      const later = file("req-b.csv");
      await s.decide(later, sha("bad-b"), place(later.name, "bad-b"));
      expect((await s.get(later.ingestId))?.requeuedFrom).toBeNull();
      expect((await s.get(f.ingestId))?.requeuedTo).toBe(again.ingestId);
      // (and is not offered by --failed any more)
      expect((await s.failedFiles({ limit: 100 })).map((r) => r.ingestId)).not.toContain(f.ingestId);
    });

    it("matches by name alone when the failed row was never hashed; oldest intent first; one per file", async () => {
      const a = await failedFile(s, "req-c.csv", null);
      const b = await failedFile(s, "req-c.csv", null);
      await s.requestRequeue(a.ingestId);
      await new Promise((r) => setTimeout(r, 5));
      await s.requestRequeue(b.ingestId);
      const n1 = file("req-c.csv");
      const n2 = file("req-c.csv");
      await s.decide(n1, sha("c1"), place(n1.name, "c1"));
      await s.decide(n2, sha("c2"), place(n2.name, "c2"));
      expect((await s.get(n1.ingestId))?.requeuedFrom).toBe(a.ingestId);
      expect((await s.get(n2.ingestId))?.requeuedFrom).toBe(b.ingestId);
    });

    it("a forgotten attempt gives its intent back; a cancelled intent is gone", async () => {
      const f = await failedFile(s, "req-d.csv", "bad-d");
      await s.requestRequeue(f.ingestId);
      const n = file("req-d.csv");
      await s.decide(n, sha("bad-d"), place(n.name, "bad-d"));
      expect((await s.requeueIntent(f.ingestId))?.newId).toBe(n.ingestId);
      await s.forget(n.ingestId); // changed while it was read: not the attempt after all
      expect((await s.requeueIntent(f.ingestId))?.newId).toBeNull();
      expect((await s.get(f.ingestId))?.requeuedTo).toBeNull();
      expect(await s.cancelRequeue(f.ingestId)).toBe(true);
      expect(await s.requeueIntent(f.ingestId)).toBeUndefined();
      expect(await s.requestRequeue(f.ingestId)).toMatchObject({ kind: "pending", again: false });
    });

    it("the state itself refuses a second new attempt for one failed row (unique requeued_from)", async () => {
      const f = await failedFile(s, "req-e.csv", "bad-e");
      await s.requestRequeue(f.ingestId);
      // Two files of the name decided in one batch (one group commit): only the first is linked.
      const [x, y] = [file("req-e.csv"), file("req-e.csv")];
      await Promise.all([
        s.decide(x, sha("bad-e"), place(x.name, "bad-e")),
        s.decide(y, sha("bad-e"), place(y.name, "bad-e")),
      ]);
      const linked = [await s.get(x.ingestId), await s.get(y.ingestId)].filter((r) => r?.requeuedFrom);
      expect(linked.map((r) => r?.requeuedFrom)).toEqual([f.ingestId]);
      // The index, not only the rule: a direct second link violates it.
      await expect(forceSecondLink(dialect.name, s, f.ingestId, y.ingestId)).rejects.toThrow(/unique|UNIQUE/);
    });

    it("selects failed rows for --failed by code and failure time, in keyset pages", async () => {
      const before = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      const p = await failedFile(s, "sel-1.csv", "s1");
      const q = file("sel-2.csv");
      await s.recordDiscovered(q);
      await s.beginQuarantine(q.ingestId, { code: "SLUICE_ERR_NO_VALID_ROWS", message: "x", attempts: 1 }, "/e/q");
      await s.finishFailed(q.ingestId);
      const vanished = file("sel-3.csv");
      await s.recordDiscovered(vanished);
      await s.beginQuarantine(vanished.ingestId, { code: "SLUICE_ERR_VANISHED", message: "x", attempts: 1 }, null);
      await s.finishFailed(vanished.ingestId);
      const ids = async (q2: Parameters<StateStore["failedFiles"]>[0]) =>
        (await s.failedFiles(q2)).map((r) => r.ingestId);
      expect(await ids({ since: before, limit: 10 })).toEqual([p.ingestId, q.ingestId]);
      expect(await ids({ since: before, code: "SLUICE_ERR_NO_VALID_ROWS", limit: 10 })).toEqual([q.ingestId]);
      const [first] = await s.failedFiles({ since: before, limit: 1 });
      expect(first?.ingestId).toBe(p.ingestId);
      expect(
        await ids({ since: before, limit: 10, after: { updatedAt: first?.updatedAt ?? "", ingestId: p.ingestId } }),
      ).toEqual([q.ingestId]);
      expect(await ids({ since: new Date(Date.now() + 60_000).toISOString(), limit: 10 })).toEqual([]);
    });
  });
}

/** Writes a second `requeued_from` for a failed row behind the rules' back, through the dialect's own database. */
async function forceSecondLink(dialect: string, s: StateStore, failedId: string, id: string): Promise<void> {
  if (dialect === "sqlite") {
    const db = (s as unknown as { db: import("better-sqlite3").Database }).db;
    db.prepare("UPDATE files SET requeued_from = ? WHERE ingest_id = ?").run(failedId, id);
    return;
  }
  const pool = (s as unknown as { pool: import("pg").Pool }).pool;
  await pool.query("UPDATE files SET requeued_from = $1 WHERE ingest_id = $2", [failedId, id]);
}
