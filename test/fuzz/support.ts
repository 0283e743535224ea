import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import fc from "fast-check";

/**
 * Shared machinery of the property-based (fuzz) suites: fixed seeds that are
 * printed, a per-case time bound (plus a watchdog for synchronous hangs that
 * no timer can interrupt), and snapshots of a temp root so a case can check
 * that nothing was written where it should not be.
 *
 * Environment knobs for deeper local runs (CI uses neither):
 * - SLUICE_FUZZ_SCALE=N multiplies every numRuns by N;
 * - SLUICE_FUZZ_SEED=S replaces every fixed seed by S (printed like the others).
 */

const SCALE = Math.max(1, Number(process.env.SLUICE_FUZZ_SCALE ?? "1") || 1);
const SEED_OVERRIDE = process.env.SLUICE_FUZZ_SEED === undefined ? null : Number(process.env.SLUICE_FUZZ_SEED);

/**
 * The fast-check parameters of one property: its fixed seed (so CI is
 * deterministic) and run count, printed before it runs so a failure can be
 * replayed with `fc.assert(prop, { seed, path })` from fast-check's report.
 */
export function params<T>(name: string, seed: number, numRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const s = SEED_OVERRIDE ?? seed;
  const n = numRuns * SCALE;
  console.log(`[fuzz] ${name}: seed=${s} numRuns=${n}`);
  return { seed: s, numRuns: n, ...extra };
}

/** A case took longer than its bound: a hang, or work out of proportion to the input. */
export class CaseTimeout extends Error {
  override name = "CaseTimeout";
}

// The watchdog: a worker thread that SIGKILLs this test process if a case overstays its hard limit. A promise
// timeout cannot fire while the main thread spins in a synchronous loop; this can, so a parser that loops forever
// fails the run (vitest reports the worker's death) instead of hanging CI. It writes the case label to fd 2 first.
const WATCHDOG_SRC = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const deadline = new Float64Array(workerData.deadline);
const label = new Uint8Array(workerData.label);
const nap = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(nap, 0, 0, 200);
  const d = deadline[0];
  if (d > 0 && Date.now() > d) {
    const end = label.indexOf(0);
    const text = Buffer.from(label.subarray(0, end < 0 ? label.length : end)).toString("utf8");
    writeSync(2, "\\n[fuzz] WATCHDOG: case still running past its hard limit (synchronous hang?): " + text + "\\n");
    process.kill(process.pid, "SIGKILL");
  }
}`;

let watchdog: { deadline: Float64Array; label: Uint8Array } | null = null;

function armWatchdog(label: string, ms: number): void {
  if (!watchdog) {
    const deadline = new SharedArrayBuffer(8);
    const labelBuf = new SharedArrayBuffer(4096);
    const w = new Worker(WATCHDOG_SRC, { eval: true, workerData: { deadline, label: labelBuf } });
    w.unref();
    watchdog = { deadline: new Float64Array(deadline), label: new Uint8Array(labelBuf) };
  }
  const bytes = Buffer.from(label.slice(0, 1000), "utf8").subarray(0, 4095);
  watchdog.label.fill(0);
  watchdog.label.set(bytes);
  watchdog.deadline[0] = Date.now() + ms;
}

function disarmWatchdog(): void {
  if (watchdog) watchdog.deadline[0] = 0;
}

/**
 * Runs one case under a time bound: rejects with CaseTimeout after `ms`
 * (an asynchronous hang: a promise that never settles, a stream that never
 * ends), and has the watchdog kill the process if the case is still running
 * `ms` + 20 s later (a synchronous hang).
 */
export async function withinTime<T>(label: string, ms: number, fn: () => Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  armWatchdog(label, ms + 20_000);
  const started = performance.now();
  let result: T;
  try {
    result = await Promise.race([
      Promise.resolve().then(fn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CaseTimeout(`${label}: no result after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    disarmWatchdog();
  }
  // A synchronous stretch longer than the bound never lets the timer win the race: check the clock too.
  const took = performance.now() - started;
  if (took > ms) throw new CaseTimeout(`${label}: took ${Math.round(took)} ms, bound ${ms} ms`);
  return result;
}

/** A fresh directory under the system temp dir; remove it with {@link removeRoot}. */
export function makeRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sluice-fuzz-${prefix}-`));
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/**
 * Every entry below `root`, relative, sorted, without following links:
 * directories end in `/`, symbolic links in {@link LINK_MARK}, other
 * non-regular entries in {@link SPECIAL_MARK} (NUL cannot be in a file name).
 */
export const LINK_MARK = "\0@";
export const SPECIAL_MARK = "\0?";

export function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir)) {
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      const st = lstatSync(join(dir, name));
      if (st.isDirectory()) {
        out.push(`${rel}/`);
        walk(join(dir, name), rel);
      } else if (st.isSymbolicLink()) out.push(`${rel}${LINK_MARK}`);
      else if (st.isFile()) out.push(rel);
      else out.push(`${rel}${SPECIAL_MARK}`);
    }
  };
  walk(root, "");
  return out.sort();
}

/** The entries of `tree(root)` that `allowed` does not accept: what a case wrote where it should not have. */
export function unexpectedEntries(root: string, allowed: (rel: string) => boolean): string[] {
  return tree(root).filter((rel) => !allowed(rel));
}

/**
 * Strings built from the pieces that break path handling, quoting and
 * parsers (traversal, separators, drive letters, NUL and other controls,
 * bidi overrides, quotes, very long runs), mixed with arbitrary text.
 */
export const HOSTILE_PIECES = [
  "..",
  "../",
  "..\\",
  "/",
  "\\",
  "//",
  "./",
  ".",
  "C:",
  "c:\\",
  "\\\\srv\\share\\",
  "/etc/passwd",
  "/tmp/",
  "\0",
  "\n",
  "\r",
  "\t",
  "\u0001",
  "\u007f",
  "\u202e",
  "\ufeff",
  "\u2028",
  "%2e%2e%2f",
  "~",
  "-",
  "--",
  " ",
  '"',
  "'",
  "`",
  "$HOME",
  ";",
  ",",
  "*",
  "?",
  "\uff0e\uff0e\uff0f",
  "cafe\u0301",
  "\ud83d\udcca",
  ".ok",
  ".tmp",
  ".part",
  ".swp",
  ".csv",
  ".tar.gz",
  ".zip",
  "a",
  "data",
  "x".repeat(120),
];

export function hostileString(opts: { maxPieces?: number } = {}): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: "binary" }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  return fc.array(piece, { maxLength: opts.maxPieces ?? 8 }).map((parts) => parts.join(""));
}

/** Splits bytes into chunks at arbitrary points: a stream reader must not depend on where chunks end. */
export function chunked(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) {
      out.push(data.subarray(at, p));
      at = p;
    }
  }
  if (at < data.length) out.push(data.subarray(at));
  return out;
}
