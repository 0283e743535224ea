import picomatch from "picomatch";

/**
 * Test-only crash injection. `SLUICE_CRASH_AT=after-store` kills the process
 * with SIGKILL the first time that point is reached; `after-store:5` on the
 * fifth time. Production runs never set it, and then this is a no-op.
 */
export type CrashPoint =
  | "after-discover"
  | "after-copy"
  | "after-hash"
  | "after-convert"
  | "after-member"
  | "after-outputs-placed"
  // The land step of the forward path: read and decided, nothing moved yet (a late writer's window).
  | "before-land"
  | "after-store"
  | "mid-upload"
  | "after-upload"
  | "after-stored"
  | "after-manifest"
  | "after-manifested"
  | "after-source-removed"
  | "after-quarantine-begin"
  | "after-quarantine-move"
  | "after-outputs-removed"
  // The outbox (src/notify/outbox-worker.ts): events committed with their state, not delivered yet; delivered,
  // their bookkeeping not committed yet. Passed once per event.
  | "outbox-before-deliver"
  | "outbox-after-deliver"
  // Reprocess (issue 21): new outputs placed, the switch committed, old outputs removed, the manifest line written.
  | "reprocess-after-outputs"
  | "reprocess-after-switch"
  | "reprocess-after-old-removed"
  | "reprocess-after-manifest"
  // sluice requeue (src/requeue/): the intent committed; a copy made in staging's temp name; the copy linked
  // into its staging name (the error copy still there); the error copy gone (its .error.json still there).
  | "after-requeue-intent"
  | "after-requeue-copy"
  | "after-requeue-link"
  | "after-requeue-move"
  // sluice prune: inside a batch's transaction (files rows deleted, their content rows not yet updated), and
  // after a batch committed (counted per batch).
  | "prune-mid-batch"
  | "prune-after-batch";

const spec = process.env.SLUICE_CRASH_AT;
const [target, countText] = spec ? spec.split(":") : [];
let remaining = countText ? Number(countText) : 1;

/** `times`: a step taken for several files at once passes the point once per file. */
export function crashPoint(point: CrashPoint, times = 1): void {
  if (target !== point || times <= 0) return;
  const before = remaining;
  remaining -= times;
  if (before > 0 && remaining <= 0) {
    process.stderr.write(`sluice: SLUICE_CRASH_AT=${spec} reached, killing self\n`);
    process.kill(process.pid, "SIGKILL");
  }
}

/**
 * Test-only pause, for fault-injection tests that must change a file at an
 * exact step (delete it, truncate it, swap it for a symlink between the
 * readiness check and the open, or after a file's outputs are placed and before its rename).
 * `SLUICE_PAUSE_AT=before-open` waits
 * `SLUICE_PAUSE_MS` (default 1500) there, once, after saying so on stderr.
 * Production runs never set it, and then this is a no-op.
 */
export type PausePoint =
  | "before-open"
  | "after-outputs-placed"
  // The land step of the forward path: read and decided, nothing moved yet (a late writer's window).
  | "before-land"
  // Reprocess: the new generation's outputs placed, the switch not yet committed (the dashboard's "reprocessing…").
  | "reprocess-before-switch";

let pauseAt = process.env.SLUICE_PAUSE_AT;

/** The pause to await at `point`, or null (no await, so the hot path pays nothing when no test asks). */
export function pausePoint(point: PausePoint): Promise<void> | null {
  if (pauseAt !== point) return null;
  pauseAt = undefined;
  process.stderr.write(`sluice: SLUICE_PAUSE_AT=${point} reached, pausing\n`);
  return new Promise((r) => setTimeout(r, Number(process.env.SLUICE_PAUSE_MS ?? 1500)));
}

/**
 * Test-only fault injection, for the path a bug takes: `SLUICE_FAULT_AT=decide` throws a TypeError at that step
 * for every file, `SLUICE_FAULT_AT=decide:bad-*.csv` only for files whose name (relative to staging, or an
 * archive member's path) matches the glob. Every time, not once: a bug is deterministic. Production runs never
 * set it, and then this is a comparison of two constants.
 */
export type FaultPoint = "decide" | "process" | "quarantine" | "finish";

const faultSpec = process.env.SLUICE_FAULT_AT;
const faultAt = faultSpec?.split(":")[0];
const faultGlob = faultSpec?.includes(":") ? faultSpec.slice(faultSpec.indexOf(":") + 1) : undefined;
const faultMatches = faultGlob ? picomatch(faultGlob, { dot: true, basename: !faultGlob.includes("/") }) : () => true;

export function faultPoint(point: FaultPoint, name: string): void {
  if (faultAt !== point || !faultMatches(name)) return;
  throw new TypeError(`injected fault (SLUICE_FAULT_AT=${faultSpec}) at ${point} for ${name}`);
}
