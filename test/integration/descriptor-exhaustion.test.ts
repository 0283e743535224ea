import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { bytesOf, readState, sleep, useSandboxes } from "../support/fixtures.js";
import { listFiles, readManifest, type Sandbox } from "../support/sandbox.js";

/**
 * Issue 18, V1: running out of descriptors is never a file's fault. A running sluice has its descriptor limit
 * lowered for real (prlimit on its pid, the soft limit a few descriptors above what it holds idle) while files
 * of every path arrive: small ones (the batch), larger ones (hashed per file), CSVs (converted by DuckDB) and a
 * gzip archive. Every open fails with EMFILE somewhere; nothing may be failed or quarantined, and once the limit
 * is raised again every file is ingested exactly once.
 */

const sandbox = useSandboxes();
const running = useRunning();

function drop(s: Sandbox, name: string, data: string | Buffer): void {
  writeFileSync(join(s.input, `.${name}.part`), data);
  renameSync(join(s.input, `.${name}.part`), join(s.input, name));
}

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function setSoftLimit(pid: number, n: number): void {
  // Soft limit only: raising it again needs no privilege (the hard limit stays as it was).
  execFileSync("prlimit", ["--pid", String(pid), `--nofile=${n}:`]);
}

describe("a full descriptor table pauses ingestion; no file fails", () => {
  // How many descriptors are left free decides where they run out first: the opens of sources, the hashing,
  // DuckDB (which aborted the process on EMFILE), the archive reader, the manifest, the directory fsyncs. Without
  // conversion, the JS-side paths alone.
  it.each([
    [4, "--convert"],
    [12, "--convert"],
    [24, "--convert"],
    [4, "--no-convert"],
    [2, "--no-convert"],
  ])(
    "%i descriptors left free (%s): every file is ingested once the limit is raised again",
    async (headroom, convert) => {
      const s = sandbox();
      mkdirSync(s.input, { recursive: true });
      const p = new SluiceProcess([
        "run",
        ...s.args,
        "--stability-seconds",
        "0.2",
        "--scan-interval",
        "1",
        "--concurrency",
        "64",
        ...(convert === "--no-convert" ? ["--no-convert"] : []),
      ]);
      running.push(p);
      await p.waitForCount("sluice_ready", 1);
      const pid = p.child.pid as number;
      // The limit is set from the descriptors open at rest: read until two reads 200 ms apart agree (a start-up
      // scan or a timer holding one more for a moment would otherwise leave more room than the case means).
      let open = openDescriptors(pid);
      for (let k = 0; k < 20; k++) {
        await sleep(200);
        const again = openDescriptors(pid);
        if (again === open) break;
        open = Math.min(open, again);
      }
      setSoftLimit(pid, open + headroom);

      const names: string[] = [];
      for (let i = 0; i < 20; i++) {
        drop(s, `rows${i}.csv`, `id,value\n${i},a\n${i + 1},b\n`);
        drop(s, `large${i}.bin`, bytesOf(`large${i}`, 200_000));
        drop(s, `small${i}.txt`, `small ${i}\n`);
        names.push(`rows${i}.csv`, `large${i}.bin`, `small${i}.txt`);
      }
      execFileSync("sh", [
        "-c",
        'printf "id,v\\n1,x\\n" > "$1/inner.csv" && gzip -c "$1/inner.csv" > "$2"',
        "sh",
        s.root,
        join(s.input, "packed.csv.gz"),
      ]);
      names.push("packed.csv.gz");

      // The pressure is real: opens fail with EMFILE, and are retried rather than held against the files.
      await p.waitFor(
        (evs) => evs.filter((e) => e.event === "write_retry" && e.code === "EMFILE").length >= 10,
        30_000,
      );
      await sleep(3000);
      // Still running: DuckDB, started without room, aborted the whole process (SIGABRT).
      expect([p.child.exitCode, p.child.signalCode], p.stderr).toEqual([null, null]);
      expect(p.named("file_failed")).toEqual([]);
      expect(listFiles(s.errors)).toEqual([]);

      setSoftLimit(pid, 4096);
      // Done when the state says so (every file and the archive's member): log lines are the process's word.
      const done = () => {
        const rows = readState(s.statePath).files;
        return rows.length === names.length + 1 && rows.every((f) => f.state === "done");
      };
      for (let t = 0; t < 900 && !done(); t++) await sleep(100);
      expect(p.named("file_failed")).toEqual([]);
      expect(listFiles(s.errors)).toEqual([]);
      expect(listFiles(s.input)).toEqual([]);
      const lines = readManifest(s.manifests);
      expect(lines).toHaveLength(names.length + 1);
      expect(new Set(lines.map((l) => l.ingest_id)).size).toBe(lines.length);
      expect(readState(s.statePath).files.every((f) => f.state === "done")).toBe(true);
      await p.stop();
      const v = await runSluice(["verify", ...s.args, "--json"]);
      expect(v.code, v.stdout).toBe(0);
    },
  );
});
