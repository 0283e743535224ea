import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { radosGwUnavailable } from "../support/s3-servers.js";
import { missing } from "../support/services.js";

/**
 * The short version of `npm run torture -- --cluster N --warehouse s3` (the long one and its figures: README):
 * three nodes on one throwaway PostgreSQL, one shared staging directory and one bucket prefix, SIGKILLed and
 * restarted at random, the database crashed and restarted, the S3 server killed and restarted. Then every
 * distinct content must be one object (none lost, none twice), every name one manifest line, no file failed,
 * no multipart upload left open, no node exited on its own, and `sluice verify` clean.
 */

const exec = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../scripts/torture.mjs", import.meta.url));

interface Summary {
  s3_server: string;
  files: number;
  kills: number;
  db_outages: number;
  s3_outages: number;
  drained: boolean;
  lost: number;
  duplicated: number;
  unexpected: number;
  manifest_missing: number;
  manifest_doubled: number;
  manifest_ingested_twice: number;
  left_in_staging: number;
  failed: number;
  quarantined: number;
  open_uploads: number | null;
  unexpected_exits: unknown[];
  verify_ok: boolean;
}

let skip: string | undefined;
let s3 = "radosgw";

beforeAll(async () => {
  skip = missing("postgres-binaries");
  // Without Ceph the run still checks exactly-once on s3rver; only open multipart uploads go unchecked.
  if ((await radosGwUnavailable()) !== undefined) s3 = "s3rver";
}, 600_000);

describe("cluster torture (short)", () => {
  it("3 nodes, SIGKILLs, a database crash, an S3 outage: every file once, verify clean", async (ctx) => {
    if (skip) ctx.skip(skip);
    const args = ["--cluster", "3", "--warehouse", "s3", "--s3", s3, "--kills", "8", "--files", "100"];
    args.push("--db-outages", "1", "--s3-outages", "1", "--lease-seconds", "2", "--seed", "31");
    args.push("--large-files", "1", "--large-max-mib", "24");
    const { stdout } = await exec(process.execPath, [SCRIPT, ...args], { timeout: 240_000 }).catch(
      (err: { stdout?: string; stderr?: string }) => {
        // A run that is not clean exits 1 with its summary: the assertions below say what broke.
        if (err.stdout?.includes('"seed"')) return { stdout: err.stdout };
        throw err;
      },
    );
    const s = JSON.parse(stdout.slice(0, stdout.lastIndexOf("}") + 1)) as Summary;
    expect(s).toMatchObject({
      s3_server: s3,
      files: 100,
      kills: 8,
      db_outages: 1,
      s3_outages: 1,
      large_files: 1,
      uploads_aborted_under_a_working_node: 0,
      drained: true,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      manifest_missing: 0,
      manifest_doubled: 0,
      manifest_ingested_twice: 0,
      left_in_staging: 0,
      failed: 0,
      quarantined: 0,
      unexpected_exits: [],
      verify_ok: true,
    });
    expect(s.open_uploads).toBe(s3 === "radosgw" ? 0 : null);
  }, 300_000);
});
