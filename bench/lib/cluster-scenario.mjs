// Scenario l: several sluice nodes on one PostgreSQL state (issue 8), on this 2-core machine.
//   l1  N files of 4 KiB in ONE shared staging directory, drained by 1, 2 and 4 `sluice run --once --state …`
//       processes at once (fresh database per run; wall time from the first spawn to the last exit): files/s,
//       and the ratio of 2 and 4 processes to 1. Every run is checked: staging empty, warehouse holds every file,
//       one manifest line per file across the nodes' manifest files, no claim left in the database. Also the
//       transactions the nodes committed per file (pg_stat_database.xact_commit of the run's database).
//   l2  the claim-and-commit rate the database sustains: 64 concurrent simulated files, each doing what a node
//       does per file (claim the name, decide, stored, manifested, done, release: 6 transactions) through the
//       PostgreSQL store itself (dist/store/postgres), for a fixed time: files/s and transactions/s.
// The database is the machine's PostgreSQL (SLUICE_BENCH_PG, default postgres://postgres@127.0.0.1:5432/test);
// each run creates and drops its own database (pg.mjs).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { countFiles, freshDir, KiB, makeSmallFiles, rmrf } from "./data.mjs";
import { ADMIN_URL, pgClient, redact, withDatabase } from "./pg.mjs";
import { REPO, SLUICE_BIN, sluiceEnv } from "./sluice.mjs";
import { pairRatios, summarize } from "./stats.mjs";

/** @typedef {import("./scenarios.mjs").Ctx} Ctx */
/** @typedef {import("./scenarios.mjs").Row} Row */

const PROCS = [1, 2, 4];

/** Resolves with the exit code; rejects on a signal. */
function runNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE_BIN, ...args], {
      env: sluiceEnv(),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code, signal) =>
      signal ? reject(new Error(`node killed by ${signal}: ${err}`)) : resolve({ code, err }),
    );
  });
}

/**
 * l1: one run of `procs` nodes on one shared staging directory; returns files/s and the transactions the nodes
 * committed in the database per file (xact_commit after − before, read once every node exited).
 */
async function drainOnce(root, files, procs) {
  const staging = join(root, "staging");
  freshDir(staging);
  makeSmallFiles(staging, files, 4 * KiB);
  const wh = join(root, "warehouse");
  const man = join(root, "manifests");
  return withDatabase(`sluice_bench_l_${procs}`, async (url, db) => {
    const args = (k) => [
      "run",
      "--once",
      "--input",
      staging,
      "--warehouse",
      wh,
      "--manifests",
      man,
      "--errors",
      join(root, "errors"),
      "--state",
      url,
      "--node-id",
      `bench-${k}`,
      "--stability-seconds",
      "0",
      "--log-level",
      "warn",
    ];
    const x0 = await db.xactCommit();
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: procs }, (_, k) => runNode(args(k))));
    const ms = performance.now() - t0;
    const bad = results.find((r) => r.code !== 0);
    if (bad) throw new Error(`scenario l1: a node exited ${bad.code}: ${bad.err.slice(-800)}`);
    // Before the check below connects to the database (its query would count too).
    const xacts = (await db.xactCommit()) - x0;
    const left = readdirSync(staging).length;
    const stored = countFiles(wh);
    const lines = readdirSync(man, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".jsonl"))
      .reduce((n, f) => n + readFileSync(join(man, f), "utf8").split("\n").filter(Boolean).length, 0);
    const c = await pgClient(url);
    const claims = (await c.query("SELECT count(*)::int AS n FROM claims")).rows[0].n;
    await c.end();
    if (left !== 0 || stored !== files || lines !== files || claims !== 0) {
      throw new Error(
        `scenario l1 (${procs} nodes): staging left ${left}, warehouse ${stored}/${files}, manifest lines ${lines}, claims ${claims}`,
      );
    }
    rmrf(wh);
    rmrf(man);
    return { filesPerSec: files / (ms / 1000), xactPerFile: xacts / files };
  });
}

/** l2: what one process gets out of the database for the per-file transactions, 64 files at a time. */
async function claimCommitRate(seconds) {
  const { PostgresStateStore } = await import(
    pathToFileURL(join(REPO, "dist", "store", "postgres", "postgres-store.js")).href
  );
  const { newIngestId } = await import(pathToFileURL(join(REPO, "dist", "core", "ids.js")).href);
  return withDatabase("sluice_bench_l2", async (url, db) => {
    const x0 = await db.xactCommit();
    const store = await PostgresStateStore.open(url, { node: "bench-l2", connections: 16 });
    await store.leases.join();
    let files = 0;
    const deadline = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const name = `f-${randomBytes(8).toString("hex")}.dat`;
        const ingestId = newIngestId();
        const sha = createHash("sha256").update(name).digest("hex");
        if (!(await store.leases.claimSource(name))) throw new Error("l2: claim refused");
        const file = {
          ingestId,
          sourcePath: `/s/${name}`,
          name,
          device: 1,
          inode: files,
          size: 4096,
          mtimeMs: 1,
          sidecarPath: null,
        };
        const at = new Date().toISOString();
        await store.decide(file, sha, {
          partitionDir: "/wh/d",
          baseName: name,
          collisionName: `x.${name}`,
          ingestedAt: at,
          manifestPath: "/m/x.jsonl",
        });
        await store.markStored(ingestId, at, "/m/x.jsonl");
        await store.markManifested(ingestId);
        await store.finish(ingestId, "done");
        await store.leases.releaseSource(name);
        files++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, worker));
    const s = (performance.now() - t0) / 1000;
    await store.leases.leave();
    await store.close();
    // Six store operations per file (claim, decide, stored, manifested, done, release), each awaited by its file;
    // the 64 files in flight share their commits (group commit), so the committed transactions are counted.
    const xact = (await db.xactCommit()) - x0;
    return { filesPerSec: files / s, opsPerSec: (files * 6) / s, xactPerFile: xact / files };
  });
}

/**
 * @param {Ctx} ctx
 */
export async function clusterScale(ctx) {
  const files = ctx.sizes.lFiles;
  const root = freshDir(join(ctx.base, "l"));
  /** @type {Record<number, number[]>} */
  const fps = { 1: [], 2: [], 4: [] };
  /** @type {Record<number, number[]>} */
  const xpf = { 1: [], 2: [], 4: [] };
  const rates = [];
  const txs = [];
  const xacts = [];
  for (let p = 0; p < ctx.pairs; p++) {
    for (const procs of PROCS) {
      const v = await drainOnce(root, files, procs);
      fps[procs].push(v.filesPerSec);
      xpf[procs].push(v.xactPerFile);
      ctx.log(
        `  l1 pair ${p + 1}: ${procs} node(s) ${v.filesPerSec.toFixed(0)} files/s, ${v.xactPerFile.toFixed(2)} xact/file`,
      );
    }
    const r = await claimCommitRate(ctx.mode === "quick" ? 2 : 8);
    rates.push(r.filesPerSec);
    txs.push(r.opsPerSec);
    xacts.push(r.xactPerFile);
    ctx.log(
      `  l2 pair ${p + 1}: ${r.filesPerSec.toFixed(0)} files/s, ${r.opsPerSec.toFixed(0)} store ops/s, ${r.xactPerFile.toFixed(2)} xact/file`,
    );
  }
  rmrf(root);
  /** @type {Row[]} */
  const rows = PROCS.map((procs) => ({
    id: `l1.p${procs}`,
    scenario: "l",
    label: `l1 ${files} × 4 KiB, one shared staging dir, ${procs} node(s) on one PostgreSQL${procs > 1 ? ", vs 1 node" : ""}`,
    unit: "files/s",
    sluice: summarize(fps[procs]),
    anchor: procs > 1 ? { name: "1 node", unit: "files/s", summary: summarize(fps[1]) } : null,
    ratio: procs > 1 ? summarize(pairRatios(fps[procs], fps[1], (x, y) => x / y)) : null,
    target: null,
  }));
  rows.push(
    ...PROCS.map((procs) => ({
      id: `l1.p${procs}.xact_per_file`,
      scenario: "l",
      label: `l1 the same, ${procs} node(s): committed transactions per file`,
      unit: "xact/file",
      sluice: summarize(xpf[procs]),
      anchor: null,
      ratio: null,
      target: null,
    })),
  );
  rows.push(
    {
      id: "l2.files",
      scenario: "l",
      label: "l2 claim + decide + stored + manifested + done + release, 64 at a time: files",
      unit: "files/s",
      sluice: summarize(rates),
      anchor: null,
      ratio: null,
      target: null,
    },
    {
      id: "l2.ops",
      scenario: "l",
      label: "l2 the same: store operations (6 per file, group-committed)",
      unit: "ops/s",
      sluice: summarize(txs),
      anchor: null,
      ratio: null,
      target: null,
    },
    {
      id: "l2.xact_per_file",
      scenario: "l",
      label: "l2 the same: committed transactions per file",
      unit: "xact/file",
      sluice: summarize(xacts),
      anchor: null,
      ratio: null,
      target: null,
    },
  );
  return {
    id: "l",
    params: {
      files,
      file_bytes: 4 * KiB,
      nodes: PROCS,
      database: `${redact(ADMIN_URL).replace(/\/[^/]*$/, "")}/<fresh per run> (synchronous_commit on, this machine's server)`,
      xact_per_file: "pg_stat_database.xact_commit of the run's database, after − before, ÷ files",
      node_args: "run --once --state URL --node-id bench-K --stability-seconds 0 --log-level warn",
      l2: { concurrency: 64, seconds: ctx.mode === "quick" ? 2 : 8, store_operations_per_file: 6 },
    },
    runs: [],
    rows,
    sluiceRss: [],
  };
}
