#!/usr/bin/env node
// `npm run torture -- --kills N --files M [--warehouse same|other] [--state postgres://USER@HOST:PORT/DB] [--seed S]`
// `npm run torture -- --cluster N --warehouse s3 --kills K --files M [--db-outages D] [--s3-outages O]
//                     [--lease-seconds L] [--s3 radosgw|s3rver] [--seed S]`
//
// A long randomized run: small and large files, byte-identical copies under other names, gzip and tar.gz archives,
// sensor CSVs (with invalid rows) converted to Parquet, dropped into staging while sluice runs; sluice is SIGKILLed
// at random moments N times and restarted each time. At the end a last `sluice run --once` drains staging, then
// `sluice verify` must report no drift, and the set of raw contents in the warehouse must equal the set of distinct
// inputs (archive members included): nothing lost, nothing stored twice. Prints the figures; exit 0 only if clean.
// With --cluster: N nodes on one throwaway PostgreSQL and one S3 bucket prefix, with database and S3 outages too
// (scripts/lib/torture-cluster.mjs says what it checks).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { clusterTorture } from "./lib/torture-cluster.mjs";
import { random, sha, sleep, walk, workload } from "./lib/torture-files.mjs";

const BIN = fileURLToPath(new URL("../bin/sluice.js", import.meta.url));

function args() {
  const { values } = parseArgs({
    options: {
      kills: { type: "string", default: "20" },
      files: { type: "string", default: "500" },
      warehouse: { type: "string", default: "same" },
      state: { type: "string" },
      cluster: { type: "string", default: "0" },
      "db-outages": { type: "string", default: "2" },
      "s3-outages": { type: "string", default: "1" },
      "lease-seconds": { type: "string", default: "2" },
      "large-files": { type: "string", default: "3" },
      "large-max-mib": { type: "string", default: "200" },
      s3: { type: "string", default: "radosgw" },
      seed: { type: "string", default: String(Date.now() % 1_000_000) },
      keep: { type: "boolean", default: false },
    },
  });
  const o = {
    kills: Number(values.kills),
    files: Number(values.files),
    warehouse: values.warehouse,
    state: values.state ?? null,
    cluster: Number(values.cluster),
    dbOutages: Number(values["db-outages"]),
    s3Outages: Number(values["s3-outages"]),
    leaseSeconds: Number(values["lease-seconds"]),
    largeFiles: Number(values["large-files"]),
    largeMaxMiB: Number(values["large-max-mib"]),
    s3: values.s3,
    seed: Number(values.seed),
    keep: values.keep,
  };
  const single = o.cluster === 0 && ["same", "other"].includes(o.warehouse);
  const cluster = o.cluster >= 1 && o.warehouse === "s3" && ["radosgw", "s3rver"].includes(o.s3);
  if (!(o.kills >= 0 && o.files >= 1 && o.dbOutages >= 0 && o.s3Outages >= 0 && o.leaseSeconds >= 1)) {
    throw new Error(USAGE);
  }
  if (!single && !cluster) throw new Error(USAGE);
  if (!(Number.isInteger(o.largeFiles) && o.largeFiles >= 0 && o.largeMaxMiB >= 20)) throw new Error(USAGE);
  return o;
}

const USAGE =
  "usage: --kills N --files M [--warehouse same|other] [--state postgres://USER@HOST:PORT/DB] [--seed S] [--keep]\n" +
  "   or: --cluster N --warehouse s3 --kills K --files M [--db-outages D] [--s3-outages O] [--lease-seconds L]" +
  " [--large-files F] [--large-max-mib M] [--s3 radosgw|s3rver] [--seed S] [--keep]";

const opts = args();
const rnd = random(opts.seed);

/**
 * With --state: a fresh database on that PostgreSQL server (its name in the URL is only the one connected to
 * for CREATE DATABASE), dropped after a clean run.
 */
async function freshStateDatabase(serverUrl) {
  const { default: pg } = await import("pg");
  const name = `sluice_torture_${opts.seed}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** One node on SQLite state (or with --state on PostgreSQL), killed and restarted `--kills` times, then drained by `run --once`. */
async function single() {
  const t0 = Date.now();
  const db = opts.state ? await freshStateDatabase(opts.state) : null;
  const root = mkdtempSync(join(tmpdir(), "sluice-torture-"));
  const other = opts.warehouse === "other" ? mkdtempSync("/dev/shm/sluice-torture-") : null;
  const d = {
    input: join(root, "staging"),
    warehouse: join(other ?? root, "warehouse"),
    manifests: join(root, "manifests"),
    errors: join(root, "errors"),
    statePath: join(root, "state", "sluice.db"),
    work: join(root, "work"),
  };
  for (const dir of [d.input, d.work]) mkdirSync(dir, { recursive: true });
  const common = ["--input", d.input, "--warehouse", d.warehouse, "--manifests", d.manifests, "--errors", d.errors];
  if (db) common.push("--state", db.url, "--node-id", "torture-1");
  else common.push("--state-path", d.statePath);
  common.push("--schema", "sensor-readings", "--log-level", "warn");

  function start(extra = []) {
    const child = spawn(
      process.execPath,
      [BIN, "run", ...common, "--stability-seconds", "0.1", "--scan-interval", "1", ...extra],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let err = "";
    child.stderr.on("data", (c) => {
      err += c;
    });
    const exited = new Promise((r) => child.on("close", (code, signal) => r({ code, signal, err })));
    return { child, exited };
  }
  const files = workload(rnd, d.input, d.work);
  const makeFile = (i) => files.make(i);
  const { expected } = files;
  let made = 0;
  // Files arrive over the whole run, so kills land in every step: discovery, hashing, conversion, archive
  // expansion, the rename, the manifest append, the source removal.
  const perKill = Math.max(1, Math.ceil(opts.files / Math.max(1, opts.kills)));
  for (let k = 0; k < opts.kills; k++) {
    for (let j = 0; j < perKill && made < opts.files; j++) makeFile(made++);
    const p = start();
    await sleep(150 + rnd() * 1200);
    p.child.kill("SIGKILL");
    const r = await p.exited;
    if (r.signal !== "SIGKILL" && r.code !== 0) throw new Error(`sluice exited ${r.code} before its kill: ${r.err}`);
  }
  while (made < opts.files) makeFile(made++);
  const last = start(["--once", "--stability-seconds", "0"]);
  const r = await last.exited;
  if (r.code !== 0) throw new Error(`the final sluice run --once exited ${r.code}: ${r.err}`);

  const v = spawn(process.execPath, [BIN, "verify", ...common, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  v.stdout.on("data", (c) => {
    out += c;
  });
  const vCode = await new Promise((res) => v.on("close", res));
  const report = JSON.parse(out);

  const raw = walk(d.warehouse).filter(
    (p) =>
      !relative(d.warehouse, p).startsWith(".sluice-tmp") &&
      !/\.(parquet|rejects\.jsonl)$/.test(p) &&
      !p.includes(".tables/"),
  );
  const stored = raw.map((p) => sha(readFileSync(p)));
  const storedSet = new Set(stored);
  const lostList = [...expected].filter(([h]) => !storedSet.has(h)).map(([, from]) => from);
  const lost = lostList.length;
  const doubled = stored.length - storedSet.size;
  const extra = [...storedSet].filter((h) => !expected.has(h)).length;
  const leftInStaging = readdirSync(d.input).length;
  const failed = walk(d.errors).filter((p) => !p.endsWith(".error.json"));
  const summary = {
    seed: opts.seed,
    warehouse: opts.warehouse === "other" ? "other filesystem (/dev/shm)" : "same filesystem",
    state: db ? `PostgreSQL (${db.url.replace(/\/\/[^@/]*@/, "//")})` : "SQLite",
    kills: opts.kills,
    files: made,
    bytes: files.bytes,
    distinct_contents: expected.size,
    stored_raw_objects: stored.length,
    lost,
    duplicated: doubled,
    lost_examples: lostList.slice(0, 5),
    unexpected: extra,
    left_in_staging: leftInStaging,
    quarantined: failed.length,
    verify_ok: report.ok,
    verify_exit: vCode,
    verify_problems: report.problems.slice(0, 5),
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  const clean = report.ok && vCode === 0 && lost === 0 && doubled === 0 && extra === 0 && leftInStaging === 0;
  if (!opts.keep && clean) {
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
    if (other) rmSync(other, { recursive: true, force: true });
  } else if (!clean) {
    process.stdout.write(`kept for inspection: ${root}${other ? ` and ${other}` : ""}${db ? ` and ${db.url}` : ""}\n`);
  }
  process.exitCode = clean ? 0 : 1;
}

if (opts.cluster > 0) {
  clusterTorture(opts, rnd).then(
    (clean) => {
      process.exitCode = clean ? 0 : 1;
    },
    (err) => {
      process.stderr.write(`torture: ${err.stack ?? err}\n`);
      process.exitCode = 2;
    },
  );
} else {
  single().catch((err) => {
    process.stderr.write(`torture: ${err.stack ?? err}\n`);
    process.exitCode = 2;
  });
}
