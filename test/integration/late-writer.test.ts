import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SluiceProcess, useRunning } from "../support/cli.js";
import { argsFor, readState, sleep, useSandboxes } from "../support/fixtures.js";
import { readManifest, sha256, warehouseFiles } from "../support/sandbox.js";

/**
 * A writer that keeps writing to a small file after it was judged ready (stability window passed, hashed,
 * decided) and before it is moved: the batch lane's one lstat of the landed name sees the new size, and the
 * file is rehashed on its own, so what is recorded is what the warehouse holds, never the stale hash.
 */

const sandbox = useSandboxes();
const running = useRunning();

describe("a small file written to after it was judged ready (batch lane)", () => {
  it("is recorded with the hash of the bytes that landed", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    const path = join(s.input, "late.dat");
    const first = Buffer.alloc(4096, 1);
    writeFileSync(path, first);
    // A second, untouched file in the same batch goes on with the batch.
    writeFileSync(join(s.input, "calm.dat"), Buffer.alloc(4096, 2));
    const p = new SluiceProcess(["run", "--once", "--stability-seconds", "0", ...argsFor(s)], {
      env: { SLUICE_PAUSE_AT: "before-land", SLUICE_PAUSE_MS: "1500" },
    });
    running.push(p);
    for (let i = 0; i < 1500 && !p.stderr.includes("SLUICE_PAUSE_AT=before-land reached"); i++) await sleep(20);
    expect(p.stderr).toContain("SLUICE_PAUSE_AT=before-land reached");
    // Same inode, more bytes, a later mtime: the late writer.
    await sleep(20);
    appendFileSync(path, "late bytes\n");
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    const now = Buffer.concat([first, Buffer.from("late bytes\n")]);
    const rows = readState(s.statePath).files;
    const late = rows.find((f) => f.name === "late.dat");
    expect(late?.state).toBe("done");
    expect(late?.sha256).toBe(sha256(now));
    expect(late?.size).toBe(now.length);
    const stored = warehouseFiles(s.warehouse).filter((f) => f.endsWith("late.dat"));
    expect(stored).toHaveLength(1);
    expect(sha256(readFileSync(join(s.warehouse, stored[0] as string)))).toBe(sha256(now));
    const lines = readManifest(s.manifests).filter((l) => l.name === "late.dat");
    expect(lines.map((l) => l.sha256)).toEqual([sha256(now)]);
    expect(rows.find((f) => f.name === "calm.dat")?.state).toBe("done");
    expect(r.stdout).toContain("file_changed_after_ready");
  });
});
