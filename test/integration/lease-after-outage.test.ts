import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStateStore } from "../../src/store/postgres/postgres-store.js";
import { type PgCluster, startPgCluster } from "../support/pg-cluster.js";
import { missing } from "../support/services.js";

/**
 * After a database outage a peer trusts leases again 1.5 leases after it is back itself (ClusterMember), so every
 * live node must have beaten and retaken its lock within that window, whatever the lease: before, retries backed
 * off up to a flat 5 s, and with a 2 s lease a node still waiting out its backoff looked dead to its peers, which
 * adopted its files in flight.
 */

const LEASE_S = 2;
let cluster: PgCluster | undefined;
let store: PostgresStateStore | undefined;
let skip: string | undefined;

beforeAll(async () => {
  skip = missing("postgres-binaries");
  if (skip) return;
  cluster = await startPgCluster();
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query("CREATE DATABASE lease_outage");
  await admin.end();
  store = await PostgresStateStore.open(cluster.url.replace(/\/postgres$/, "/lease_outage"), {
    node: "outage-a",
    leaseSeconds: LEASE_S,
  });
}, 60_000);
afterAll(async () => {
  await store?.close().catch(() => undefined);
  cluster?.destroy();
});

describe("a node's lease after the database comes back", () => {
  it("heartbeats and holds its lock again within a lease and a half, even after a long outage", async (ctx) => {
    if (skip) ctx.skip(skip);
    const s = store as PostgresStateStore;
    const c = cluster as PgCluster;
    await s.leases.join();
    await s.leases.heartbeat();
    c.stop("immediate");
    // A beat falls due during the outage and waits it out, as the node's timer's does.
    await new Promise((r) => setTimeout(r, 300));
    let beatAt = 0;
    const beating = s.leases.heartbeat().then(() => {
      beatAt = Date.now();
    });
    // Long enough for the old backoff to reach its 5 s cap before the server is back.
    await new Promise((r) => setTimeout(r, 7_000));
    console.log(`[lease-after-outage] lock held during the outage: ${s.leases.lockedSince() !== null}`);
    c.start();
    const back = Date.now();
    await beating;
    const beat = beatAt - back;
    while (s.leases.lockedSince() === null && Date.now() - back < 20_000) await new Promise((r) => setTimeout(r, 20));
    const locked = Date.now() - back;
    console.log(`[lease-after-outage] heartbeat ${beat} ms, lock ${locked} ms after the server was back`);
    expect(beat).toBeLessThan(LEASE_S * 1000);
    expect(locked).toBeLessThan(LEASE_S * 1000);
  }, 60_000);
});
