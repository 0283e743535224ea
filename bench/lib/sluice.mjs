// Running the real sluice CLI (bin/sluice.js → dist/) the way a user does, and checking its work.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { countFiles } from "./data.mjs";
import { runTimed, tail, track, untrack } from "./proc.mjs";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SLUICE_BIN = join(REPO, "bin", "sluice.js");

/**
 * @typedef {object} Layout
 * @property {string} root        per-run directory (also the cwd: no stray .env is picked up)
 * @property {string} staging
 * @property {string} warehouse
 * @property {string} manifests
 * @property {string} errors
 * @property {string} statePath
 * @property {S3Target} [s3]      set for an S3 warehouse (`warehouse` is then `s3://BUCKET/PREFIX`)
 * @property {{ url: string, nodeId: string }} [state]
 *           set for a PostgreSQL state: `--state URL --node-id ID` instead of `--state-path statePath`
 */

/**
 * @typedef {object} S3Target
 * @property {string} endpoint    `http://127.0.0.1:PORT`
 * @property {string} accessKeyId
 * @property {string} secretAccessKey
 * @property {string} scratch     --scratch-dir (local work area of an S3 warehouse)
 */

/**
 * Fresh per-run directories. Staging, manifests, errors and state live under `root`;
 * the warehouse under `warehouseParent` (another filesystem for scenarios b and d).
 * @param {string} root
 * @param {string} [warehouseParent]
 * @returns {Layout}
 */
export function makeLayout(root, warehouseParent = root) {
  const l = {
    root,
    staging: join(root, "staging"),
    warehouse: join(warehouseParent, "warehouse"),
    manifests: join(root, "manifests"),
    errors: join(root, "errors"),
    statePath: join(root, "state", "sluice.db"),
  };
  mkdirSync(l.staging, { recursive: true });
  mkdirSync(l.warehouse, { recursive: true });
  return l;
}

/**
 * Fresh per-run directories for an S3 warehouse `s3://BUCKET/PREFIX`: staging, manifests, errors, state and
 * the scratch area under `root`; nothing local is created for the warehouse.
 * @param {string} root
 * @param {string} warehouseUri
 * @param {Omit<S3Target, "scratch">} s3
 * @returns {Layout}
 */
export function makeS3Layout(root, warehouseUri, s3) {
  const l = {
    root,
    staging: join(root, "staging"),
    warehouse: warehouseUri,
    manifests: join(root, "manifests"),
    errors: join(root, "errors"),
    statePath: join(root, "state", "sluice.db"),
    s3: { ...s3, scratch: join(root, "scratch") },
  };
  mkdirSync(l.staging, { recursive: true });
  return l;
}

/**
 * The environment a user would have, minus anything that would silently change sluice's settings.
 * For an S3 warehouse the machine's AWS_* and S3_* variables go too (AWS_CA_BUNDLE, profiles, regions are
 * set here machine-wide for other tools), and the credentials are S3_ACCESS_KEY / S3_SECRET_KEY.
 * @param {Layout} [l]
 */
export function sluiceEnv(l) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("SLUICE_") || k === "UV_THREADPOOL_SIZE") delete env[k];
  if (l?.s3) {
    for (const k of Object.keys(env)) if (k.startsWith("AWS_") || k.startsWith("S3_")) delete env[k];
    env.S3_ACCESS_KEY = l.s3.accessKeyId;
    env.S3_SECRET_KEY = l.s3.secretAccessKey;
  }
  return env;
}

/**
 * @param {Layout} l
 * @param {number} stabilitySeconds
 * @param {boolean} once
 */
export function sluiceArgs(l, stabilitySeconds, once) {
  const a = [
    SLUICE_BIN,
    "run",
    "--input",
    l.staging,
    "--warehouse",
    l.warehouse,
    "--manifests",
    l.manifests,
    "--errors",
    l.errors,
    ...(l.state ? ["--state", l.state.url, "--node-id", l.state.nodeId] : ["--state-path", l.statePath]),
    "--stability-seconds",
    String(stabilitySeconds),
  ];
  if (l.s3) a.push("--s3-endpoint", l.s3.endpoint, "--scratch-dir", l.s3.scratch);
  if (once) a.push("--once");
  return a;
}

/**
 * @typedef {object} LogSummary
 * @property {number | null} startedAt   wall ms of sluice_started
 * @property {number | null} firstIngestAt
 * @property {number | null} lastIngestAt
 * @property {number} ingested
 * @property {number} duplicates
 * @property {number} failed
 * @property {number} vanished
 * @property {boolean} stopped
 * @property {Map<string, {at: number, sha256: string, bytes: number}>} byName
 * @property {string | null} [address]  `sluice serve`: the URL of its `http_listening` line
 */

/**
 * Parses sluice's JSON-lines log. Timestamps are pino's ISO times (wall clock, 1 ms resolution).
 * @param {string} text
 * @param {boolean} keepNames
 * @returns {LogSummary}
 */
export function parseLog(text, keepNames) {
  /** @type {LogSummary} */
  const s = {
    startedAt: null,
    firstIngestAt: null,
    lastIngestAt: null,
    ingested: 0,
    duplicates: 0,
    failed: 0,
    vanished: 0,
    stopped: false,
    byName: new Map(),
  };
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      continue;
    }
    observe(s, ev, keepNames);
  }
  return s;
}

/**
 * @param {LogSummary} s
 * @param {any} ev
 * @param {boolean} keepNames
 */
function observe(s, ev, keepNames) {
  const at = typeof ev.time === "string" ? Date.parse(ev.time) : Number(ev.time);
  switch (ev.event) {
    case "sluice_started":
      s.startedAt = at;
      break;
    case "file_ingested":
      s.ingested++;
      if (s.firstIngestAt === null || at < s.firstIngestAt) s.firstIngestAt = at;
      if (s.lastIngestAt === null || at > s.lastIngestAt) s.lastIngestAt = at;
      if (keepNames) s.byName.set(ev.name, { at, sha256: ev.sha256, bytes: ev.bytes });
      break;
    case "file_duplicate":
      s.duplicates++;
      break;
    case "file_failed":
      s.failed++;
      break;
    case "file_vanished":
      s.vanished++;
      break;
    case "sluice_stopped":
      s.stopped = true;
      break;
    case "http_listening":
      s.address = typeof ev.address === "string" ? ev.address : null;
      break;
  }
}

/**
 * @typedef {object} SluiceRun
 * @property {number} wallMs            spawn → exit (includes node startup, recovery, shutdown)
 * @property {number | null} startupMs  spawn → sluice_started
 * @property {number | null} ingestMs   sluice_started → last file_ingested
 * @property {number | null} tailMs     last file_ingested → exit
 * @property {number | null} firstIngestMs  spawn → first file_ingested
 * @property {number | null} drainMs    first → last file_ingested
 * @property {number | null} peakRssKiB
 * @property {number} files
 * @property {Map<string, {at: number, sha256: string, bytes: number}>} byName
 */

/**
 * Runs `sluice run --once` over a prepared layout and checks that every file was ingested.
 * Throws (the harness then exits non-zero, in quick mode too) when sluice fails or misses a file.
 * `countStored` counts what the warehouse holds afterwards (default: the regular files under a local
 * warehouse; an S3 warehouse passes its object count).
 * @param {Layout} l
 * @param {{ expectFiles: number, stabilitySeconds: number, timeoutMs: number, rss: boolean, keepNames?: boolean,
 *           countStored?: () => Promise<number> }} o
 * @returns {Promise<SluiceRun>}
 */
export async function runSluiceOnce(l, o) {
  const r = await runTimed(process.execPath, sluiceArgs(l, o.stabilitySeconds, true), {
    cwd: l.root,
    env: sluiceEnv(l),
    stdoutPath: join(l.root, "sluice.stdout.jsonl"),
    stderrPath: join(l.root, "sluice.stderr.txt"),
    timeoutMs: o.timeoutMs,
    rssPath: o.rss ? join(l.root, "sluice.rss.txt") : undefined,
  });
  const what = `sluice --once (${l.root})`;
  if (r.timedOut) throw new Error(`${what} timed out after ${o.timeoutMs / 1000} s\n${tail(r.stderrPath)}`);
  if (r.code !== 0) {
    throw new Error(
      `${what} exited ${r.code ?? r.signal}\nstderr:\n${tail(r.stderrPath)}\nstdout:\n${tail(r.stdoutPath, 5)}`,
    );
  }
  const log = parseLog(readFileSync(r.stdoutPath, "utf8"), o.keepNames ?? false);
  const inWarehouse = o.countStored ? await o.countStored() : countFiles(l.warehouse);
  const leftInStaging = countFiles(l.staging);
  if (log.ingested !== o.expectFiles || inWarehouse !== o.expectFiles || leftInStaging !== 0) {
    throw new Error(
      `${what}: expected ${o.expectFiles} files ingested; log says ${log.ingested} ingested, ` +
        `${log.duplicates} duplicate, ${log.failed} failed, ${log.vanished} vanished; ` +
        `warehouse holds ${inWarehouse}, staging still holds ${leftInStaging}\n${tail(r.stdoutPath, 5)}`,
    );
  }
  return runFigures(r, log);
}

/**
 * The phases of one timed `--once` run, from its process timings and its parsed log.
 * @param {{ wallMs: number, spawnWall: number, exitWall: number, peakRssKiB: number | null }} r
 * @param {ReturnType<typeof parseLog>} log
 * @returns {SluiceRun}
 */
export function runFigures(r, log) {
  const rel = (/** @type {number | null} */ t) => (t === null ? null : t - r.spawnWall);
  return {
    wallMs: r.wallMs,
    startupMs: rel(log.startedAt),
    ingestMs: log.startedAt !== null && log.lastIngestAt !== null ? log.lastIngestAt - log.startedAt : null,
    tailMs: log.lastIngestAt !== null ? r.exitWall - log.lastIngestAt : null,
    firstIngestMs: rel(log.firstIngestAt),
    drainMs: log.firstIngestAt !== null && log.lastIngestAt !== null ? log.lastIngestAt - log.firstIngestAt : null,
    peakRssKiB: r.peakRssKiB,
    files: log.ingested,
    byName: log.byName,
  };
}

/**
 * sluice as a service (no --once), its log read live. For scenario e; with `serveArgs`, `sluice serve` (k).
 * @param {Layout} l
 * @param {number} stabilitySeconds
 * @param {string[] | null} [serveArgs]  run `sluice serve` with these extra options instead of `sluice run`
 */
export function startSluiceService(l, stabilitySeconds, serveArgs = /** @type {string[] | null} */ (null)) {
  const args = sluiceArgs(l, stabilitySeconds, false);
  // `sluice serve` takes every `run` option plus its own (--listen …): same command line, other subcommand.
  if (serveArgs) args.splice(1, 1, "serve", ...serveArgs);
  const child = spawn(process.execPath, args, {
    cwd: l.root,
    env: sluiceEnv(l),
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child.pid, false);
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  /** @type {LogSummary} */
  const log = parseLog("", true);
  /** @type {Array<() => void>} */
  let waiters = [];
  const rl = createInterface({ input: child.stdout });
  rl.on("line", (line) => {
    if (!line.startsWith("{")) return;
    try {
      observe(log, JSON.parse(line), true);
    } catch {
      return;
    }
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  /** @type {Promise<{code: number | null, signal: string | null}>} */
  const exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
  void exited.then(() => {
    for (const f of waiters) f();
    waiters = [];
  });
  let exitInfo = /** @type {{code: number | null, signal: string | null} | null} */ (null);
  void exited.then((e) => {
    exitInfo = e;
    untrack(child.pid);
  });
  return {
    log,
    pid: child.pid,
    stderr: () => stderr,
    /**
     * Resolves when pred(log) holds; rejects on timeout or if sluice exits first.
     * @param {(s: LogSummary) => boolean} pred
     * @param {number} timeoutMs
     * @param {string} what
     */
    async waitFor(pred, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(log)) {
        if (exitInfo)
          throw new Error(
            `sluice service exited (${exitInfo.code ?? exitInfo.signal}) while waiting for ${what}\n${stderr}`,
          );
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${stderr}`);
        await new Promise((res) => {
          const t = setTimeout(res, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(t);
            res(undefined);
          });
        });
      }
    },
    /** SIGTERM, then the exit status (sluice finishes in-flight files and exits 0). */
    async stop(timeoutMs = 35_000) {
      if (!exitInfo) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const e = await exited;
      clearTimeout(t);
      return e;
    },
  };
}

/**
 * One sluice run as the results JSON records it.
 * @param {SluiceRun} r
 */
export function sluiceRunRecord(r) {
  return {
    wall_ms: r.wallMs,
    startup_ms: r.startupMs,
    started_to_last_ingest_ms: r.ingestMs,
    last_ingest_to_exit_ms: r.tailMs,
    spawn_to_first_ingest_ms: r.firstIngestMs,
    first_to_last_ingest_ms: r.drainMs,
    peak_rss_kib: r.peakRssKiB,
    files: r.files,
  };
}

/**
 * `sluice serve` on a free loopback port (`--listen 127.0.0.1:0`), its log read live; resolves once it logged
 * `http_listening` (`address` is then the server's URL). For scenario k.
 * @param {Layout} l
 * @param {number} stabilitySeconds
 * @param {string[]} [extraArgs]  more `serve` options
 * @param {number} [timeoutMs]
 */
export async function startSluiceServe(l, stabilitySeconds, extraArgs = [], timeoutMs = 30_000) {
  const svc = startSluiceService(l, stabilitySeconds, ["--listen", "127.0.0.1:0", ...extraArgs]);
  try {
    await svc.waitFor((g) => !!g.address && g.startedAt !== null, timeoutMs, "http_listening and sluice_started");
  } catch (e) {
    await svc.stop(5_000);
    throw e;
  }
  return { ...svc, address: /** @type {string} */ (svc.log.address) };
}
