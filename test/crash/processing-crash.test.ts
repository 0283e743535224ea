import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { fixtureFacts, stageFixtures } from "../support/fixture-files.js";
import { argsFor, readState, useSandboxes } from "../support/fixtures.js";
import { type ProcessedLine, readParquetFacts } from "../support/outputs.js";
import { listFiles, readManifest, type Sandbox, sha256File } from "../support/sandbox.js";

/**
 * SIGKILL while a file is converted and while an archive is expanded, then a
 * clean restart: every member recorded once, one manifest line per file or
 * member, no partial Parquet anywhere a reader looks, no temp file left.
 */

const sandbox = useSandboxes();
const FILES = [
  "archives/normal/bundle.tar.gz",
  "archives/normal/outer_with_inner_archives.tar.gz",
  "tables/csv/weather.csv",
  "sensors/sensors_dirty.csv",
];
const SENSORS_INVALID = fixtureFacts<{ invalid_row_count: number }>(
  "sensors/sensors_dirty.expected.json",
).invalid_row_count;

/** A schema file whose one feed matches only the sensor files: the other tables are converted without validation. */
function sensorFeed(s: Sandbox): string {
  const path = join(s.root, "feeds.json");
  const feed = {
    name: "sensors",
    match: ["sensors_*.csv"],
    columns: [
      { name: "sensor_id", type: "string", nonEmpty: true },
      { name: "timestamp", type: "timestamp" },
      { name: "value", type: "number" },
    ],
    keyColumn: "sensor_id",
  };
  writeFileSync(path, JSON.stringify({ feeds: [feed] }));
  return path;
}

async function crashThenRecover(s: Sandbox, point: string): Promise<void> {
  const flags = argsFor(s, "--stability-seconds", "0", "--concurrency", "2", "--schema", sensorFeed(s));
  const crashed = await runOnce(flags, { env: { SLUICE_CRASH_AT: point }, timeoutMs: 120_000 });
  expect(crashed.signal, `${point} was not reached: ${crashed.stderr}`).toBe("SIGKILL");
  const resumed = await runOnce(flags, { timeoutMs: 120_000 });
  expect(resumed.code, resumed.stderr).toBe(0);
}

async function checkResult(s: Sandbox): Promise<void> {
  const { files } = readState(s.statePath);
  const lines = readManifest(s.manifests) as ProcessedLine[];
  for (const f of files) {
    expect(["done", "duplicate"], `${f.name} (${f.member_path}) is ${f.state}`).toContain(f.state);
    expect(
      lines.filter((l) => l.ingest_id === f.ingest_id),
      `${f.name} has one line`,
    ).toHaveLength(1);
  }
  expect(lines).toHaveLength(files.length);
  // bundle.tar.gz: 8 members; outer: 3 members, of which nested.zip (8) and single.csv.gz (1) expand.
  expect(files.filter((f) => f.archive_ingest_id !== null)).toHaveLength(8 + 3 + 8 + 1);
  // Each stored content once among the raw files.
  const outputs = new Set(
    files.flatMap((f) => (f.processing ? JSON.parse(f.processing).outputs.map((o: { path: string }) => o.path) : [])),
  );
  const raw = listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/") && !outputs.has(join(s.warehouse, f)));
  const shas = raw.map((f) => sha256File(join(s.warehouse, f)));
  expect(new Set(shas).size).toBe(shas.length);
  expect(raw.length).toBe(files.filter((f) => f.state === "done").length);
  // Every output is whole (DuckDB reads it back) and nothing half-written is visible.
  for (const o of outputs) if (String(o).endsWith(".parquet")) await readParquetFacts(String(o));
  expect(listFiles(s.warehouse).filter((f) => /\.tmp$|\.sluice-tmp\//.test(f))).toEqual([]);
  expect(listFiles(s.root).filter((f) => f.startsWith("errors/"))).toEqual([]);
  const sensors = lines.find((l) => l.name === "sensors_dirty.csv");
  expect(sensors?.processing?.invalid_count).toBe(SENSORS_INVALID);
  expect(
    readFileSync(sensors?.processing?.outputs[1]?.path as string, "utf8")
      .trim()
      .split("\n"),
  ).toHaveLength(SENSORS_INVALID);
}

describe("SIGKILL during processing", () => {
  for (const point of [
    "after-member:5",
    "after-member:14",
    "after-convert:2",
    "after-convert:9",
    "after-outputs-placed:2",
    // A member's manifest line is appended, then the kill before `manifested`: the replay must not append it again.
    "after-manifest:3",
    "after-manifest:6",
  ]) {
    it(`recovers from ${point}`, async () => {
      const s = sandbox();
      stageFixtures(s.input, FILES);
      await crashThenRecover(s, point);
      await checkResult(s);
    });
  }
});

describe("SIGKILL during expansion with --no-keep-archives", () => {
  for (const point of ["after-member:3", "after-manifest:2", "after-manifest:9"]) {
    it(`recovers from ${point}: members once, the archive recorded without its bytes`, async () => {
      const s = sandbox();
      stageFixtures(s.input, ["archives/normal/bundle.tar.gz"]);
      const flags = argsFor(s, "--stability-seconds", "0", "--no-keep-archives");
      const crashed = await runOnce(flags, { env: { SLUICE_CRASH_AT: point }, timeoutMs: 120_000 });
      expect(crashed.signal, `${point} was not reached: ${crashed.stderr}`).toBe("SIGKILL");
      const resumed = await runOnce(flags, { timeoutMs: 120_000 });
      expect(resumed.code, resumed.stderr).toBe(0);
      const { files } = readState(s.statePath);
      const lines = readManifest(s.manifests) as ProcessedLine[];
      expect(files).toHaveLength(9);
      for (const f of files) {
        expect(f.state, f.name).toBe("done");
        expect(lines.filter((l) => l.ingest_id === f.ingest_id)).toHaveLength(1);
      }
      expect(files.find((f) => f.archive_ingest_id === null)?.warehouse_path).toBeNull();
      const raw = listFiles(s.warehouse).filter((f) => !f.endsWith(".parquet"));
      expect(raw).toHaveLength(8);
      expect(listFiles(s.input)).toEqual([]);
    });
  }
});

describe("SIGKILL while archive members land in a warehouse on another filesystem", () => {
  for (const point of ["after-store:2", "after-store:4"]) {
    it(`recovers from ${point}: the member's copy from before the kill is its own, not a foreign file`, async () => {
      const other = mkdtempSync("/dev/shm/sluice-crash-wh-");
      try {
        const s = sandbox({ warehouse: join(other, "warehouse") });
        stageFixtures(s.input, ["archives/normal/bundle.tar.gz"]);
        const flags = argsFor(s, "--stability-seconds", "0");
        const crashed = await runOnce(flags, { env: { SLUICE_CRASH_AT: point }, timeoutMs: 120_000 });
        expect(crashed.signal, `${point} was not reached: ${crashed.stderr}`).toBe("SIGKILL");
        expect((await runOnce(flags, { timeoutMs: 120_000 })).code).toBe(0);
        // verify: every stored file once, nothing in the warehouse the state does not know (no orphaned copy).
        const v = await runSluice(["verify", ...s.args, "--json"]);
        expect(JSON.parse(v.stdout).problems).toEqual([]);
        expect(v.code).toBe(0);
        const raw = listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/") && !f.endsWith(".parquet"));
        expect(raw).toHaveLength(9);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    });
  }
});

describe("SIGKILL after an archive member's manifest line, before its `done` commit", () => {
  // The member's row is `stored` (no `manifested` commit: nothing to release), its line already on disk, and the
  // archive's replay finishes it: it must not write the line a second time.
  for (const point of ["after-manifest:2", "after-manifest:5"]) {
    it(`recovers from ${point} with one line per member`, async () => {
      const s = sandbox();
      stageFixtures(s.input, ["archives/normal/bundle.tar.gz"]);
      const flags = argsFor(s, "--stability-seconds", "0");
      const crashed = await runOnce(flags, { env: { SLUICE_CRASH_AT: point }, timeoutMs: 120_000 });
      expect(crashed.signal, `${point} was not reached: ${crashed.stderr}`).toBe("SIGKILL");
      const resumed = await runOnce(flags, { timeoutMs: 120_000 });
      expect(resumed.code, resumed.stderr).toBe(0);
      const { files } = readState(s.statePath);
      const lines = readManifest(s.manifests);
      expect(files).toHaveLength(9);
      for (const f of files) {
        expect(["done", "duplicate"], f.name).toContain(f.state);
        expect(
          lines.filter((l) => l.ingest_id === f.ingest_id),
          `${f.name} has one line`,
        ).toHaveLength(1);
      }
      expect(lines).toHaveLength(9);
    });
  }
});
