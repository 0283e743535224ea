import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import { SluiceProcess, useRunning } from "../support/cli.js";
import { createTestStream, type TestStream, WebhookReceiver } from "../support/notify-receivers.js";
import { makeSandbox, type Sandbox } from "../support/sandbox.js";

/**
 * The notification run of issue 21: 2,000 files, 50 SIGKILLs of `sluice run` (restarted each time), a webhook
 * receiver and a JetStream stream. Every file's event reaches the webhook at least once and the stream exactly
 * once; the delivery lag (the event's `time`, its state commit, to its first 2xx receipt) is printed.
 */

const running = useRunning();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

it("2,000 files, 50 SIGKILLs: every event at least once by the webhook, exactly once in the stream", async () => {
  const seed = Number(process.env.SLUICE_TEST_SEED ?? Date.now() % 1_000_000);
  const rand = rng(seed);
  console.log(`notify-run seed=${seed}`);
  const s: Sandbox = makeSandbox();
  cleanups.push(() => s.cleanup());
  mkdirSync(s.input, { recursive: true });
  const r = await new WebhookReceiver().start();
  cleanups.push(() => r.stop());
  const js: TestStream = await createTestStream();
  cleanups.push(() => js.cleanup());
  const N = 2000;
  // Dropped in four waves while the kills go on, so kills land on ingestion and on delivery alike.
  let dropped = 0;
  const drop = (n: number) => {
    for (let i = 0; i < n; i++, dropped++)
      writeFileSync(join(s.input, `n${String(dropped).padStart(4, "0")}.txt`), `event ${dropped}`);
  };
  drop(500);
  const args = [
    "run",
    ...s.args,
    "--stability-seconds",
    "0.05",
    "--scan-interval",
    "0.5",
    "--metrics-interval",
    "0",
    "--notify",
    r.url,
    "--notify",
    js.url,
    "--notify-retry-max",
    "2s",
  ];
  const started = Date.now();
  for (let kill = 0; kill < 50; kill++) {
    if (kill % 12 === 11 && dropped < N) drop(500);
    const p = new SluiceProcess(args);
    running.push(p);
    await p.waitForCount("sluice_ready", 1, 60_000);
    await new Promise((res) => setTimeout(res, 50 + rand() * 500));
    await p.kill();
  }
  if (dropped < N) drop(N - dropped);
  const last = new SluiceProcess(args);
  running.push(last);
  await last.waitForCount("sluice_ready", 1, 60_000);
  await r.waitFor(() => r.deliveredIds().size >= N, 120_000, `${N} webhook events`);
  const deadline = Date.now() + 60_000;
  while ((await js.count()) < N && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
  await new Promise((res) => setTimeout(res, 1_000)); // anything still coming would arrive now
  expect((await last.stop()).code).toBe(0);
  console.log(`notify-run: 50 kills, ${N} files, all delivered ${Date.now() - started} ms after the first start`);

  const store = new SqliteStateStore(s.statePath, { writerThread: false });
  const files = await store.listFiles({ limit: 10_000 });
  expect(await store.outboxBacklog()).toEqual([]);
  await store.close();
  expect(files.length).toBe(N);
  expect(files.every((f) => f.state === "done")).toBe(true);
  const want = files.map((f) => `${f.ingestId}:ingested`).sort();
  expect([...r.deliveredIds()].sort()).toEqual(want);
  const msgs = await js.messages();
  expect(msgs.length, "messages in the stream").toBe(N);
  expect(msgs.map((m) => m.msgId).sort()).toEqual(want);
  // Lag: the state commit (the event's time) to its first successful receipt by the webhook.
  const first = new Map<string, number>();
  for (const x of r.received) if (x.status < 300 && !first.has(x.id)) first.set(x.id, x.at - Date.parse(x.event.time));
  const lags = [...first.values()].sort((a, b) => a - b);
  const repeats = r.received.filter((x) => x.status < 300).length - first.size;
  console.log(
    `notify-run delivery lag over ${lags.length} events: p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms, ` +
      `max ${lags.at(-1)} ms; webhook repeats (at least once) ${repeats}`,
  );
}, 300_000);
