import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceProcess } from "../support/cli.js";
import { sleep, useSandboxes } from "../support/fixtures.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { readManifest, type Sandbox, sha256 } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * Small files on a cluster go through the batch lane, and a node's staging-name claims are group-committed
 * (PostgresNodeLeases): a batch's names are claimed in one statement and released in one, where the per-file
 * claims took about three transactions per file (take, check for a file still being finished, release).
 */

const FILES = 400;
const sandbox = useSandboxes();
let db: TestDatabase;

beforeAll(async () => {
  if (!missing("postgres")) db = await createTestDatabase("sluice_batch_claims");
});
afterAll(async () => db?.drop());

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Transactions committed in the test database so far (every session's, flushed at its end at the latest). */
async function commits(): Promise<number> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query("SELECT pg_stat_clear_snapshot()");
    const r = await c.query<{ n: string }>("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1", [
      db.name,
    ]);
    return Number(r.rows[0]?.n ?? Number.NaN);
  } finally {
    await c.end();
  }
}

function node(s: Sandbox, id: string): SluiceProcess {
  return new SluiceProcess([
    "run",
    "--once",
    ...s.args,
    "--state",
    db.url,
    "--node-id",
    id,
    "--stability-seconds",
    "0",
    "--log-level",
    "debug",
  ]);
}

describe.skipIf(missing("postgres"))("small-file batches on a cluster", () => {
  it("two nodes drain one shared staging directory: each file once, claims taken a batch at a time", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    const inputs = new Map<string, string>();
    for (let i = 0; i < FILES; i++) {
      const data = randomBytes(100 + (i % 900));
      const name = `small-${String(i).padStart(4, "0")}.bin`;
      writeFileSync(join(s.input, `.${name}.part`), data);
      renameSync(join(s.input, `.${name}.part`), join(s.input, name));
      inputs.set(name, sha256(data));
    }
    const before = await commits();
    const nodes = ["b1", "b2"].map((id) => node(s, id));
    const timer = setTimeout(() => {
      for (const p of nodes) p.child.kill("SIGKILL");
    }, 90_000);
    const results = await Promise.all(nodes.map((p) => p.exited)).finally(() => clearTimeout(timer));
    for (const r of results) expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // A session's counters reach pg_stat_database when it ends: the nodes' backends end just after the nodes.
    await sleep(1000);
    const xacts = (await commits()) - before;

    expect(readdirSync(s.input), "left in staging").toEqual([]);
    const lines = readManifest(s.manifests);
    const byName = new Map<string, number>();
    for (const l of lines) byName.set(l.name, (byName.get(l.name) ?? 0) + 1);
    expect(
      [...byName].filter(([, n]) => n > 1),
      "files with more than one manifest line",
    ).toEqual([]);
    expect([...byName.keys()].sort()).toEqual([...inputs.keys()].sort());
    for (const l of lines) expect(l.sha256, l.name).toBe(inputs.get(l.name));
    expect(await query("SELECT * FROM claims"), "claims left held").toEqual([]);
    expect(await query("SELECT state, count(*)::int AS n FROM files GROUP BY state")).toEqual([
      { state: "done", n: FILES },
    ]);

    const ingested = results.map((r) => r.events.filter((e) => e.event === "file_ingested").length);
    const batches = results.map((r) => r.events.filter((e) => e.event === "batch_started").length);
    const perFile = xacts / FILES;
    if (process.env.SLUICE_DEBUG_CLUSTER)
      for (const r of results) {
        const count: Record<string, number> = {};
        for (const e of r.events) count[String(e.event)] = (count[String(e.event)] ?? 0) + 1;
        console.log(JSON.stringify(count), JSON.stringify(r.events.filter((e) => e.event === "batch_started")));
      }
    console.log(
      `cluster batches: ingested per node ${ingested.join("/")}, batches ${batches.join("/")}, ` +
        `${xacts} transactions, ${perFile.toFixed(2)} per file`,
    );
    expect(ingested.reduce((a, b) => a + b, 0)).toBe(FILES);
    expect(
      batches.reduce((a, b) => a + b, 0),
      "batches of the small-file lane",
    ).toBeGreaterThan(0);
    // Everything the nodes did, start to stop: the state's own writes (a few per file, until they are
    // group-committed too), heartbeats, adoption rounds, and the claims. Per-file claims alone were about 3 per
    // file (more where both nodes tried the same name), putting the whole run above 6 per file.
    expect(perFile).toBeLessThan(4.5);
  }, 120_000);
});
