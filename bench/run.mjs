#!/usr/bin/env node
// sluice benchmark harness: `npm run bench` (full) or `npm run bench -- --quick` (CI smoke run).
// See bench/README.md. Measures sluice and the tools a user would pick instead, in the same run,
// pair by pair, and prints one table; writes it as JSON to bench/results/ (latest.json is the committed reference;
// every full run's timestamped copy goes to bench/results/history/, which git ignores).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statfsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { detectAnchors } from "./lib/anchors.mjs";
import { detectConvertAnchors } from "./lib/convert-anchors.mjs";
import { devOf, GiB, MiB, makeSmallFiles, rmrf } from "./lib/data.mjs";
import { killLiveChildren, sh } from "./lib/proc.mjs";
import { evaluate, fmt, render, table } from "./lib/report.mjs";
import { peakRssRow, runScenario, SCENARIOS } from "./lib/scenarios.mjs";
import { makeLayout, REPO, runSluiceOnce } from "./lib/sluice.mjs";
import { summarize } from "./lib/stats.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, "results");
// The run-by-run history stays on the machine that ran it: only latest.json is kept in the repository.
const HISTORY = join(RESULTS, "history");

const USAGE = `usage: npm run bench [-- options]
  --quick          smoke mode (tiny sizes, 1 pair; reports, never asserts targets; < 60 s)
  --only a,c       run a subset of the scenarios a b c d e f g h i j k l m n (a also runs sluice with its state in
                   PostgreSQL, SLUICE_BENCH_PG; g = peak RSS during c and d;
                   h = sensor CSV → Parquet vs DuckDB and pure JS; i = SQL dumps rows/s;
                   j = S3: a 1 GiB file and 2,000 small files to a local Ceph RADOS Gateway vs rclone copy;
                   k = HTTP API of sluice serve: a 1 GiB upload vs cp + sync, GET /api/v1/files/:id under autocannon;
                   l = 1, 2 and 4 nodes on one PostgreSQL state draining a shared directory, and the database's
                   claim-and-commit rate; m = sluice prune: state bytes per file before and after;
                   n = 500 small sensor CSVs → Parquet, plain and --schema, vs a warm DuckDB COPY loop)
  --pairs N        runs per command (default: full 3, quick 1)
  --no-build       do not run \`npm run build\` first
  --no-install     do not install missing anchors (apt-get: rclone, GNU time, and Ceph for j; npm into
                   bench/.anchors/: csv-parse and @dsnp/parquetjs for h). Quick mode never installs Ceph:
                   without it, j falls back to s3rver and says so
exit status: 0 ok; 1 a command failed (sluice or an anchor exited non-zero, or files were not all moved);
             3 full mode only: a target was missed or could not be measured`;

function parseArgs(argv) {
  const o = { quick: false, only: /** @type {string[] | null} */ (null), pairs: 0, build: true, install: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--no-build") o.build = false;
    else if (a === "--no-install") o.install = false;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a.includes("=") ? a.slice(7) : argv[++i];
      o.only = (v ?? "")
        .split(",")
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean);
      const bad = o.only.filter((x) => !SCENARIOS.includes(/** @type {any} */ (x)));
      if (bad.length || o.only.length === 0)
        throw new Error(`--only: unknown scenario(s) ${bad.join(",") || "(none)"}`);
    } else if (a === "--pairs" || a.startsWith("--pairs=")) {
      const v = Number(a.includes("=") ? a.slice(8) : argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error("--pairs takes a positive integer");
      o.pairs = v;
    } else if (a === "--help" || a === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

const log = (/** @type {string} */ s) => process.stdout.write(`${s}\n`);

/** Scratch roots: one on the staging filesystem, one on another (/dev/shm, else a tmpfs we mount). */
function scratch() {
  const base = mkdtempSync(join(os.tmpdir(), "sluice-bench-"));
  /** @type {string | null} */
  let mounted = null;
  let other = null;
  if (existsSync("/dev/shm")) {
    const cand = mkdtempSync("/dev/shm/sluice-bench-");
    if (devOf(cand) !== devOf(base)) other = cand;
    else rmrf(cand);
  }
  if (!other) {
    other = join(base, "otherfs");
    mkdirSync(other);
    sh("mount", ["-t", "tmpfs", "-o", "size=3g", "tmpfs", other]);
    mounted = other;
  }
  return {
    base,
    other,
    cleanup() {
      if (mounted) sh("umount", [mounted], { allowFail: true });
      else rmrf(other);
      rmrf(base);
    },
  };
}

function envInfo() {
  const git = (/** @type {string[]} */ args) => sh("git", args, { cwd: REPO, allowFail: true }).stdout?.trim() || null;
  const dirty = git(["status", "--porcelain", "--", "src", "bin", "package.json"]);
  return {
    node: process.version,
    v8: process.versions.v8,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    total_mem_mib: Math.round(os.totalmem() / MiB),
    kernel: `${os.type()} ${os.release()}`,
    uname: sh("uname", ["-a"], { allowFail: true }).stdout?.trim() ?? null,
    platform: `${process.platform}/${process.arch}`,
    loadavg_at_start: os.loadavg(),
    git_commit: git(["rev-parse", "HEAD"]),
    git_src_dirty: dirty ? dirty.split("\n").length : 0,
    sluice_version: JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version,
  };
}

async function main() {
  const t0 = performance.now();
  const opts = parseArgs(process.argv.slice(2));
  const mode = opts.quick ? "quick" : "full";
  const pairs = opts.pairs || (opts.quick ? 1 : 3);
  const sizes = opts.quick
    ? {
        a: 300,
        b: 300,
        bigBytes: 32 * MiB,
        e: 20,
        f: 2000,
        h: 16 * MiB,
        hSlice: 4 * MiB,
        jBig: 64 * MiB,
        jSmall: 200,
        kBig: 64 * MiB,
        kSeconds: 2,
        lFiles: 300,
        m: 300,
        n: 60,
      }
    : {
        a: 5000,
        b: 5000,
        bigBytes: 1 * GiB,
        e: 200,
        f: 100_000,
        h: 1 * GiB,
        hSlice: 64 * MiB,
        jBig: 1 * GiB,
        jSmall: 2000,
        kBig: 1 * GiB,
        kSeconds: 10,
        lFiles: 4000,
        m: 100_000,
        n: 500,
      };
  const wanted = opts.only ?? [...SCENARIOS];
  const toRun = SCENARIOS.filter(
    (id) => id !== "g" && (wanted.includes(id) || (wanted.includes("g") && (id === "c" || id === "d"))),
  );

  log(
    `sluice bench — ${mode} mode, ${pairs} pair(s) per command, scenarios ${toRun.join(" ")}${toRun.includes("c") || toRun.includes("d") ? " g" : ""}`,
  );
  if (opts.build) {
    log("building (npm run build) …");
    const b = spawnSync("npm", ["run", "build", "--silent"], { cwd: REPO, stdio: "inherit" });
    if (b.status !== 0) throw new Error(`npm run build failed (exit ${b.status})`);
  }
  if (!existsSync(join(REPO, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js missing: run npm run build");

  /** @type {import("./lib/scenarios.mjs").Ctx["tools"]} */
  const tools = detectAnchors({ install: opts.install, log });
  if (toRun.includes("h")) Object.assign(tools, detectConvertAnchors({ install: opts.install, log }));
  for (const t of Object.values(tools)) {
    if (!t.available) log(`ANCHOR MISSING: ${t.name} (${t.note}) — rows that need it show "anchor missing"`);
  }
  const env = envInfo();
  log(
    `node ${env.node}, ${env.cpus} cpus (${env.cpu_model}), ${env.kernel}, src ${env.git_commit?.slice(0, 10)}${env.git_src_dirty ? " + uncommitted changes" : ""}`,
  );
  log(
    `anchors: rclone ${tools.rclone.version ?? "MISSING"}; GNU time ${tools.time.available ? "yes" : "MISSING"}` +
      (tools.duckdb ? `; DuckDB ${tools.duckdb.version ?? "MISSING"}` : "") +
      (tools.purejs ? `; pure JS ${tools.purejs.version ?? "MISSING"}` : ""),
  );

  const sc = scratch();
  const onSignal = (/** @type {string} */ sig) => {
    killLiveChildren();
    try {
      sc.cleanup();
    } catch {
      // best effort
    }
    log(`interrupted (${sig})`);
    process.exit(130);
  };
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  log(`scratch: ${sc.base} (staging fs), ${sc.other} (other fs)`);
  if (!opts.quick) {
    const free = (/** @type {string} */ p) => {
      const f = statfsSync(p);
      return (f.bavail * f.bsize) / GiB;
    };
    if (free(sc.base) < 3 || free(sc.other) < 2.5) {
      log(
        `warning: little free space (${free(sc.base).toFixed(1)} GiB on staging fs, ${free(sc.other).toFixed(1)} GiB on other fs)`,
      );
    }
  }

  /** @type {import("./lib/scenarios.mjs").Ctx} */
  const ctx = { mode, pairs, install: opts.install, base: sc.base, other: sc.other, tools, log, sizes };
  /** @type {Record<string, any>} */
  const results = {};
  /** @type {import("./lib/scenarios.mjs").Row[]} */
  const rows = [];
  const timings = /** @type {Record<string, number>} */ ({});
  let failure = null;
  try {
    // Untimed warm-up: page cache for node, dist/, node_modules and the anchor binaries.
    const w = makeLayout(join(sc.base, "warmup"));
    makeSmallFiles(w.staging, 20, 4096);
    await runSluiceOnce(w, { expectFiles: 20, stabilitySeconds: 0, timeoutMs: 60_000, rss: false });
    rmrf(w.root);
    if (tools.rclone.path) sh(tools.rclone.path, ["version"], { allowFail: true });

    for (const id of toRun) {
      log(`scenario ${id} …`);
      const ts = performance.now();
      const r = await runScenario(ctx, id);
      timings[id] = (performance.now() - ts) / 1000;
      results[id] = r;
      rows.push(...r.rows);
    }
    if (wanted.includes("g") || (toRun.includes("c") && toRun.includes("d"))) {
      const from = ["c", "d"].filter((id) => results[id]);
      rows.push(
        peakRssRow(
          ctx,
          from.flatMap((id) => results[id].sluiceRss),
          from,
        ),
      );
    }
  } catch (e) {
    failure = e;
  } finally {
    killLiveChildren();
    sc.cleanup();
  }
  if (failure) {
    log(`\nBENCH FAILED: ${/** @type {Error} */ (failure).stack ?? failure}`);
    process.exitCode = 1;
    return;
  }
  for (const r of rows) r.met = evaluate(r);

  const total = (performance.now() - t0) / 1000;
  log("");
  log(table(rows, opts.quick));
  const notes = Object.values(results).flatMap((r) => r.notes ?? []);
  for (const n of notes) log(`NOTE: ${n}`);
  const phaseRows = [];
  // j has two kinds of run (j1: one big file, j2: small files): one phase row each.
  const phaseSets = ["a", "b", "c", "d", "f", "h", "i", "j", "n"].flatMap((id) =>
    results[id]?.phaseRuns ? Object.entries(results[id].phaseRuns) : [[id, results[id]?.runs]],
  );
  for (const [id, runs] of phaseSets) {
    if (!runs) continue;
    const col = (/** @type {string} */ k) =>
      summarize(
        runs
          .map((/** @type {any} */ x) => x.sluice?.[k])
          .filter((/** @type {any} */ v) => v !== null && v !== undefined),
      );
    const ms = (/** @type {string} */ k) => {
      const v = col(k);
      return v ? `${fmt(v.median)} ms` : "n/a";
    };
    const rss = col("peak_rss_kib");
    phaseRows.push([
      id,
      ms("wall_ms"),
      ms("startup_ms"),
      ms("started_to_last_ingest_ms"),
      ms("last_ingest_to_exit_ms"),
      rss ? `${fmt(rss.max / 1024)} MiB` : "n/a",
    ]);
  }
  // Only scenarios with `--once` runs have phases (not e or k): no table at all when none of them ran.
  if (phaseRows.length > 0) {
    log("");
    log("sluice --once phases (medians over runs; wall = spawn → exit):");
    log(
      render(
        [
          "scen.",
          "wall",
          "spawn → sluice_started",
          "sluice_started → last ingest",
          "last ingest → exit",
          "peak RSS (max)",
        ],
        phaseRows,
      ),
    );
  }
  if (results.e)
    log(
      `e pooled over all runs: p50 ${results.e.pooled.p50_ms} ms, p99 ${results.e.pooled.p99_ms} ms (${results.e.pooled.samples} samples)`,
    );
  const missed = rows.filter((r) => r.target && r.met !== true);
  log("");
  log(
    `total ${total.toFixed(1)} s (${Object.entries(timings)
      .map(([k, v]) => `${k} ${v.toFixed(0)} s`)
      .join(", ")})`,
  );

  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const doc = {
    schema: "sluice-bench/1",
    mode,
    pairs,
    scenarios_run: toRun,
    started_at: new Date(Date.now() - total * 1000).toISOString(),
    total_seconds: total,
    scenario_seconds: timings,
    environment: env,
    anchors: tools,
    sizes,
    rows: rows.map((r) => ({
      ...r,
      sluice: strip(r.sluice),
      anchor: r.anchor ? { ...r.anchor, summary: strip(r.anchor.summary) } : null,
      ratio: strip(r.ratio),
    })),
    targets_missed: missed.map((r) => r.id),
    scenarios: results,
  };
  mkdirSync(HISTORY, { recursive: true });
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  /** @type {string[]} */
  const written = [];
  const put = (/** @type {string} */ dir, /** @type {string} */ name) => {
    const p = join(dir, name);
    writeFileSync(`${p}.tmp.json`, json);
    renameSync(`${p}.tmp.json`, p);
    written.push(p);
  };
  if (opts.quick) put(RESULTS, "quick.json");
  else {
    put(HISTORY, `${stamp}.json`);
    // latest.json is the reference: only a run of every scenario with at least 3 pairs replaces it.
    if (!opts.only && pairs >= 3) put(RESULTS, "latest.json");
  }
  log(`results: ${written.join(", ")}`);
  if (opts.quick) {
    log(`quick mode: targets are reported, not asserted (${missed.length} not met at these tiny sizes)`);
  } else if (missed.length > 0) {
    log(`targets missed or unmeasured: ${missed.map((r) => r.id).join(", ")}`);
    process.exitCode = 3;
  } else log("all targets met");
}

/**
 * @param {import("./lib/stats.mjs").Summary | null | undefined} s
 */
function strip(s) {
  return s ? { median: s.median, min: s.min, max: s.max, n: s.n, values: s.values } : null;
}

main().catch((e) => {
  killLiveChildren();
  process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
  process.exitCode = 1;
});
