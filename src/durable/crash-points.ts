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
  | "after-quarantine-move";

const spec = process.env.SLUICE_CRASH_AT;
const [target, countText] = spec ? spec.split(":") : [];
let remaining = countText ? Number(countText) : 1;

export function crashPoint(point: CrashPoint): void {
  if (target !== point) return;
  remaining -= 1;
  if (remaining === 0) {
    process.stderr.write(`sluice: SLUICE_CRASH_AT=${spec} reached, killing self\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
