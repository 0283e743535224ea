import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach } from "vitest";
import type { FileRow } from "../../src/store/row-mapping.js";
import type { LogEvent } from "./cli.js";
import { listFiles, makeSandbox, type Sandbox, sha256 } from "./sandbox.js";

/**
 * Registers an afterEach that removes every sandbox made through the returned
 * factory, so each test gets its own directories and leaves nothing behind.
 */
export function useSandboxes(): (opts?: Parameters<typeof makeSandbox>[0]) => Sandbox {
  const made: Sandbox[] = [];
  afterEach(() => {
    for (const s of made.splice(0)) s.cleanup();
  });
  return (opts) => {
    const s = makeSandbox(opts);
    made.push(s);
    return s;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Writes `data` at `dir/rel` (creating parent directories); returns the absolute path. */
export function put(dir: string, rel: string, data: string | Buffer): string {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

/** Events of one kind from a finished or running process. */
export function eventsNamed(events: readonly LogEvent[], name: string): LogEvent[] {
  return events.filter((e) => e.event === name);
}

/** The pino timestamp of an event, in epoch milliseconds. */
export function eventTime(e: LogEvent): number {
  const t = Date.parse(String(e.time));
  if (!Number.isFinite(t)) throw new Error(`event without a time: ${JSON.stringify(e)}`);
  return t;
}

/** The partition directory name for an ISO timestamp: `ingest_date=YYYY-MM-DD` (UTC). */
export function partitionFor(iso: string): string {
  return `ingest_date=${new Date(iso).toISOString().slice(0, 10)}`;
}

/** Entries left in the warehouse's temp area (must be empty after a run); [] if it does not exist. */
export function tmpLeftovers(warehouse: string): string[] {
  const dir = join(warehouse, ".sluice-tmp");
  if (!existsSync(dir)) return [];
  return readdirSync(dir);
}

/** relative path -> sha256 of every regular file below `dir` (hidden ones included). */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of listFiles(dir)) out[rel] = sha256(readFileSync(join(dir, rel)));
  return out;
}

/** A row of the `files` table, as the store itself maps it. */
export type StateRow = FileRow;

export interface StateDump {
  files: StateRow[];
  contents: { sha256: string; ingest_id: string }[];
}

/** Reads the state database (read-only); only call after the sluice process has exited. */
export function readState(statePath: string): StateDump {
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    return {
      files: db.prepare("SELECT * FROM files ORDER BY discovered_at, ingest_id").all() as StateRow[],
      contents: db.prepare("SELECT sha256, ingest_id FROM contents ORDER BY sha256").all() as {
        sha256: string;
        ingest_id: string;
      }[],
    };
  } finally {
    db.close();
  }
}

/** Deterministic pseudo-random bytes (so tests are reproducible and contents distinct). */
export function bytesOf(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let block = Buffer.from(sha256(seed), "hex");
  for (let off = 0; off < length; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, length - off));
    block = Buffer.from(sha256(block), "hex");
  }
  return out;
}

/** The sandbox's flags plus `--stability-seconds` (short by default, to keep tests fast). */
export function argsFor(s: Sandbox, ...extra: string[]): string[] {
  const hasWindow = extra.includes("--stability-seconds");
  return [...s.args, ...(hasWindow ? [] : ["--stability-seconds", "0.2"]), ...extra];
}

/**
 * Spins (synchronously, for precise timing) until process `pid` holds `path`
 * open, as seen in /proc/PID/fd. Returns false on timeout.
 */
export function spinUntilOpenBy(pid: number, path: string, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return false;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

/** Spins (synchronously) until `path` no longer exists. Returns false on timeout. */
export function spinUntilGone(path: string, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) if (!existsSync(path)) return true;
  return false;
}
