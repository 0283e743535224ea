import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pipelineDirs, runOnceInProcess } from "../fuzz/pipeline-harness.js";

/**
 * `sluice_stage_duration_seconds` counts one observation per file per step of the forward path, whether the file
 * took the step in a batch of small files or alone (a large file is a batch of one).
 */
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe("stage metrics", () => {
  it("observe every file once per step: hash, decide, store, finish", async () => {
    const root = mkdtempSync(join(tmpdir(), "sluice-stage-metrics-"));
    roots.push(root);
    const d = pipelineDirs(root);
    mkdirSync(d.input, { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(d.input, `s${i}.bin`), randomBytes(512));
    writeFileSync(join(d.input, "large.bin"), randomBytes(256 * 1024));
    const r = await runOnceInProcess(d);
    expect(r.timedOut).toBe(false);
    expect(r.events.filter((e) => e.event === "file_ingested")).toHaveLength(21);
    for (const stage of ["hash", "decide", "store", "finish"]) {
      expect(r.metrics, stage).toContain(`sluice_stage_duration_seconds_count{stage="${stage}"} 21`);
    }
  });
});
