import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import { type LogEvent, runOnce, SluiceProcess, useRunning } from "../support/cli.js";
import { WebhookReceiver } from "../support/notify-receivers.js";
import { makeSandbox, type Sandbox } from "../support/sandbox.js";

/**
 * Webhook notifications end to end: the real CLI, a real HTTP receiver that verifies the signature itself.
 */

const SECRET = "test-secret-for-notify-webhook";
const sandboxes: Sandbox[] = [];
const receivers: WebhookReceiver[] = [];
const running = useRunning();
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
  for (const s of sandboxes.splice(0)) s.cleanup();
});

function sandbox(): Sandbox {
  const s = makeSandbox();
  sandboxes.push(s);
  mkdirSync(s.input, { recursive: true });
  return s;
}

async function receiver(secret: string | null = SECRET): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver(secret).start();
  receivers.push(r);
  return r;
}

const FAST = ["--stability-seconds", "0.05", "--scan-interval", "0.3", "--metrics-interval", "0"];

/** The event ids the state says must exist: one per terminal file, plus `processed` for done files with outputs. */
async function expectedIds(s: Sandbox): Promise<Set<string>> {
  const store = new SqliteStateStore(s.statePath, { writerThread: false });
  try {
    const ids = new Set<string>();
    for (const f of await store.listFiles({ limit: 10_000 })) {
      const kind = { done: "ingested", duplicate: "duplicate", failed: "failed" }[f.state as string];
      if (!kind) throw new Error(`file ${f.name} not finished: ${f.state}`);
      ids.add(`${f.ingestId}:${kind}`);
      if (f.state === "done" && (f.processing?.outputs.length ?? 0) > 0) ids.add(`${f.ingestId}:processed`);
    }
    return ids;
  } finally {
    await store.close();
  }
}

const named = (events: LogEvent[], name: string) => events.filter((e) => e.event === name);

describe("webhook notifications", () => {
  it("posts signed CloudEvents for every finished file; a 500 is retried until a 2xx", async () => {
    const s = sandbox();
    const r = await receiver();
    r.answer = (_id, nth) => ({ status: nth === 1 ? 500 : 204 });
    for (let i = 0; i < 6; i++) writeFileSync(join(s.input, `t${i}.csv`), `id,v\n${i},${i * 7}\n`);
    writeFileSync(join(s.input, "copy.csv"), "id,v\n0,0\n"); // the content of t0.csv: a duplicate
    writeFileSync(join(s.input, "bad-1.bin"), "will fail");
    const p = new SluiceProcess(["run", ...s.args, ...FAST, "--notify", r.url, "--notify-retry-max", "2s"], {
      env: { SLUICE_NOTIFY_SECRET: SECRET, SLUICE_FAULT_AT: "decide:bad-*" },
    });
    running.push(p);
    await p.waitFor((ev) => named(ev, "file_ingested").length + named(ev, "file_duplicate").length === 7, 60_000);
    await p.waitForCount("file_failed", 1, 60_000);
    const want = await expectedIds(s);
    expect(want.size).toBe(6 + 6 + 1 + 1); // ingested + processed (CSV → Parquet) + duplicate + failed
    await r.waitFor(() => r.deliveredIds().size === want.size, 60_000, "every event delivered");
    expect([...r.deliveredIds()].sort()).toEqual([...want].sort());
    // Each event was refused once (500), then delivered; every request was signed and verified.
    for (const id of want) expect(r.received.filter((x) => x.id === id).map((x) => x.status)).toEqual([500, 204]);
    expect(r.received.every((x) => x.signed === true)).toBe(true);
    const failed = r.received.find((x) => x.type === "sluice.file.failed");
    expect(failed?.event.data).toMatchObject({ name: "bad-1.bin", state: "failed" });
    expect((failed?.event.data.error as { code?: string } | undefined)?.code).toBe("SLUICE_ERR_INTERNAL");
    const ingested = named(p.events, "file_ingested");
    for (const e of ingested) {
      const ev = r.received.find((x) => x.id === `${e.ingest_id}:ingested`)?.event;
      expect(ev).toMatchObject({ specversion: "1.0", subject: e.name, data: { sha256: e.sha256, state: "done" } });
    }
    // A line when the target goes down and one when it is back, not one per failed attempt (14 failed here; the
    // files finish over a round or two, each round's first attempts failing together).
    const downs = named(p.events, "notify_target_down").length;
    expect(downs).toBeGreaterThanOrEqual(1);
    expect(downs).toBeLessThanOrEqual(3);
    expect(named(p.events, "notify_target_up").length).toBe(downs);
    const res = await p.stop();
    expect(res.code).toBe(0);
  });

  it("a receiver down for a while gets every event once it is up, within the capped backoff", async () => {
    const s = sandbox();
    const r = await receiver();
    await r.stop(); // the port is known; nothing listens on it
    const p = new SluiceProcess(["run", ...s.args, ...FAST, "--notify", r.url, "--notify-retry-max", "2s"], {
      env: { SLUICE_NOTIFY_SECRET: SECRET },
    });
    running.push(p);
    for (let i = 0; i < 20; i++) writeFileSync(join(s.input, `d${i}.txt`), `down ${i}`);
    await p.waitForCount("file_ingested", 20, 60_000);
    await p.waitForCount("notify_target_down", 1, 30_000);
    // Down for a while: several rounds of retries fail (the backoff grows to its 2 s cap).
    await new Promise((res) => setTimeout(res, 4_000));
    expect(r.received.length).toBe(0);
    const upAt = Date.now();
    await r.start();
    await r.waitFor(() => r.deliveredIds().size === 20, 30_000, "20 events after the receiver came back");
    // Capped: every event came within the cap (2 s) plus a round or two of the poll after the receiver was up.
    const last = Math.max(...r.received.map((x) => x.at));
    expect(last - upAt).toBeLessThan(2_000 + 3_000);
    expect(named(p.events, "notify_target_down").length).toBe(1);
    await p.waitForCount("notify_target_up", 1, 10_000);
    expect((await p.stop()).code).toBe(0);
  });

  it("a slow receiver does not slow ingestion (compared with no target)", async () => {
    const n = 150;
    const timed = async (notify: string[]) => {
      const s = sandbox();
      for (let i = 0; i < n; i++) writeFileSync(join(s.input, `s${i}.txt`), `slow ${i} ${notify.length}`);
      const res = await runOnce([...s.args, ...FAST, ...notify], { timeoutMs: 120_000 });
      expect(res.code).toBe(0);
      const ready = Date.parse(String(res.events.find((e) => e.event === "sluice_ready")?.time));
      const done = res.events.filter((e) => e.event === "file_ingested");
      expect(done.length).toBe(n);
      return Math.max(...done.map((e) => Date.parse(String(e.time)))) - ready;
    };
    const baseline = await timed([]);
    const r = await receiver(null);
    r.answer = () => ({ status: 204, delayMs: 3_000 });
    const slow = await timed(["--notify", r.url]);
    console.log(`ingestion of ${n} files: ${baseline} ms without a target, ${slow} ms with a 3 s receiver`);
    // Generous for a loaded machine, but far below what waiting on the receiver would cost (150 × 3 s / 16).
    expect(slow).toBeLessThan(Math.max(2 * baseline, baseline + 2_500));
  });
});
