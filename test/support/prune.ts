import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { PruneReport } from "../../src/cli/commands/prune.js";
import { runSluice } from "./cli.js";
import { fixture } from "./fixture-files.js";
import { put } from "./fixtures.js";
import type { Sandbox } from "./sandbox.js";

/** Helpers of the `sluice prune` tests (test/integration/prune.test.ts, test/crash/prune-crash.test.ts). */

/** Prune reads the state and the warehouse, not staging: run's --input and --errors are not its flags. */
export function pruneArgs(s: Sandbox): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.args.length; i += 2) {
    if (s.args[i] !== "--input" && s.args[i] !== "--errors") out.push(s.args[i] as string, s.args[i + 1] as string);
  }
  return out;
}

export async function prune(s: Sandbox, ...extra: string[]): Promise<PruneReport> {
  const r = await runSluice(["prune", ...pruneArgs(s), "--json", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PruneReport;
}

export async function verifyClean(s: Sandbox): Promise<{ checked: Record<string, number> }> {
  const r = await runSluice(["verify", ...pruneArgs(s), "--json"]);
  const report = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[]; checked: Record<string, number> };
  expect(report.problems).toEqual([]);
  expect(r.code).toBe(0);
  return report;
}

/** What the test drops: the names of each content's copies. */
export function dropMixed(s: Sandbox): void {
  mkdirSync(s.input, { recursive: true });
  writeFileSync(join(s.input, "sensors.csv"), readFileSync(fixture("sensors/sensors_dirty.csv")));
  put(s.input, "a.txt", "alpha\n");
  put(s.input, "a-copy.txt", "alpha\n");
  put(s.input, "broken.json", '{"truncated": [1, 2');
  // Built once: a tar records its members' mtimes, and a second drop must carry the same bytes.
  const tar = join(s.root, "bundle.tar");
  if (!existsSync(tar)) {
    const src = join(s.root, "tar-src");
    put(src, "one.txt", "member one\n");
    put(src, "two.txt", "member two\n");
    execFileSync("tar", ["-cf", tar, "-C", src, "one.txt", "two.txt"]);
  }
  copyFileSync(tar, join(s.input, "bundle.tar"));
}
