import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

export const SLUICE_BIN = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url));

/** One parsed JSON log line of sluice's stdout. */
export type LogEvent = Record<string, unknown> & { event?: string; level?: string; time?: string };

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: LogEvent[];
  stdout: string;
  stderr: string;
}

export interface SpawnExtra {
  env?: Record<string, string | undefined>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** An installed `sluice` executable to run instead of this checkout's bin/sluice.js under this Node. */
  command?: string;
}

/** A running `sluice` child with its parsed events, for tests that interact while it runs. */
export class SluiceProcess {
  readonly child: ChildProcess;
  readonly events: LogEvent[] = [];
  stdout = "";
  stderr = "";
  readonly exited: Promise<RunResult>;
  private listeners: (() => void)[] = [];
  private partial = "";
  private spawnFailed = false;

  constructor(args: string[], extra: SpawnExtra = {}) {
    const opts: SpawnOptions = {
      cwd: extra.cwd,
      env: { ...process.env, SLUICE_CRASH_AT: undefined, ...extra.env },
      stdio: ["ignore", "pipe", "pipe"],
    };
    if (extra.uid !== undefined) opts.uid = extra.uid;
    if (extra.gid !== undefined) opts.gid = extra.gid;
    this.child = extra.command
      ? spawn(extra.command, args, opts)
      : spawn(process.execPath, [SLUICE_BIN, ...args], opts);
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
      this.partial += chunk;
      const lines = this.partial.split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.events.push(JSON.parse(line) as LogEvent);
        } catch {
          this.events.push({ event: "unparsed", line });
        }
      }
      for (const l of this.listeners.splice(0)) l();
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      // A child that cannot start at all (EACCES on the executable, ENOENT) emits "error" and never "close".
      this.child.on("error", (err) => {
        if (this.child.pid !== undefined) return;
        this.spawnFailed = true;
        this.stderr += `spawn failed: ${err.message}`;
        for (const l of this.listeners.splice(0)) l();
        resolve({ code: null, signal: null, events: this.events, stdout: this.stdout, stderr: this.stderr });
      });
      this.child.on("close", (code, signal) => {
        for (const l of this.listeners.splice(0)) l();
        resolve({ code, signal, events: this.events, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Events with this name so far. */
  named(name: string): LogEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  /** Resolves when `predicate` holds over the events (checked on every new line), or rejects after `timeoutMs`. */
  async waitFor(predicate: (events: LogEvent[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.spawnFailed || this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`sluice exited before the condition held; stderr: ${this.stderr.slice(-2000)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; last events: ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.listeners.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until at least `n` events named `name` have been logged. */
  waitForCount(name: string, n: number, timeoutMs = 30_000): Promise<void> {
    return this.waitFor((evs) => evs.filter((e) => e.event === name).length >= n, timeoutMs);
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<RunResult> {
    this.child.kill(signal);
    return this.exited;
  }

  kill(): Promise<RunResult> {
    this.child.kill("SIGKILL");
    return this.exited;
  }
}

/** Runs sluice to completion (e.g. `run --once`), with a hard time bound so a hang fails the test. */
export async function runSluice(args: string[], extra: SpawnExtra & { timeoutMs?: number } = {}): Promise<RunResult> {
  const p = new SluiceProcess(args, extra);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), extra.timeoutMs ?? 60_000);
  try {
    const r = await p.exited;
    if (r.signal === "SIGKILL" && !extra.env?.SLUICE_CRASH_AT)
      throw new Error(`sluice hung and was killed; stderr: ${r.stderr}`);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/** `sluice run --once` on a sandbox. */
export function runOnce(args: string[], extra: SpawnExtra & { timeoutMs?: number } = {}): Promise<RunResult> {
  return runSluice(["run", "--once", ...args], extra);
}

/**
 * The sluice processes a test file starts: push each one; after every test, those still running are stopped
 * (SIGTERM, then waited for), so a failed assertion never leaves a process behind.
 */
export function useRunning(): SluiceProcess[] {
  const running: SluiceProcess[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) if (p.child.exitCode === null) await p.stop();
  });
  return running;
}
