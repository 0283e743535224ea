// Spawning measured processes: wall time from spawn to exit, optional peak RSS via GNU time,
// stdout/stderr to files (no pipe the harness has to drain while the measured process runs).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Processes started by the harness (pid → is a process-group leader), so an interrupted run ends exactly those. */
const live = new Map();

/**
 * @param {number | undefined} pid
 * @param {boolean} group
 */
export function track(pid, group) {
  if (pid) live.set(pid, group);
}

/**
 * @param {number | undefined} pid
 */
export function untrack(pid) {
  if (pid) live.delete(pid);
}

export function killLiveChildren() {
  for (const [pid, group] of live) {
    try {
      process.kill(group ? -pid : pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

export const GNU_TIME = "/usr/bin/time";

/**
 * @typedef {object} TimedResult
 * @property {number | null} code
 * @property {string | null} signal
 * @property {number} wallMs      spawn → exit, monotonic clock
 * @property {number} spawnWall   Date.now() right before spawn (to compare with log timestamps)
 * @property {number} exitWall    spawnWall + wallMs
 * @property {number | null} peakRssKiB  from GNU time (%M), when measured
 * @property {boolean} timedOut
 * @property {string} stdoutPath
 * @property {string} stderrPath
 */

/**
 * Runs one command to completion and times it.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd: string, env?: NodeJS.ProcessEnv, stdoutPath: string, stderrPath: string,
 *           timeoutMs: number, rssPath?: string }} opts  rssPath: wrap in GNU time and write %M there
 * @returns {Promise<TimedResult>}
 */
export function runTimed(cmd, args, opts) {
  const out = openSync(opts.stdoutPath, "w");
  const err = openSync(opts.stderrPath, "w");
  let file = cmd;
  let argv = args;
  if (opts.rssPath) {
    file = GNU_TIME;
    argv = ["-f", "%M", "-o", opts.rssPath, "--", cmd, ...args];
  }
  return new Promise((resolve, reject) => {
    const spawnWall = Date.now();
    const t0 = performance.now();
    const child = spawn(file, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", out, err],
      detached: true,
    });
    closeSync(out);
    closeSync(err);
    track(child.pid, true);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, opts.timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      untrack(child.pid);
      reject(e);
    });
    child.once("exit", (code, signal) => {
      const wallMs = performance.now() - t0;
      clearTimeout(timer);
      untrack(child.pid);
      let peakRssKiB = null;
      if (opts.rssPath && existsSync(opts.rssPath)) {
        const lines = readFileSync(opts.rssPath, "utf8").trim().split("\n");
        const n = Number.parseInt(lines[lines.length - 1] ?? "", 10);
        if (Number.isFinite(n)) peakRssKiB = n;
      }
      resolve({
        code,
        signal,
        wallMs,
        spawnWall,
        exitWall: spawnWall + wallMs,
        peakRssKiB,
        timedOut,
        stdoutPath: opts.stdoutPath,
        stderrPath: opts.stderrPath,
      });
    });
  });
}

/**
 * Untimed helper command (data preparation, sync, version probes). Throws on failure.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, allowFail?: boolean }} [opts]
 */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8" });
  if (!opts.allowFail && (r.error || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${r.error?.message ?? `exit ${r.status}`} ${r.stderr ?? ""}`);
  }
  return r;
}

/** Flushes every filesystem so no measured command pays for the data generator's dirty pages. */
export function syncAll() {
  sh("sync", []);
}

/**
 * Last lines of a file, for error messages.
 * @param {string} path
 * @param {number} [n]
 */
export function tail(path, n = 15) {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}
