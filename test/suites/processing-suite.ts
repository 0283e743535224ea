import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, test } from "vitest";
import { runOnce } from "../support/cli.js";
import { argsFor, readState, useSandboxes } from "../support/fixtures.js";
import { invalidRowsInState, type ProcessedLine, readParquetFacts } from "../support/outputs.js";
import { listFiles, readManifest } from "../support/sandbox.js";
import type { SensorFacts } from "./sensor-suite.js";

/**
 * `sluice run` end to end on a dirty sensor feed and on a directory of malformed files: what the manifest, the
 * state database, the rejects file and the errors directory say afterwards. Used by the main suite (generated
 * fixtures) and the conformance tier (the shared corpus).
 */

/** The manifest line of `name`; for a duplicate, its original's (a duplicate is not processed again). */
export function lineFor(lines: ProcessedLine[], name: string): ProcessedLine {
  const l = lines.find((x) => x.name === name);
  if (!l) throw new Error(`no manifest line for ${name}`);
  if (l.status !== "duplicate") return l;
  const original = lines.find((x) => x.ingest_id === l.duplicate_of);
  if (!original) throw new Error(`no manifest line for the original of ${name}`);
  return original;
}

function stageFiles(input: string, paths: string[]): void {
  mkdirSync(input, { recursive: true });
  for (const p of paths) cpSync(p, join(input, basename(p)));
}

export function sensorPresetRunSuite(dirtyPath: string, facts: SensorFacts): void {
  const sandbox = useSandboxes();
  const name = basename(dirtyPath);

  describe("the sensor readings preset", () => {
    test(`${name}: exact aggregations, every invalid row with its reason, rejects kept`, async () => {
      const s = sandbox();
      stageFiles(s.input, [dirtyPath]);
      const r = await runOnce(argsFor(s, "--stability-seconds", "0", "--schema", "sensor-readings"), {
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const line = lineFor(readManifest(s.manifests) as ProcessedLine[], name);
      const p = line.processing;
      expect(p?.status).toBe("partial");
      expect(p?.aggregations?.row_count).toBe(facts.row_count);
      expect(p?.aggregations?.min_value).toBe(facts.min_value);
      expect(p?.aggregations?.max_value).toBe(facts.max_value);
      expect(p?.aggregations?.per_sensor_count).toEqual(facts.per_sensor_count);
      expect(p?.invalid_count).toBe(facts.invalid_row_count);
      // The manifest line carries the first 20; the state database has them all.
      expect(p?.invalid_rows?.length).toBe(20);
      expect(p?.invalid_rows_more).toBe(facts.invalid_row_count - 20);
      const inState = invalidRowsInState(s.statePath, line.ingest_id);
      expect(inState.map((x) => [x.row, x.error.split(":")[0]])).toEqual(
        facts.invalid_rows.map((x) => [x.row, x.reason]),
      );
      const parquet = p?.outputs.find((o) => o.kind === "parquet")?.path as string;
      const pq = await readParquetFacts(parquet);
      expect(pq.rows).toBe(facts.row_count);
      expect(pq.columns).toEqual(["sensor_id", "timestamp", "value"]);
      const rejects = p?.outputs.find((o) => o.kind === "rejects")?.path as string;
      expect(readFileSync(rejects, "utf8").trim().split("\n")).toHaveLength(facts.invalid_row_count);
    });
  });
}

/** `facts`: the bad/ facts file; every file it names (in `dir`) is staged at once. */
export function badNeverStopsSuite(dir: string, facts: Record<string, unknown>): void {
  const sandbox = useSandboxes();

  describe("bad input never stops the service", () => {
    test("every file in bad/ ends converted (with its invalid rows) or quarantined with a reason", async () => {
      const s = sandbox();
      const names = Object.keys(facts);
      stageFiles(
        s.input,
        names.map((n) => join(dir, n)),
      );
      const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      const st = readState(s.statePath);
      const lines = readManifest(s.manifests) as ProcessedLine[];
      const errors = listFiles(s.errors);
      for (const name of names) {
        const row = st.files.find((f) => f.name === name);
        expect(row, name).toBeDefined();
        if (row?.state === "failed") {
          const doc = errors.find((e) => e.endsWith(`_${name}.error.json`));
          expect(doc, `${name} has its .error.json`).toBeDefined();
          const reason = JSON.parse(readFileSync(join(s.errors, doc as string), "utf8"));
          expect(reason.code, name).toMatch(/^SLUICE_ERR_/);
          expect(reason.reason.length, name).toBeGreaterThan(10);
        } else {
          expect(["done", "duplicate"], name).toContain(row?.state);
          expect(lineFor(lines, name).processing, name).toBeDefined();
        }
      }
      expect(existsSync(join(s.input, "empty.csv"))).toBe(false);
      expect(listFiles(s.input)).toEqual([]);
    });
  });
}
