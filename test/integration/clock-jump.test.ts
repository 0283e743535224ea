import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { useSandboxes } from "../support/fixtures.js";
import { listFiles, readManifest, sha256 } from "../support/sandbox.js";
import { detail, missing } from "../support/services.js";

/**
 * The wall clock jumps back three hours mid-run (libfaketime, whose offset
 * file is rewritten while sluice runs; the monotonic clock is left alone, as
 * NTP leaves it). Readiness is measured on the monotonic clock, so files keep
 * flowing; files after the jump land in the partition and manifest hour of
 * the new wall time, and every file is still stored and announced once.
 * Needs libfaketime: without it the file is skipped, and the global setup says so (CI fails on a skip).
 */

/** The library the global setup found (its path differs between distributions and architectures). */
const FAKETIME = detail("faketime") as string;
const sandbox = useSandboxes();
const running = useRunning();

function drop(dir: string, name: string, data: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.part`), data);
  renameSync(join(dir, `.${name}.part`), join(dir, name));
}

describe.skipIf(missing("faketime"))("the wall clock jumps backwards", () => {
  it("keeps ingesting exactly once, into the partitions and manifest hours of the clock it now reads", async () => {
    const s = sandbox();
    const offset = join(s.root, "faketime.rc");
    writeFileSync(offset, "+0\n");
    const p = new SluiceProcess(["run", ...s.args, "--stability-seconds", "0.3", "--scan-interval", "1"], {
      env: {
        LD_PRELOAD: FAKETIME,
        FAKETIME_TIMESTAMP_FILE: offset,
        FAKETIME_NO_CACHE: "1",
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      },
    });
    running.push(p);
    await p.waitForCount("sluice_started", 1);
    for (let i = 0; i < 20; i++) drop(s.input, `before-${i}.txt`, `before ${i}\n`);
    await p.waitForCount("file_ingested", 20, 30_000);
    writeFileSync(offset, "-3h\n");
    for (let i = 0; i < 20; i++) drop(s.input, `after-${i}.txt`, `after ${i}\n`);
    drop(s.input, "again.txt", "before 3\n"); // a copy of a file stored before the jump
    await p.waitForCount("file_ingested", 40, 30_000);
    await p.waitForCount("file_duplicate", 1, 30_000);
    await p.stop();

    expect(listFiles(s.input)).toEqual([]);
    const lines = readManifest(s.manifests);
    expect(lines).toHaveLength(41);
    expect(new Set(lines.map((l) => l.name)).size).toBe(41);
    const before = lines.filter((l) => l.name.startsWith("before-")).map((l) => Date.parse(l.ingested_at));
    const after = lines.filter((l) => l.name.startsWith("after-")).map((l) => Date.parse(l.ingested_at));
    // The jump is visible in what was recorded: everything after it is stamped about three hours earlier.
    expect(Math.max(...after)).toBeLessThan(Math.min(...before) - 2 * 3600_000);
    const stored = listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/"));
    expect(stored).toHaveLength(40);
    expect(lines.find((l) => l.name === "again.txt")?.sha256).toBe(sha256("before 3\n"));
    const v = await runSluice(["verify", ...s.args, "--json"]);
    expect(JSON.parse(v.stdout).problems).toEqual([]);
  });
});
