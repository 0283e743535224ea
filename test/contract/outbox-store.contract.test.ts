import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngestId } from "../../src/core/ids.js";
import { PostgresStateStore } from "../../src/store/postgres/postgres-store.js";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import type { NewFile, StateStore } from "../../src/store/state-store.js";
import { PROCESSED } from "../api/read-fixture.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

/**
 * The notification outbox as a store capability, on both dialects (the same calls, the same answers): events
 * written in the transaction of the terminal state they report, deterministic ids, none without targets, none
 * twice; claim, settle and the backlog the worker and /readyz read.
 */

const A = "http://receiver.test/hook";
const B = "nats://127.0.0.1:4222/sluice.events";
const STAMP = { targets: [A, B], source: "sluice://node-a" };
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
let seq = 0;
const file = (name: string): NewFile => ({
  ingestId: newIngestId(),
  sourcePath: `/staging/${name}`,
  name,
  device: 2049,
  inode: 7_000_000_000 + seq++,
  size: 321,
  mtimeMs: 1_795_000_000_000,
  sidecarPath: null,
});

async function stored(s: StateStore, name: string, content = name, processing = false) {
  const f = file(name);
  const d = await s.decide(f, sha(content), {
    partitionDir: "/wh/ingest_date=2026-11-24",
    baseName: name,
    collisionName: `${sha(content).slice(0, 8)}.${name}`,
    ingestedAt: "2026-11-24T10:00:00.000Z",
    manifestPath: "/m/2026/11/24/10/manifest.jsonl",
  });
  if (d.kind === "new") {
    await s.markStored(f.ingestId, "2026-11-24T10:00:00.000Z", "/m/x.jsonl", processing ? PROCESSED : undefined);
    await s.markManifested(f.ingestId);
  }
  return { f, d };
}

interface Dialect {
  name: string;
  open(node?: string): Promise<StateStore>;
  /** Makes every outbox insert for `ingestId` fail inside the database (a trigger): the state change must fail too. */
  failOutboxInsert(ingestId: string): Promise<void>;
  cleanup(): Promise<void>;
}

function sqlite(): Dialect {
  const dir = mkdtempSync(join(tmpdir(), "sluice-outbox-"));
  const path = join(dir, "state.db");
  const opened: StateStore[] = [];
  return {
    name: "sqlite",
    async open() {
      const s = new SqliteStateStore(path, { writerThread: false });
      opened.push(s);
      return s;
    },
    async failOutboxInsert(id) {
      const db = new Database(path);
      db.exec(`CREATE TRIGGER fail_${seq++} BEFORE INSERT ON outbox WHEN NEW.ingest_id = '${id}'
        BEGIN SELECT RAISE(ABORT, 'outbox insert refused by the test'); END`);
      db.close();
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgres(): Dialect & { url(): string } {
  let db: TestDatabase | null = null;
  const opened: StateStore[] = [];
  return {
    name: "postgres",
    url: () => db?.url ?? "",
    async open(node = "node-a") {
      db ??= await createTestDatabase();
      const s = await PostgresStateStore.open(db.url, { node });
      opened.push(s);
      return s;
    },
    async failOutboxInsert(id) {
      const c = new pg.Client({ connectionString: db?.url });
      await c.connect();
      await c.query(`CREATE OR REPLACE FUNCTION refuse_outbox() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'outbox insert refused by the test'; END $$ LANGUAGE plpgsql`);
      await c.query(`CREATE TRIGGER fail_${seq++} BEFORE INSERT ON outbox FOR EACH ROW
        WHEN (NEW.ingest_id = '${id}') EXECUTE FUNCTION refuse_outbox()`);
      await c.end();
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => {});
      await db?.drop();
    },
  };
}

const rowsOf = async (s: StateStore, targets = [A, B]) =>
  s.claimOutbox({ owner: "node-a", targets, limit: 1000, leaseMs: 60_000 });

for (const make of [sqlite, postgres]) {
  const dialect = make();
  describe(`outbox contract: ${dialect.name}`, () => {
    let s: StateStore;
    beforeAll(async () => {
      s = await dialect.open();
    });
    afterAll(() => dialect.cleanup());

    it("writes nothing while no target is configured", async () => {
      s.notifyTo(null);
      const { f } = await stored(s, "quiet.csv");
      await s.finish(f.ingestId, "done");
      expect(await s.outboxBacklog()).toEqual([]);
      s.notifyTo({ targets: [], source: "x" });
      const { f: g } = await stored(s, "quiet2.csv");
      await s.finish(g.ingestId, "done");
      expect(await s.outboxBacklog()).toEqual([]);
    });

    it("writes one row per (event, target) with the terminal state: deterministic ids, the row's snapshot", async () => {
      s.notifyTo(STAMP);
      const { f: done } = await stored(s, "sensors.csv", "sensors", true);
      const { f: dup } = await stored(s, "copy.csv", "sensors");
      const { f: bad } = await stored(s, "bad.csv", "bad");
      await s.finish(done.ingestId, "done");
      await s.finish(dup.ingestId, "duplicate");
      await s.beginQuarantine(
        bad.ingestId,
        { code: "SLUICE_ERR_PARSE", message: "bad row", attempts: 1 },
        "/e/bad.csv",
      );
      await s.finishFailed(bad.ingestId);
      const rows = await rowsOf(s);
      const ids = rows.map((r) => `${r.eventId} ${r.target}`).sort();
      const want = [
        `${done.ingestId}:ingested`,
        `${done.ingestId}:processed`,
        `${dup.ingestId}:duplicate`,
        `${bad.ingestId}:failed`,
      ].flatMap((id) => [`${id} ${A}`, `${id} ${B}`]);
      expect(ids).toEqual(want.sort());
      const ev = JSON.parse(
        rows.find((r) => r.eventId === `${done.ingestId}:processed` && r.target === A)?.payload ?? "",
      );
      expect(ev).toMatchObject({
        specversion: "1.0",
        id: `${done.ingestId}:processed`,
        source: "sluice://node-a",
        type: "sluice.file.processed",
        subject: "sensors.csv",
        datacontenttype: "application/json",
        data: {
          ingest_id: done.ingestId,
          state: "done",
          sha256: sha("sensors"),
          size: 321,
          warehouse_path: "/wh/ingest_date=2026-11-24/sensors.csv",
          manifest_path: "/m/x.jsonl",
          processing: { processor: "tabular", status: "processed", outputs: [{ kind: "parquet", rows: 3 }] },
        },
      });
      expect(Date.parse(ev.time)).toBeGreaterThan(Date.now() - 60_000);
      const failed = JSON.parse(rows.find((r) => r.eventId === `${bad.ingestId}:failed`)?.payload ?? "");
      expect(failed.data).toMatchObject({ state: "failed", error: { code: "SLUICE_ERR_PARSE", message: "bad row" } });
      const dupEv = JSON.parse(rows.find((r) => r.eventId === `${dup.ingestId}:duplicate`)?.payload ?? "");
      expect(dupEv.data.duplicate_of).toBe(done.ingestId);
      await s.settleOutbox(
        rows.map((r) => ({ eventId: r.eventId, target: r.target })),
        [],
      );
      expect(await s.outboxBacklog()).toEqual([]);
    });

    it("a repeated finish and a replayed batch write no second row", async () => {
      s.notifyTo(STAMP);
      const { f: a } = await stored(s, "replay-a.csv");
      const { f: b } = await stored(s, "replay-b.csv");
      await dialect.failOutboxInsert(b.ingestId);
      // One batch (same tick): b's event insert fails, so the batch is replayed op by op; a lands once.
      const [ra, rb] = await Promise.allSettled([s.finish(a.ingestId, "done"), s.finish(b.ingestId, "done")]);
      expect(ra.status).toBe("fulfilled");
      expect(rb.status).toBe("rejected");
      // The same transaction: b's state did not move without its event.
      expect((await s.get(b.ingestId))?.state).toBe("manifested");
      expect((await s.get(a.ingestId))?.state).toBe("done");
      await s.finish(a.ingestId, "done"); // a repeated finish (recovery) adds nothing
      const rows = (await rowsOf(s)).filter((r) => r.ingestId === a.ingestId || r.ingestId === b.ingestId);
      expect(rows.map((r) => `${r.eventId} ${r.target}`).sort()).toEqual(
        [`${a.ingestId}:ingested ${A}`, `${a.ingestId}:ingested ${B}`].sort(),
      );
      await s.settleOutbox(rows, []);
    });

    it("reschedules a failed delivery, leaves targets not configured alone, and reports the backlog per target", async () => {
      s.notifyTo(STAMP);
      const { f } = await stored(s, "retry.csv");
      await s.finish(f.ingestId, "done");
      const onlyA = await rowsOf(s, [A]);
      expect(onlyA.map((r) => r.target)).toEqual([A]);
      await s.settleOutbox(
        [],
        [{ eventId: `${f.ingestId}:ingested`, target: A, attempts: 1, delayMs: 60_000, error: "HTTP 500" }],
      );
      expect(await rowsOf(s, [A])).toEqual([]); // not due for a minute
      const backlog = await s.outboxBacklog();
      expect(backlog.map((b) => [b.target, b.pending])).toEqual([
        [A, 1],
        [B, 1],
      ]);
      expect(Date.parse(backlog[0]?.oldestAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
      await s.settleOutbox([{ eventId: `${f.ingestId}:ingested`, target: A }], []);
      await s.settleOutbox(await rowsOf(s, [B]), []);
      expect(await s.outboxBacklog()).toEqual([]);
    });
  });
}

describe("outbox on PostgreSQL: several nodes", () => {
  const d = postgres();
  afterAll(() => d.cleanup());

  it("leases each due row to one node at a time; an expired lease lets another node deliver it", async () => {
    const a = await d.open("node-a");
    const b = await d.open("node-b");
    a.notifyTo({ targets: [A], source: "sluice://node-a" });
    const files = await Promise.all(Array.from({ length: 40 }, (_, i) => stored(a, `n${i}.csv`)));
    await Promise.all(files.map(({ f }) => a.finish(f.ingestId, "done")));
    const q = (owner: string, leaseMs = 60_000) => ({ owner, targets: [A], limit: 25, leaseMs });
    const [ca, cb] = await Promise.all([a.claimOutbox(q("node-a")), b.claimOutbox(q("node-b"))]);
    const ida = new Set(ca.map((r) => r.eventId));
    expect(ca.length + cb.length).toBe(40);
    expect(cb.filter((r) => ida.has(r.eventId))).toEqual([]);
    // Both leased: nothing more for anybody.
    expect(await b.claimOutbox(q("node-b"))).toEqual([]);
    // node-b's rows: it dies (its lease runs out) and node-a takes them.
    await b.close();
    const c = new pg.Client({ connectionString: d.url() });
    await c.connect();
    await c.query("UPDATE outbox SET lease_until = 0 WHERE lease_owner = 'node-b'");
    await c.end();
    const taken = await a.claimOutbox({ ...q("node-a"), limit: 100 });
    expect(taken.map((r) => r.eventId).sort()).toEqual(cb.map((r) => r.eventId).sort());
    // A reschedule is fenced by the lease: node-b's late bookkeeping cannot undo node-a's lease.
    const b2 = await d.open("node-b");
    await b2.settleOutbox(
      [],
      [{ eventId: taken[0]?.eventId ?? "", target: A, attempts: 1, delayMs: 60_000, error: "x" }],
    );
    const again = await a.claimOutbox({ ...q("node-a"), limit: 100, leaseMs: 0 });
    expect(again).toEqual([]); // still leased to node-a (not rescheduled by node-b)
    await a.settleOutbox([...ca, ...taken], []);
    expect(await a.outboxBacklog()).toEqual([]);
  });
});
