import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/**
 * The short version of `npm run torture` (the long one: --kills 300 --files 5000, see the README): random kills
 * over a mixed workload, then `sluice verify` and the stored contents against the distinct inputs.
 */

const exec = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../scripts/torture.mjs", import.meta.url));

interface Summary {
  kills: number;
  files: number;
  lost: number;
  duplicated: number;
  unexpected: number;
  left_in_staging: number;
  verify_ok: boolean;
}

async function torture(...args: string[]): Promise<Summary> {
  const { stdout } = await exec(process.execPath, [SCRIPT, ...args], { timeout: 240_000 });
  return JSON.parse(stdout.slice(0, stdout.lastIndexOf("}") + 1)) as Summary;
}

describe("torture (short)", () => {
  it.each([
    ["same", "11"],
    ["other", "12"],
  ])(
    "kills sluice at random over mixed files, warehouse on the %s filesystem: verify clean, nothing lost or doubled",
    async (warehouse, seed) => {
      const s = await torture("--kills", "8", "--files", "150", "--warehouse", warehouse, "--seed", seed);
      expect(s).toMatchObject({
        kills: 8,
        files: 150,
        lost: 0,
        duplicated: 0,
        unexpected: 0,
        left_in_staging: 0,
        verify_ok: true,
      });
    },
  );
});
