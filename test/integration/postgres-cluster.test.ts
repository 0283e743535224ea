import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceProcess } from "../support/cli.js";
import { sleep } from "../support/fixtures.js";
import { type PgCluster, startPgCluster } from "../support/pg-cluster.js";
import { makeSandbox, readManifest, type Sandbox, sha256, sha256File, warehouseFiles } from "../support/sandbox.js";

/**
 * Several sluice nodes on one PostgreSQL state (a server of the test's own,
 * so it can be restarted mid-run): exactly once across nodes, through
 * SIGKILLs, restarts, lease expiry and adoption, and a database restart.
 */

let cluster: PgCluster;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
});

afterAll(() => {
  cluster?.destroy();
  if (process.env.SLUICE_DEBUG_CLUSTER)
    console.log(
      "KEPT",
      sandboxes.map((s) => s.root),
    );
  else for (const s of sandboxes) s.cleanup();
});

async function freshDatabase(name: string): Promise<string> {
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

async function dbQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/** Writes a file the way an upstream should: hidden temp name, then one rename into staging. */
function drop(dir: string, name: string, data: Buffer): void {
  const tmp = join(dir, `.${name}.part`);
  writeFileSync(tmp, data);
  renameSync(tmp, join(dir, name));
}

function node(s: Sandbox, input: string, url: string, id: string, lease = 2): SluiceProcess {
  return new SluiceProcess([
    "run",
    "--input",
    input,
    "--warehouse",
    s.warehouse,
    "--manifests",
    s.manifests,
    "--errors",
    s.errors,
    "--state",
    url,
    "--node-id",
    id,
    "--lease-seconds",
    String(lease),
    "--stability-seconds",
    "0.2",
    "--scan-interval",
    "1",
  ]);
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** What every run must end with: each distinct content stored once, one manifest line per source file. */
function expectExactlyOnce(s: Sandbox, inputs: Map<string, string>): void {
  const stored = warehouseFiles(s.warehouse).map((f) => sha256File(join(s.warehouse, f)));
  const distinct = new Set(inputs.values());
  expect(stored.length, "objects in the warehouse").toBe(distinct.size);
  expect(new Set(stored)).toEqual(distinct);
  const lines = readManifest(s.manifests);
  const byName = new Map<string, number>();
  for (const l of lines) byName.set(l.name, (byName.get(l.name) ?? 0) + 1);
  const doubled = [...byName].filter(([, n]) => n > 1);
  if (doubled.length > 0 && process.env.SLUICE_DEBUG_CLUSTER) {
    for (const [name] of doubled.slice(0, 3)) console.log(JSON.stringify(lines.filter((l) => l.name === name)));
  }
  expect(doubled, "source files with more than one manifest line").toEqual([]);
  expect([...byName.keys()].sort()).toEqual([...inputs.keys()].sort());
  for (const l of lines) expect(l.sha256, l.name).toBe(inputs.get(l.name));
}

describe("several nodes on one PostgreSQL state", () => {
  it("each node with its own staging directory: global dedupe, per-node manifests, a database restart mid-run", async () => {
    const s = makeSandbox();
    sandboxes.push(s);
    const url = await freshDatabase("own_dirs");
    const dirs = ["a", "b"].map((n) => join(s.root, `staging-${n}`));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const inputs = new Map<string, string>();
    // 300 files per node; 100 contents are dropped on both nodes at once (cross-node duplicates).
    for (let i = 0; i < 300; i++) {
      for (const [k, dir] of dirs.entries()) {
        const data = i < 100 ? Buffer.from(`shared content ${i}\n`) : randomBytes(512 + i);
        const name = `n${k}-file-${i}.bin`;
        drop(dir, name, data);
        inputs.set(name, sha256(data));
      }
    }
    const nodes = dirs.map((d, k) => node(s, d, url, `own-${k}`));
    try {
      await until("first files ingested", () => warehouseFiles(s.warehouse).length > 20, 30_000);
      cluster.stop("immediate");
      await sleep(1500);
      cluster.start();
      await until("staging drained", () => dirs.every((d) => readdirSync(d).length === 0), 30_000).catch((e) => {
        console.log(
          "LEFT",
          dirs.map((d) => readdirSync(d).length),
        );
        throw e;
      });
      await until(
        "no unfinished rows",
        async () =>
          (await dbQuery(url, "SELECT 1 FROM files WHERE state NOT IN ('done','duplicate','failed')")).length === 0,
        30_000,
      );
    } catch (err) {
      for (const p of nodes) {
        const bad = p.events.filter((e) => Number(e.level) >= 40);
        console.log(
          "NODE",
          p.child.exitCode,
          p.stderr.slice(0, 1500),
          JSON.stringify(bad.slice(-5)),
          JSON.stringify(p.events.slice(-3)),
        );
      }
      throw err;
    } finally {
      await Promise.all(nodes.map((p) => p.stop()));
    }
    expectExactlyOnce(s, inputs);
    const files = readdirSync(join(s.manifests), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith(".jsonl")).every((f) => /manifest\.own-[01]\.jsonl$/.test(f))).toBe(true);
    const states = await dbQuery<{ state: string; n: number }>(
      url,
      "SELECT state, COUNT(*)::int AS n FROM files GROUP BY state ORDER BY state",
    );
    expect(states).toEqual([
      { state: "done", n: 500 },
      { state: "duplicate", n: 100 },
    ]);
    expect(nodes.map((p) => p.named("state_retry").length + p.named("write_retry").length).some((n) => n > 0)).toBe(
      true,
    );
  });

  it("three nodes on one shared staging directory, SIGKILLed and restarted at random, and a database restart", async () => {
    const s = makeSandbox();
    sandboxes.push(s);
    const url = await freshDatabase("shared_dir");
    mkdirSync(s.input, { recursive: true });
    const inputs = new Map<string, string>();
    const contents: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      // One in five is a copy of an earlier file's bytes; one in a hundred is large enough to be caught mid-copy.
      const data =
        i % 5 === 4 && contents.length > 0
          ? (contents[(i * 7919) % contents.length] as Buffer)
          : i % 100 === 0
            ? randomBytes(2 * 1024 * 1024)
            : randomBytes(200 + (i % 700));
      contents.push(data);
      const name = `shared-${String(i).padStart(4, "0")}.dat`;
      drop(s.input, name, data);
      inputs.set(name, sha256(data));
    }
    const ids = ["s1", "s2", "s3"];
    const all: SluiceProcess[] = [];
    const start = (id: string) => {
      const p = node(s, s.input, url, id);
      all.push(p);
      return p;
    };
    const running = new Map(ids.map((id) => [id, start(id)]));
    let kills = 0;
    const restarting = new Set<string>();
    let restartedDb = false;
    const seed = Date.now() % 100_000;
    let rnd = seed;
    const random = () => {
      rnd = (rnd * 48271) % 2147483647;
      return rnd / 2147483647;
    };
    try {
      const deadline = Date.now() + 120_000;
      while (readdirSync(s.input).length > 0 && Date.now() < deadline) {
        // Often enough that the kills land while the staging directory still drains (it takes only seconds).
        await sleep(100 + random() * 400);
        if (!restartedDb && warehouseFiles(s.warehouse).length > 600) {
          cluster.stop("immediate");
          await sleep(1000);
          cluster.start();
          restartedDb = true;
          continue;
        }
        const up = ids.filter((id) => !restarting.has(id));
        if (kills < 12 && up.length > 0) {
          const id = up[Math.floor(random() * up.length)] as string;
          restarting.add(id);
          await running.get(id)?.kill();
          kills++;
          // Back soon (own recovery) or only after its lease ran out (another node adopts its files).
          const away = random() < 0.5 ? 200 : 3500;
          setTimeout(() => {
            running.set(id, start(id));
            restarting.delete(id);
          }, away);
        }
      }
      await sleep(4000); // every killed node is back
      await until("staging drained", () => readdirSync(s.input).length === 0, 60_000);
      await until(
        "no unfinished rows",
        async () =>
          (await dbQuery(url, "SELECT 1 FROM files WHERE state NOT IN ('done','duplicate','failed')")).length === 0,
        60_000,
      );
    } finally {
      await Promise.all([...running.values()].map((p) => (p.child.exitCode === null ? p.stop() : p.exited)));
      if (process.env.SLUICE_DEBUG_CLUSTER) {
        const { appendFileSync } = await import("node:fs");
        for (const p of all) appendFileSync(join(s.root, "events.jsonl"), `${p.stdout}\n`);
      }
    }
    console.log(`cluster: seed=${seed} kills=${kills} db_restarted=${restartedDb} files=${inputs.size}`);
    expect(restartedDb).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(5);
    expectExactlyOnce(s, inputs);
    expect(await dbQuery(url, "SELECT * FROM claims"), "claims left held").toEqual([]);
    const failed = await dbQuery(url, "SELECT name, error_code FROM files WHERE state = 'failed'");
    expect(failed, "files that failed").toEqual([]);
  });
});
