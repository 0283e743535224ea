import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngestId } from "../../src/core/ids.js";
import { SchemaTooNewError } from "../../src/store/migrations.js";
import { POSTGRES_MIGRATIONS } from "../../src/store/postgres/migrations/index.js";
import { PostgresStateStore } from "../../src/store/postgres/postgres-store.js";
import { SCHEMA_VERSION } from "../../src/store/schema.js";
import type { StateStore } from "../../src/store/state-store.js";
import { PARTIAL, PARTIAL_INVALID, PROCESSED } from "../api/read-fixture.js";
import { createTestDatabase } from "../support/postgres.js";
import { pruneContract } from "./lib/prune-contract.js";
import { file, place, postgresDialect, sha, sqliteDialect, storeAll } from "./lib/store-dialects.js";

/**
 * One suite, every state-store dialect: the same calls must give the same
 * answers on the embedded SQLite file and on a real PostgreSQL server (the dialects and fixtures are in
 * lib/store-dialects.ts, shared with the requeue contract).
 */

for (const make of [sqliteDialect, postgresDialect]) {
  const dialect = make();
  describe(`state store contract: ${dialect.name}`, () => {
    let s: StateStore;
    beforeAll(async () => {
      s = await dialect.open();
    });
    afterAll(() => dialect.cleanup());

    it("records a file and reads it back with the same values", async () => {
      const f = file("Ünïcode name.csv", { sidecarPath: "/staging/Ünïcode name.csv.ok" });
      await s.recordDiscovered(f);
      await s.recordDiscovered(f); // a replay changes nothing
      const r = await s.get(f.ingestId);
      expect(r).toMatchObject({
        ingestId: f.ingestId,
        sourcePath: f.sourcePath,
        name: f.name,
        device: 2049,
        inode: f.inode,
        size: 1234,
        mtimeMs: 1_795_000_000_123.5,
        state: "discovered",
        sha256: null,
        sidecarPath: f.sidecarPath,
        attempts: 0,
        processing: null,
      });
      expect(typeof r?.inode).toBe("number");
      expect(await s.get(newIngestId())).toBeUndefined();
    });

    it("claims content once: a second file waits while the first is in flight, then is its duplicate", async () => {
      const a = file("a.csv");
      const b = file("b.csv");
      const da = await s.decide(a, sha("dup-content"), place(a.name, "dup-content"));
      expect(da).toEqual({ kind: "new", warehousePath: "/wh/ingest_date=2026-11-24/a.csv" });
      expect(await s.decide(b, sha("dup-content"), place(b.name, "dup-content"))).toEqual({
        kind: "wait",
        ownerId: a.ingestId,
      });
      await s.markStored(a.ingestId, "2026-11-24T10:00:00.000Z", "/m/x.jsonl");
      expect(await s.decide(b, sha("dup-content"), place(b.name, "dup-content"))).toEqual({
        kind: "duplicate",
        duplicateOf: a.ingestId,
        warehousePath: "/wh/ingest_date=2026-11-24/a.csv",
      });
      expect((await s.get(b.ingestId))?.duplicateOf).toBe(a.ingestId);
      expect(await s.isReserved("/wh/ingest_date=2026-11-24/a.csv")).toBe(true);
    });

    it("gives a name taken by other content the collision name", async () => {
      const one = file("same-name.csv");
      const two = file("same-name.csv");
      expect(await storeAll(s, one, "content one")).toBe("/wh/ingest_date=2026-11-24/same-name.csv");
      const d = await s.decide(two, sha("content two"), place(two.name, "content two"));
      expect(d).toEqual({
        kind: "new",
        warehousePath: `/wh/ingest_date=2026-11-24/${sha("content two").slice(0, 12)}.same-name.csv`,
      });
    });

    it("lets exactly one of many simultaneous claims of the same bytes win", async () => {
      const files = Array.from({ length: 12 }, (_, i) => file(`race-${i}.bin`));
      const results = await Promise.all(files.map((f) => s.decide(f, sha("race"), place(f.name, "race"))));
      expect(results.filter((r) => r.kind === "new")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "wait")).toHaveLength(11);
    });

    it("stores processing results and every invalid row, paged in order; a replay rewrites them", async () => {
      const f = file("dump.sql");
      const p = place(f.name, "partial");
      await s.decide(f, sha("partial"), p);
      await s.markStored(f.ingestId, p.ingestedAt, p.manifestPath, PARTIAL);
      await s.markStored(f.ingestId, p.ingestedAt, p.manifestPath, PARTIAL);
      expect(await s.invalidRowCount(f.ingestId)).toBe(PARTIAL_INVALID);
      const page = await s.invalidRows(f.ingestId, 100, 3);
      expect(page).toEqual(PARTIAL.invalidRows.slice(100, 103));
      const r = await s.get(f.ingestId);
      expect(r?.state).toBe("stored");
      expect(r?.processing).toEqual(PARTIAL.record);
    });

    it("reprocess: one intent per file, a compare-and-set switch of the generation, history of both", async () => {
      const f = file("gen.csv");
      const p = place(f.name, "gen");
      await s.decide(f, sha("gen"), p);
      await s.markStored(f.ingestId, p.ingestedAt, p.manifestPath, PROCESSED);
      await s.markManifested(f.ingestId);
      await s.finish(f.ingestId, "done");
      expect((await s.get(f.ingestId))?.generation).toBe(0);
      expect(await s.history(f.ingestId)).toEqual([]);
      // Asked from a generation the file is not at: nothing taken.
      expect(await s.reprocessBegin(f.ingestId, 3, "a")).toEqual({ kind: "moved", generation: 0 });
      expect(await s.reprocessBegin(newIngestId(), 0, "a")).toEqual({ kind: "missing" });
      // Two at once: exactly one takes the intent, the other hears who holds it.
      const both = await Promise.all([s.reprocessBegin(f.ingestId, 0, "a"), s.reprocessBegin(f.ingestId, 0, "b")]);
      expect(both.map((b) => b.kind).sort()).toEqual(["busy", "started"]);
      const winner = both[0]?.kind === "started" ? "a" : "b";
      const loser = winner === "a" ? "b" : "a";
      const busy = both.find((b) => b.kind === "busy");
      expect(busy?.kind === "busy" && busy.intent).toMatchObject({ owner: winner, generation: 1, phase: "writing" });
      // Only the owner moves it on; a stranger's placing is refused.
      await expect(s.reprocessPlacing(f.ingestId, loser, ["/x"])).rejects.toMatchObject({
        code: "SLUICE_ERR_REPROCESS_BUSY",
      });
      await s.reprocessPlacing(f.ingestId, winner, ["/wh/gen.csv.g1.parquet"]);
      expect(await s.reprocessTouch(f.ingestId, winner)).toBe(true);
      expect(await s.reprocessTouch(f.ingestId, loser)).toBe(false);
      const old = PROCESSED.record.outputs.map((o) => o.path);
      const next = { ...PARTIAL, record: { ...PARTIAL.record, schema: "b" } };
      expect(await s.reprocessSwitch(f.ingestId, winner, 0, next, old, "/m/r.jsonl")).toBe("switched");
      const r = await s.get(f.ingestId);
      expect(r).toMatchObject({ generation: 1, state: "done", processing: next.record });
      expect(await s.invalidRowCount(f.ingestId)).toBe(PARTIAL_INVALID);
      const h = await s.history(f.ingestId);
      expect(h.map((e) => [e.generation, e.kind])).toEqual([
        [0, "ingested"],
        [1, "reprocessed"],
      ]);
      expect(h[0]?.processing).toEqual(PROCESSED.record);
      expect(h[0]?.recordedAt).toBe(p.ingestedAt);
      expect(h[1]?.processing).toEqual(next.record);
      const [intent] = (await s.reprocessIntents()).filter((i) => i.ingestId === f.ingestId);
      expect(intent).toMatchObject({
        phase: "switched",
        owner: winner,
        newOutputs: ["/wh/gen.csv.g1.parquet"],
        oldOutputs: old,
        manifestPath: "/m/r.jsonl",
      });
      // A take-over (recovery of a cut-off reprocess) changes the owner once.
      expect(await s.reprocessTouch(f.ingestId, winner, "recovery")).toBe(true);
      expect(await s.reprocessTouch(f.ingestId, winner, "again")).toBe(false);
      await s.reprocessEnd(f.ingestId, "recovery");
      expect((await s.reprocessIntents()).filter((i) => i.ingestId === f.ingestId)).toEqual([]);
      // The compare-and-set: a switch from the generation it no longer has changes nothing.
      expect(await s.reprocessBegin(f.ingestId, 1, "c")).toEqual({ kind: "started" });
      expect(await s.reprocessSwitch(f.ingestId, "c", 0, PROCESSED, [], "/m/r.jsonl")).toBe("lost");
      expect((await s.get(f.ingestId))?.generation).toBe(1);
      expect(await s.reprocessSwitch(f.ingestId, "c", 1, PROCESSED, [], "/m/r.jsonl")).toBe("switched");
      expect((await s.history(f.ingestId)).map((e) => e.generation)).toEqual([0, 1, 2]);
      await s.reprocessEnd(f.ingestId, "c");
    });

    it("moves a content claim on rehash: new bytes, bytes already stored elsewhere, bytes in flight", async () => {
      const stored = file("stored-elsewhere.csv");
      await storeAll(s, stored, "elsewhere");
      const f = file("growing.csv");
      await s.decide(f, sha("v1"), place(f.name, "v1"));
      const at = { ingestedAt: "2026-11-24T10:00:01.000Z", manifestPath: "/m/y.jsonl" };
      expect(await s.rehash(f.ingestId, sha("v2"), { size: 2, mtimeMs: 2 }, at)).toBe("new");
      expect((await s.get(f.ingestId))?.sha256).toBe(sha("v2"));
      // v1 is free again: another file may claim it.
      const g = file("v1-again.csv");
      expect((await s.decide(g, sha("v1"), place(g.name, "v1"))).kind).toBe("new");
      expect(await s.rehash(f.ingestId, sha("v1"), { size: 3, mtimeMs: 3 }, at)).toBe("wait");
      expect(await s.rehash(f.ingestId, sha("elsewhere"), { size: 4, mtimeMs: 4 }, at)).toBe("duplicate");
      expect((await s.get(f.ingestId))?.duplicateOf).toBe(stored.ingestId);
    });

    it("forgets an unstored row with its claim; quarantine gives the claim and the name back", async () => {
      const f = file("forget-me.csv");
      await s.decide(f, sha("forget"), place(f.name, "forget"));
      await s.forget(f.ingestId);
      expect(await s.get(f.ingestId)).toBeUndefined();
      const g = file("q.csv");
      expect((await s.decide(g, sha("forget"), place(g.name, "forget"))).kind).toBe("new");
      await s.beginQuarantine(g.ingestId, { code: "SLUICE_ERR_PARSE", message: "bad", attempts: 2 }, "/errors/q.csv");
      await s.finishFailed(g.ingestId);
      expect(await s.get(g.ingestId)).toMatchObject({
        state: "failed",
        errorCode: "SLUICE_ERR_PARSE",
        errorMessage: "bad",
        attempts: 2,
        errorPath: "/errors/q.csv",
        warehousePath: null,
      });
      expect(await s.isReserved("/wh/ingest_date=2026-11-24/q.csv")).toBe(false);
      const h = file("h.csv");
      expect((await s.decide(h, sha("forget"), place(h.name, "forget"))).kind).toBe("new");
    });

    it("records an archive member once per position", async () => {
      const archive = newIngestId();
      const m = file("inner.csv", { archiveIngestId: archive, memberPath: "dir/inner.csv", memberIndex: 3 });
      await s.recordDiscovered(m);
      expect((await s.member(archive, 3))?.ingestId).toBe(m.ingestId);
      expect(await s.member(archive, 4)).toBeUndefined();
      const again = file("inner.csv", { archiveIngestId: archive, memberPath: "dir/inner.csv", memberIndex: 3 });
      // The unique (archive, position) key keeps the first row: a replay under a new id records nothing.
      await s.recordDiscovered(again);
      expect((await s.member(archive, 3))?.ingestId).toBe(m.ingestId);
      expect(await s.get(again.ingestId)).toBeUndefined();
    });

    it("lists newest first with filters and keyset pages, and counts by state", async () => {
      const done = file("LIST-Ärger.csv");
      await storeAll(s, done, "list-1");
      const partial = file("list-partial.sql");
      const p = place(partial.name, "list-2");
      await s.decide(partial, sha("list-2"), p);
      await s.markStored(partial.ingestId, p.ingestedAt, p.manifestPath, PARTIAL);
      await s.finish(partial.ingestId, "done");
      const processed = file("list-processed.csv");
      const p3 = place(processed.name, "list-3");
      await s.decide(processed, sha("list-3"), p3);
      await s.markStored(processed.ingestId, p3.ingestedAt, p3.manifestPath, PROCESSED);
      await s.finish(processed.ingestId, "done");

      const all = await s.listFiles({ limit: 1000 });
      const keys = all.map((r) => [r.discoveredAt, r.ingestId].join(" "));
      expect([...keys].sort().reverse()).toEqual(keys);
      expect((await s.listFiles({ nameContains: "ärger", limit: 10 })).map((r) => r.ingestId)).toEqual([done.ingestId]);
      const partials = await s.listFiles({ states: ["done"], doneAs: "partial", limit: 100 });
      expect(partials.map((r) => r.ingestId)).toEqual([partial.ingestId]);
      const processedRows = await s.listFiles({ states: ["done"], doneAs: "processed", limit: 100 });
      expect(processedRows.map((r) => r.ingestId)).toContain(processed.ingestId);
      expect(processedRows.map((r) => r.ingestId)).toContain(done.ingestId);
      expect(processedRows.map((r) => r.ingestId)).not.toContain(partial.ingestId);
      // Keyset pages of 3 walk the whole list without gaps or repeats.
      const walked: string[] = [];
      let after: { discoveredAt: string; ingestId: string } | undefined;
      for (;;) {
        const page = await s.listFiles({ limit: 3, ...(after ? { after } : {}) });
        walked.push(...page.map((r) => r.ingestId));
        const last = page.at(-1);
        if (page.length < 3 || !last) break;
        after = { discoveredAt: last.discoveredAt, ingestId: last.ingestId };
      }
      expect(walked).toEqual(all.map((r) => r.ingestId));
      expect(await s.listFiles({ states: [], limit: 10 })).toEqual([]);

      const counts = await s.countByState();
      const byState = (st: string) => all.filter((r) => r.state === st).length;
      for (const st of ["done", "duplicate", "failed", "hashed", "stored", "discovered"]) {
        expect(counts[st] ?? 0, st).toBe(byState(st));
      }
      const active = await s.activeRecords();
      expect(active.map((r) => r.ingestId).sort()).toEqual(
        all
          .filter((r) => !["done", "duplicate", "failed"].includes(r.state))
          .map((r) => r.ingestId)
          .sort(),
      );
    });
  });
}

// Prune (issue 21) on a store of its own per dialect: it deletes rows the cases above count.
for (const make of [sqliteDialect, postgresDialect]) {
  const dialect = make();
  describe(`state store contract, prune: ${dialect.name}`, () => {
    afterAll(() => dialect.cleanup());
    pruneContract(() => dialect.open());
  });
}

describe("PostgreSQL: several nodes on one database", () => {
  const dialect = postgresDialect();
  afterAll(() => dialect.cleanup());

  it("lets only one node win the same bytes, and each node recovers only its own rows", async () => {
    const a = await dialect.open("node-a");
    const b = await dialect.open("node-b");
    const fa = file("from-a.csv");
    const fb = file("from-b.csv");
    const [da, db] = await Promise.all([
      a.decide(fa, sha("shared"), place(fa.name, "shared")),
      b.decide(fb, sha("shared"), place(fb.name, "shared")),
    ]);
    expect([da.kind, db.kind].sort()).toEqual(["new", "wait"]);
    expect((await a.activeRecords()).map((r) => r.ingestId)).toEqual([fa.ingestId]);
    expect((await b.activeRecords()).map((r) => r.ingestId)).toEqual([fb.ingestId]);
    // The API on any node sees every node's files.
    expect((await b.get(fa.ingestId))?.name).toBe("from-a.csv");
  });

  it("gives a staging name to one live node at a time, and to another once the holder's lease ran out", async () => {
    const db = await createTestDatabase();
    const open = (node: string) => PostgresStateStore.open(db.url, { node, leaseSeconds: 1 });
    const [a, b] = await Promise.all([open("lease-a"), open("lease-b")]);
    try {
      await Promise.all([a.leases.join(), b.leases.join()]);
      const wins = await Promise.all([a.leases.claimSource("x.csv"), b.leases.claimSource("x.csv")]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      const [holder, other] = wins[0] ? [a, b] : [b, a];
      expect(await holder.leases.claimSource("x.csv")).toBe(true); // already ours
      await holder.leases.heartbeat();
      expect(await other.leases.claimSource("x.csv")).toBe(false);
      await new Promise((r) => setTimeout(r, 1300)); // the holder stops heartbeating: its lease runs out
      expect(await other.leases.claimSource("x.csv")).toBe(true);
      expect(await holder.leases.claimSource("x.csv")).toBe(false);
      await other.leases.releaseSource("x.csv");
      expect(await holder.leases.claimSource("x.csv")).toBe(true);
      await holder.leases.leave();
      expect(await other.leases.claimSource("x.csv")).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await db.drop();
    }
  });

  it("claims the names asked for at once together: one node each, a name asked twice answered alike, busy ones let go", async () => {
    const db = await createTestDatabase();
    const open = (node: string) => PostgresStateStore.open(db.url, { node, leaseSeconds: 30 });
    const [a, b] = await Promise.all([open("batch-a"), open("batch-b")]);
    const held = async () => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        return (
          await c.query<{ owner: string; n: number }>(
            "SELECT owner, count(*)::int AS n FROM claims GROUP BY owner ORDER BY owner",
          )
        ).rows;
      } finally {
        await c.end();
      }
    };
    try {
      await Promise.all([a.leases.join(), b.leases.join()]);
      // A file of this name is still being finished (by b): no node may start it again.
      const busy = file("busy.csv");
      await b.decide(busy, sha("busy"), place(busy.name, "busy"));
      const names = Array.from({ length: 60 }, (_, i) => `batch-${i}.csv`);
      const asked = [...names, ...names.slice(0, 10), busy.name];
      // Each node's claims of one turn go out as one batch (a with takeOver, b without: both rules in play).
      const [wa, wb] = await Promise.all([
        Promise.all(asked.map((n) => a.leases.claimSource(n))),
        Promise.all(asked.map((n, i) => b.leases.claimSource(n, i % 2 === 0))),
      ]);
      names.forEach((n, i) => {
        expect([wa[i], wb[i]].filter(Boolean), n).toHaveLength(1);
      });
      for (let i = 0; i < 10; i++) {
        expect(wa[names.length + i]).toBe(wa[i]);
        expect(wb[names.length + i]).toBe(wb[i]);
      }
      expect([wa.at(-1), wb.at(-1)]).toEqual([false, false]);
      const aWon = names.filter((_, i) => wa[i]);
      expect(await held()).toEqual(
        [
          { owner: "batch-a", n: aWon.length },
          { owner: "batch-b", n: names.length - aWon.length },
        ].filter((r) => r.n > 0),
      );
      // Released together (a name released twice is no error); the peer's claims stay.
      await Promise.all([...aWon, ...aWon.slice(0, 3)].map((n) => a.leases.releaseSource(n)));
      expect(await held()).toEqual(
        names.length > aWon.length ? [{ owner: "batch-b", n: names.length - aWon.length }] : [],
      );
      // What a held before is free for it again, what b holds is still b's.
      const again = await Promise.all(names.map((n) => a.leases.claimSource(n, false)));
      expect(names.filter((_, i) => again[i])).toEqual(aWon);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await db.drop();
    }
  });

  it("hands a silent node's unfinished files to exactly one adopter, and fences the old owner out", async () => {
    const db = await createTestDatabase();
    const open = (node: string) => PostgresStateStore.open(db.url, { node, leaseSeconds: 1 });
    const [dead, x, y] = await Promise.all([open("dead"), open("adopter-x"), open("adopter-y")]);
    try {
      await Promise.all([dead, x, y].map((st) => st.leases.join()));
      const files = Array.from({ length: 30 }, (_, i) => file(`orphan-${i}.csv`));
      for (const f of files) await dead.decide(f, sha(`orphan-${f.name}`), place(f.name, `orphan-${f.name}`));
      // Alive: nothing to adopt.
      expect(await x.leases.adoptOrphans(100)).toEqual([]);
      await new Promise((r) => setTimeout(r, 1300));
      await Promise.all([x.leases.heartbeat(), y.leases.heartbeat()]);
      const [gotX, gotY] = await Promise.all([x.leases.adoptOrphans(100), y.leases.adoptOrphans(100)]);
      const adopted = [...gotX, ...gotY].map((r) => r.ingestId).sort();
      expect(adopted).toEqual(files.map((f) => f.ingestId).sort());
      expect(new Set(adopted).size).toBe(30);
      expect((await x.activeRecords()).length + (await y.activeRecords()).length).toBe(30);
      // The presumed-dead node wakes up: its writes to an adopted file are refused, not merged.
      const lost = files[0]!;
      await expect(dead.markStored(lost.ingestId, "2026-11-24T10:00:00.000Z", "/m/z.jsonl")).rejects.toThrow(
        /no longer owned/,
      );
      expect((await x.get(lost.ingestId))?.state).toBe("hashed");
    } finally {
      await Promise.all([dead, x, y].map((st) => st.close()));
      await db.drop();
    }
  });

  it("a node whose process died (its lock gone) is adopted and its names freed at once, before its lease", async () => {
    const db = await createTestDatabase();
    // A lease far longer than the test: only the lock can say the node is dead.
    const open = (node: string) => PostgresStateStore.open(db.url, { node, leaseSeconds: 600 });
    const [dead, live] = await Promise.all([open("crashed"), open("peer")]);
    try {
      await Promise.all([dead.leases.join(), live.leases.join()]);
      const files = Array.from({ length: 5 }, (_, i) => file(`in-flight-${i}.csv`));
      for (const f of files) await dead.decide(f, sha(`crash-${f.name}`), place(f.name, `crash-${f.name}`));
      expect(await dead.leases.claimSource("busy.csv")).toBe(true);
      expect(await live.leases.adoptOrphans(100)).toEqual([]);
      expect(await live.leases.claimSource("busy.csv")).toBe(false);
      // The process dies: the server ends its session and the lock with it. Its heartbeat is still fresh.
      await dead.leases.closeLock();
      const adopted = await live.leases.adoptOrphans(100);
      expect(adopted.map((r) => r.ingestId).sort()).toEqual(files.map((f) => f.ingestId).sort());
      expect(await live.leases.claimSource("busy.csv")).toBe(true);
    } finally {
      await Promise.all([dead.close(), live.close()]);
      await db.drop();
    }
  });

  it("a restarted process takes its node id over at once; a second live process under it is refused", async () => {
    const db = await createTestDatabase();
    const open = (node: string) => PostgresStateStore.open(db.url, { node, leaseSeconds: 600 });
    const first = await open("n0");
    const second = await open("n0");
    const third = await open("n0");
    try {
      await first.leases.join();
      const started = Date.now();
      await expect(second.leases.join()).rejects.toThrow(/in use by another running process/);
      // Refused within seconds, not after a lease of 600 s.
      expect(Date.now() - started).toBeLessThan(10_000);
      await first.leases.closeLock(); // the first process dies
      const t0 = Date.now();
      await third.leases.join();
      expect(Date.now() - t0).toBeLessThan(2_000);
      // The dead process cannot come back under the id: its heartbeat is refused.
      await expect(first.leases.heartbeat()).rejects.toThrow(/taken over/);
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
      await db.drop();
    }
  });

  it("applies migrations once under a lock when nodes start together, and refuses a newer schema", async () => {
    const db = await createTestDatabase();
    try {
      const stores = await Promise.all(["n1", "n2", "n3"].map((node) => PostgresStateStore.open(db.url, { node })));
      await Promise.all(stores.map((st) => st.close()));
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows } = await c.query("SELECT version FROM schema_migrations ORDER BY version");
        // Every migration once, up to this build's version (other features add theirs: no list to keep in step).
        expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        expect(rows.at(-1)?.version).toBe(SCHEMA_VERSION);
        await c.query("INSERT INTO schema_migrations VALUES (99, 'from-the-future', 'now')");
      } finally {
        await c.end();
      }
      await expect(PostgresStateStore.open(db.url, { node: "old" })).rejects.toBeInstanceOf(SchemaTooNewError);
    } finally {
      await db.drop();
    }
  });
});
