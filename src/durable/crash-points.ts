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
  | "after-store"
  | "mid-upload"
  | "after-upload"
  | "after-stored"
  | "after-manifest"
  | "after-manifested"
  | "after-source-removed"
  | "after-quarantine-begin"
  | "after-quarantine-move"
  | "after-outputs-removed";

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
export type PausePoint = "before-open" | "after-outputs-placed";

let pauseAt = process.env.SLUICE_PAUSE_AT;

/** The pause to await at `point`, or null (no await, so the hot path pays nothing when no test asks). */
export function pausePoint(point: PausePoint): Promise<void> | null {
  if (pauseAt !== point) return null;
  pauseAt = undefined;
  process.stderr.write(`sluice: SLUICE_PAUSE_AT=${point} reached, pausing\n`);
  return new Promise((r) => setTimeout(r, Number(process.env.SLUICE_PAUSE_MS ?? 1500)));
}
