import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, expect, it } from "vitest";
import { SluiceProcess, useRunning } from "../support/cli.js";
import { createTestStream, type TestStream, WebhookReceiver } from "../support/notify-receivers.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { makeSandbox, type Sandbox } from "../support/sandbox.js";

/**
 * Three nodes sharing one PostgreSQL state and the same two targets: every event delivered, no event in flight
 * from two nodes at once (the receiver records overlaps), and a node killed in the middle of a round has its
 * leased events delivered by another node once the lease runs out.
 */

const running = useRunning();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function expectedIds(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ ingest_id: string; state: string }>("SELECT ingest_id, state FROM files");
    expect(rows.every((r) => r.state === "done")).toBe(true);
    return rows.map((r) => `${r.ingest_id}:ingested`).sort();
  } finally {
    await c.end();
  }
}

it("three nodes deliver every event, one node at a time; a node killed mid-round is covered by another", async () => {
  const db: TestDatabase = await createTestDatabase("sluice_notify");
  cleanups.push(() => db.drop());
  const s: Sandbox = makeSandbox();
  cleanups.push(() => s.cleanup());
  const r = await new WebhookReceiver().start();
  cleanups.push(() => r.stop());
  // Slow enough that rounds overlap between nodes: a second delivery of an event in flight would be seen.
  r.answer = () => ({ status: 204, delayMs: 150 });
  const js: TestStream = await createTestStream();
  cleanups.push(() => js.cleanup());
  const inputs = ["a", "b", "c"].map((id) => join(s.root, `staging-${id}`));
  for (const d of inputs) mkdirSync(d, { recursive: true });
  const node = (i: number, env: Record<string, string> = {}) => {
    const id = ["node-a", "node-b", "node-c"][i] as string;
    const p = new SluiceProcess(
      [
        "run",
        "--input",
        inputs[i] as string,
        "--warehouse",
        s.warehouse,
        "--manifests",
        s.manifests,
        "--errors",
        s.errors,
        "--state",
        db.url,
        "--node-id",
        id,
        "--lease-seconds",
        "2",
        "--stability-seconds",
        "0.1",
        "--scan-interval",
        "0.5",
        "--metrics-interval",
        "0",
        "--notify",
        r.url,
        "--notify",
        js.url,
        "--notify-timeout",
        "1s",
        "--notify-retry-max",
        "2s",
      ],
      { env },
    );
    running.push(p);
    return p;
  };
  const drop = (i: number, n: number, tag: string) => {
    for (let k = 0; k < n; k++) writeFileSync(join(inputs[i] as string, `${tag}${k}.txt`), `${tag} ${i} ${k}`);
  };

  // Phase 1: three nodes, 25 files each.
  const nodes = [node(0), node(1), node(2)];
  for (let i = 0; i < 3; i++) drop(i, 25, "p1-");
  await until("75 events in both targets", async () => r.deliveredIds().size >= 75 && (await js.count()) >= 75);
  let want = await expectedIds(db.url);
  expect(want.length).toBe(75);
  expect([...r.deliveredIds()].sort()).toEqual(want);
  expect(r.overlapping.size, "an event delivered by two nodes at once").toBe(0);
  for (const p of nodes.slice(0, 2)) expect((await p.stop()).code).toBe(0);

  // Phase 2: node-c alone, killed after its 3rd delivery of the phase (its round leased, not settled).
  await (nodes[2] as SluiceProcess).kill();
  drop(2, 40, "p2-");
  const c2 = node(2, { SLUICE_CRASH_AT: "outbox-after-deliver:3" });
  expect((await c2.exited).signal).toBe("SIGKILL");
  const killedAt = Date.now();
  const q = new pg.Client({ connectionString: db.url });
  await q.connect();
  const leased = (await q.query("SELECT count(*)::int AS n FROM outbox WHERE lease_owner = 'node-c'")).rows[0].n;
  await q.end();
  // The killed round left rows leased to node-c: only another node can deliver them now.
  expect(leased).toBeGreaterThan(0);
  // node-a comes back: it adopts node-c's unfinished files (node lease 2 s) and, once the outbox lease of the
  // killed round ran out (1 s timeout × 4 slots × 2 + 5 s = 13 s), delivers those events too.
  const a = node(0);
  await until(
    "115 events in both targets",
    async () => r.deliveredIds().size >= 115 && (await js.count()) >= 115,
    120_000,
  );
  console.log(`events of the killed node delivered by another ${Date.now() - killedAt} ms after the kill`);
  await new Promise((res) => setTimeout(res, 1_000));
  want = await expectedIds(db.url);
  expect(want.length).toBe(115);
  expect([...r.deliveredIds()].sort()).toEqual(want);
  expect((await js.messages()).map((m) => m.msgId).sort()).toEqual(want);
  expect(r.overlapping.size, "an event delivered by two nodes at once").toBe(0);
  expect((await a.stop()).code).toBe(0);
});
