import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SluiceProcess } from "../support/cli.js";
import { eventTime, sleep, useSandboxes } from "../support/fixtures.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import type { Sandbox } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * How fast a cluster on one PostgreSQL state gets back to work when a node dies, measured on real processes:
 * each node holds a session advisory lock that the server drops the moment the process dies, so neither a
 * restarted node nor a peer waits out the heartbeat lease. A frozen node (SIGSTOP: alive to the server, silent to
 * its peers, as in a partition) still holds its lock, and is waited for until its lease runs out.
 */

const LEASE = 6;
const sandbox = useSandboxes();
const running: SluiceProcess[] = [];
let db: TestDatabase;

beforeAll(async () => {
  if (!missing("postgres")) db = await createTestDatabase("sluice_takeover");
});
afterAll(async () => db?.drop());
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.child.kill("SIGCONT");
    if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
  }
});

function node(s: Sandbox, id: string, env: Record<string, string> = {}): SluiceProcess {
  const p = new SluiceProcess(
    [
      "run",
      ...s.args,
      "--state",
      db.url,
      "--node-id",
      id,
      "--lease-seconds",
      String(LEASE),
      "--stability-seconds",
      "0",
      "--scan-interval",
      "1",
    ],
    { env },
  );
  running.push(p);
  return p;
}

function drop(dir: string, name: string, data: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.part`), data);
  renameSync(join(dir, `.${name}.part`), join(dir, name));
}

async function warm(p: SluiceProcess): Promise<void> {
  await p.waitForCount("cluster_joined", 1, 30_000);
  // A node trusts other nodes' free locks once it has held its own for a lease and a half.
  await sleep(LEASE * 1500 + 500);
}

describe.skipIf(missing("postgres"))("taking over from a dead node", () => {
  it("a SIGKILLed node restarted under its id ingests again at once, and finishes what it left", async () => {
    const s = sandbox();
    const crashed = node(s, "restart-n0", { SLUICE_CRASH_AT: "after-hash" });
    drop(s.input, "left-behind.csv", "a,b\n1,2\n");
    const r = await crashed.exited;
    expect(r.signal).toBe("SIGKILL");
    drop(s.input, "after-restart.csv", "a,b\n3,4\n");
    const restartedAt = Date.now();
    const again = node(s, "restart-n0");
    await again.waitFor(
      (evs) => evs.some((e) => e.event === "file_ingested" && e.name === "after-restart.csv"),
      30_000,
    );
    const firstIngest = eventTime(again.named("file_ingested").find((e) => e.name === "after-restart.csv")!);
    const ms = firstIngest - restartedAt;
    console.log(`[takeover] restart after SIGKILL to first ingest: ${ms} ms (lease ${LEASE} s)`);
    expect(again.named("node_id_waiting")).toEqual([]);
    expect(ms).toBeLessThan(3_000);
    await again.waitFor((evs) => evs.some((e) => e.event === "file_ingested" && e.name === "left-behind.csv"), 30_000);
  });

  it("a peer adopts a dead node's unfinished file within about a second, long before the lease", async () => {
    const s0 = sandbox();
    const s1 = sandbox();
    const peer = node(s1, "adopt-n1");
    await warm(peer);
    const dying = node(s0, "adopt-n0", { SLUICE_CRASH_AT: "after-hash" });
    drop(s0.input, "orphan.csv", "a,b\n5,6\n");
    const r = await dying.exited;
    expect(r.signal).toBe("SIGKILL");
    const diedAt = Date.now();
    await peer.waitFor((evs) => evs.some((e) => e.event === "file_ingested" && e.name === "orphan.csv"), 30_000);
    const adopted = peer.named("files_adopted")[0];
    expect(adopted).toBeDefined();
    const ms = eventTime(adopted!) - diedAt;
    console.log(`[takeover] death to adoption by a peer: ${ms} ms (lease ${LEASE} s)`);
    expect(ms).toBeLessThan(2_500);
  });

  it("a frozen node (alive to the server, silent to its peers: a partition) is waited for until its lease ran out", async () => {
    const s0 = sandbox();
    const s1 = sandbox();
    const peer = node(s1, "freeze-n1");
    await warm(peer);
    // n0 claims the staging name x.csv and holds it (paused before it opens the file)...
    const frozen = node(s0, "freeze-n0", { SLUICE_PAUSE_AT: "before-open", SLUICE_PAUSE_MS: "600000" });
    drop(s0.input, "x.csv", "from n0\n");
    await frozen.waitFor(() => frozen.stderr.includes("SLUICE_PAUSE_AT=before-open reached"), 30_000);
    // ...then freezes: its lock's session stays open on the server, its heartbeats stop.
    frozen.child.kill("SIGSTOP");
    const frozenAt = Date.now();
    drop(s1.input, "x.csv", "from n1, same staging name\n");
    await peer.waitFor((evs) => evs.some((e) => e.event === "file_ingested" && e.name === "x.csv"), 60_000);
    const ms = eventTime(peer.named("file_ingested").find((e) => e.name === "x.csv")!) - frozenAt;
    console.log(`[takeover] frozen node's staging name taken over after ${ms} ms (lease ${LEASE} s)`);
    expect(ms).toBeGreaterThanOrEqual(LEASE * 1000 - 1_000);
  });
});
