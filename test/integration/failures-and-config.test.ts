import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RunResult, runOnce, runSluice } from "../support/cli.js";
import { argsFor, eventsNamed, partitionFor, put, readState, snapshotTree, useSandboxes } from "../support/fixtures.js";
import { listFiles, readManifest, type Sandbox, sha256, sha256File, warehouseFiles } from "../support/sandbox.js";

const sandbox = useSandboxes();
const NOBODY = 65534;

/** Every entry (files and directories) below `dir`, with its type. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((rel) => `${rel}${lstatSync(join(dir, rel)).isDirectory() ? "/" : ""}`)
    .sort();
}

function expectOneErrorLine(r: RunResult): string {
  expect(r.code).toBe(2);
  expect(r.signal).toBeNull();
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(lines[0]!.startsWith("sluice: ")).toBe(true);
  return lines[0]!;
}

describe("source that cannot be read", () => {
  it("goes to the error directory after --max-attempts, while other files are ingested", async () => {
    const s = sandbox();
    chmodSync(s.root, 0o777);
    for (const d of [s.input, s.warehouse, s.manifests, s.errors, dirname(s.statePath)]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o777);
    }
    const locked = put(s.input, "locked.txt", "top,secret\n");
    chmodSync(locked, 0o000); // owned by root: unreadable for nobody
    put(s.input, "fine.txt", "fine,1\n");

    const r = await runOnce(argsFor(s, "--max-attempts", "2"), { uid: NOBODY, gid: NOBODY, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);

    const failed = eventsNamed(r.events, "file_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ path: locked, code: "SLUICE_ERR_SOURCE_UNREADABLE", attempts: 2 });
    expect(eventsNamed(r.events, "read_retry")).toHaveLength(1);
    const errorPath = String(failed[0]!.error_path);
    expect(dirname(errorPath)).toBe(s.errors);
    expect(basename(errorPath)).toMatch(/^\d{8}T\d{6}\.\d{3}Z_locked\.txt$/);
    expect(listFiles(s.errors)).toEqual([basename(errorPath), `${basename(errorPath)}.error.json`]);
    expect(readFileSync(errorPath, "utf8")).toBe("top,secret\n"); // root can still read it
    const doc = JSON.parse(readFileSync(`${errorPath}.error.json`, "utf8")) as Record<string, unknown>;
    expect(doc).toMatchObject({
      version: 1,
      ingest_id: failed[0]!.ingest_id,
      path: locked,
      code: "SLUICE_ERR_SOURCE_UNREADABLE",
      attempts: 2,
    });
    expect(String(doc.reason)).toMatch(/EACCES|permission denied/i);
    expect(Number.isNaN(Date.parse(String(doc.failed_at)))).toBe(false);

    // The readable file went through normally in the same run.
    expect(listFiles(s.input)).toEqual([]);
    const manifest = readManifest(s.manifests);
    expect(manifest.map((l) => l.name)).toEqual(["fine.txt"]);
    expect(readFileSync(manifest[0]!.warehouse_path, "utf8")).toBe("fine,1\n");
    expect(warehouseFiles(s.warehouse)).toEqual([`${partitionFor(manifest[0]!.ingested_at)}/fine.txt`]);

    const rows = new Map(readState(s.statePath).files.map((f) => [f.name, f]));
    expect(rows.get("locked.txt")).toMatchObject({
      state: "failed",
      error_code: "SLUICE_ERR_SOURCE_UNREADABLE",
      error_path: errorPath,
      attempts: 2,
      warehouse_path: null,
    });
    expect(rows.get("fine.txt")).toMatchObject({ state: "done", sha256: sha256("fine,1\n") });
  });
});

describe("--dry-run", () => {
  it("reports what it would do and changes nothing on disk", async () => {
    const s = sandbox();
    put(s.input, "a.txt", "same,content\n");
    put(s.input, "b.txt", "same,content\n");
    put(s.input, "c.txt", "other,content\n");
    put(s.input, "skip.tmp", "in progress\n");
    const before = snapshotTree(s.input);
    const statsBefore = Object.keys(before).map((n) => {
      const st = statSync(join(s.input, n));
      return [n, st.ino, st.mtimeMs, st.size];
    });

    const r = await runOnce(argsFor(s, "--dry-run"), { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "sluice_started")[0]).toMatchObject({ dry_run: true, state_path: null });

    const wouldIngest = eventsNamed(r.events, "would_ingest");
    const wouldSkip = eventsNamed(r.events, "would_skip_duplicate");
    expect(wouldIngest).toHaveLength(2);
    expect(wouldSkip).toHaveLength(1);
    expect(eventsNamed(r.events, "would_fail")).toHaveLength(0);
    for (const e of ["file_ingested", "file_duplicate", "file_failed"]) expect(eventsNamed(r.events, e)).toEqual([]);

    const same = sha256("same,content\n");
    const original = wouldIngest.find((e) => e.sha256 === same)!;
    expect(original).toBeDefined();
    expect(["a.txt", "b.txt"].map((n) => join(s.input, n))).toContain(original.path);
    expect(String(original.warehouse_path)).toBe(
      join(s.warehouse, partitionFor(String(original.time)), basename(String(original.path))),
    );
    expect(wouldSkip[0]).toMatchObject({ sha256: same, warehouse_path: original.warehouse_path });
    expect(wouldSkip[0]!.path).not.toBe(original.path);
    expect(typeof wouldSkip[0]!.duplicate_of).toBe("string");
    expect(wouldIngest.find((e) => e.path === join(s.input, "c.txt"))).toMatchObject({
      sha256: sha256("other,content\n"),
    });

    // Staging byte-identical (and untouched); no output path exists.
    expect(snapshotTree(s.input)).toEqual(before);
    expect(
      Object.keys(before).map((n) => {
        const st = statSync(join(s.input, n));
        return [n, st.ino, st.mtimeMs, st.size];
      }),
    ).toEqual(statsBefore);
    for (const p of [s.warehouse, s.manifests, s.errors, s.statePath, dirname(s.statePath)]) {
      expect(existsSync(p), p).toBe(false);
    }
    expect(tree(s.root)).toEqual(["staging/", ...Object.keys(before).map((n) => `staging/${n}`)].sort());
  });
});

describe("configuration errors", () => {
  type Case = { name: string; setup?: (s: Sandbox) => void; args: (s: Sandbox) => string[]; mentions: RegExp };
  const cases: Case[] = [
    { name: "unknown flag", args: (s) => [...s.args, "--bogus"], mentions: /--bogus/ },
    { name: "--mode bogus", args: (s) => [...s.args, "--mode", "bogus"], mentions: /--mode/ },
    {
      name: "--stability-seconds -1",
      args: (s) => [...s.args, "--stability-seconds", "-1"],
      mentions: /--stability-seconds/,
    },
    {
      name: "--stability-seconds abc",
      args: (s) => [...s.args, "--stability-seconds", "abc"],
      mentions: /--stability-seconds/,
    },
    { name: "--concurrency 0", args: (s) => [...s.args, "--concurrency", "0"], mentions: /--concurrency/ },
    { name: "--concurrency 1.5", args: (s) => [...s.args, "--concurrency", "1.5"], mentions: /--concurrency/ },
    { name: "--max-attempts 0", args: (s) => [...s.args, "--max-attempts", "0"], mentions: /--max-attempts/ },
    { name: "--log-level loud", args: (s) => [...s.args, "--log-level", "loud"], mentions: /--log-level/ },
    {
      name: "--input is a regular file",
      setup: (s) => writeFileSync(s.input, "not a directory\n"),
      args: (s) => s.args,
      mentions: /--input/,
    },
    {
      name: "--warehouse inside --input",
      args: (s) => [
        "--input",
        s.input,
        "--warehouse",
        join(s.input, "warehouse"),
        "--manifests",
        s.manifests,
        "--errors",
        s.errors,
        "--state-path",
        s.statePath,
      ],
      mentions: /--warehouse/,
    },
    {
      name: "--input inside --warehouse",
      args: (s) => [
        "--input",
        join(s.warehouse, "staging"),
        "--warehouse",
        s.warehouse,
        "--manifests",
        s.manifests,
        "--errors",
        s.errors,
        "--state-path",
        s.statePath,
      ],
      mentions: /--input/,
    },
    {
      name: "--state-path is a directory",
      setup: (s) => mkdirSync(s.statePath, { recursive: true }),
      args: (s) => s.args,
      mentions: /--state-path/,
    },
  ];

  it.each(cases)("$name: exit 2, one 'sluice: ' line, nothing created", async (c) => {
    const s = sandbox();
    c.setup?.(s);
    const before = tree(s.root);
    const r = await runSluice(["run", "--once", ...c.args(s)], { timeoutMs: 20_000 });
    const line = expectOneErrorLine(r);
    expect(line).toMatch(c.mentions);
    expect(tree(s.root)).toEqual(before);
  });

  it("names the environment variable or .env entry a bad value came from", async () => {
    const s = sandbox();
    writeFileSync(join(s.root, ".env"), "SLUICE_CONCURRENCY=lots\n");
    const before = tree(s.root);
    const fromDotEnv = await runSluice(["run", "--once", ...s.args], { cwd: s.root, timeoutMs: 20_000 });
    expect(expectOneErrorLine(fromDotEnv)).toMatch(/\.env SLUICE_CONCURRENCY/);
    const fromEnv = await runSluice(["run", "--once", ...s.args], {
      cwd: s.root,
      // A good value in the environment shadows the bad .env entry; the bad one is now the environment's.
      env: { SLUICE_CONCURRENCY: "4", SLUICE_MODE: "eventually" },
      timeoutMs: 20_000,
    });
    expect(expectOneErrorLine(fromEnv)).toMatch(/SLUICE_MODE/);
    expect(tree(s.root)).toEqual(before);
  });
});

describe("environment and .env configuration", () => {
  const DOTENV = [
    "# sluice settings for this directory",
    "SLUICE_INPUT=./in",
    "SLUICE_WAREHOUSE=./wh-dotenv",
    "SLUICE_MANIFESTS=./manifests",
    "SLUICE_ERRORS=./errors",
    "SLUICE_STATE_PATH=./state/sluice.db",
    "SLUICE_ONCE=true",
    "SLUICE_RECURSIVE=yes",
    "SLUICE_STABILITY_SECONDS=0.2",
    "SLUICE_IGNORE=*.log,*.bak",
    "",
  ].join("\n");

  it("runs entirely from a .env file in the working directory (paths relative to it)", async () => {
    const s = sandbox();
    writeFileSync(join(s.root, ".env"), DOTENV);
    put(join(s.root, "in"), "a.txt", "a\n");
    put(join(s.root, "in"), "sub/b.txt", "b\n");
    put(join(s.root, "in"), "app.log", "log\n");
    put(join(s.root, "in"), "old.bak", "bak\n");

    const r = await runSluice(["run"], { cwd: s.root, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "sluice_started")[0]).toMatchObject({
      input: join(s.root, "in"),
      warehouse: join(s.root, "wh-dotenv"),
      manifests: join(s.root, "manifests"),
      errors: join(s.root, "errors"),
      state_path: join(s.root, "state/sluice.db"),
      stability_seconds: 0.2,
      once: true,
    });
    const manifest = readManifest(join(s.root, "manifests"));
    expect(manifest.map((l) => l.name).sort()).toEqual(["a.txt", "sub/b.txt"]);
    const day = partitionFor(manifest[0]!.ingested_at);
    expect(warehouseFiles(join(s.root, "wh-dotenv"))).toEqual([`${day}/a.txt`, `${day}/sub/b.txt`]);
    expect(readFileSync(join(s.root, "wh-dotenv", day, "sub/b.txt"), "utf8")).toBe("b\n");
    expect(listFiles(join(s.root, "in"))).toEqual(["app.log", "old.bak"]);
    expect(readState(join(s.root, "state/sluice.db")).files).toHaveLength(2);
  });

  it("environment overrides .env, and flags override both", async () => {
    const s = sandbox();
    // .env asks for a 30 s window: a run that used it would not finish within the test's bound.
    writeFileSync(join(s.root, ".env"), DOTENV.replace("SLUICE_STABILITY_SECONDS=0.2", "SLUICE_STABILITY_SECONDS=30"));
    const input = join(s.root, "in");
    const env = { SLUICE_WAREHOUSE: join(s.root, "wh-env"), SLUICE_STABILITY_SECONDS: "0.25", SLUICE_IGNORE: "*.txt" };

    put(input, "one.dat", "1\n");
    put(input, "skipped.txt", "env ignore wins over .env\n");
    put(input, "app.log", ".env ignore no longer applies\n");
    const r1 = await runSluice(["run"], { cwd: s.root, env, timeoutMs: 30_000 });
    expect(r1.code, r1.stderr).toBe(0);
    expect(eventsNamed(r1.events, "sluice_started")[0]).toMatchObject({
      warehouse: join(s.root, "wh-env"),
      stability_seconds: 0.25,
    });
    expect(
      eventsNamed(r1.events, "file_ingested")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["app.log", "one.dat"]);
    expect(existsSync(join(s.root, "wh-dotenv"))).toBe(false);
    expect(listFiles(input)).toEqual(["skipped.txt"]);

    put(input, "two.dat", "2\n");
    const r2 = await runSluice(
      ["run", "--warehouse", join(s.root, "wh-flag"), "--stability-seconds", "0.3", "--ignore", "*.nothing"],
      { cwd: s.root, env, timeoutMs: 30_000 },
    );
    expect(r2.code, r2.stderr).toBe(0);
    expect(eventsNamed(r2.events, "sluice_started")[0]).toMatchObject({
      warehouse: join(s.root, "wh-flag"),
      stability_seconds: 0.3,
    });
    expect(
      eventsNamed(r2.events, "file_ingested")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["skipped.txt", "two.dat"]);
    expect(
      warehouseFiles(join(s.root, "wh-env"))
        .map((f) => basename(f))
        .sort(),
    ).toEqual(["app.log", "one.dat"]);
    expect(
      warehouseFiles(join(s.root, "wh-flag"))
        .map((f) => basename(f))
        .sort(),
    ).toEqual(["skipped.txt", "two.dat"]);
    expect(existsSync(join(s.root, "wh-dotenv"))).toBe(false);
    expect(listFiles(input)).toEqual([]);
  });
});

describe("--stability-seconds values", () => {
  it.each([
    ["0", 0],
    ["0.25", 0.25],
    [".5", 0.5],
  ])("accepts %s", async (text, seconds) => {
    const s = sandbox();
    const data = `window ${text}\n`;
    put(s.input, "w.txt", data);
    const r = await runOnce([...s.args, "--stability-seconds", text], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "sluice_started")[0]).toMatchObject({ stability_seconds: seconds });
    const ingested = eventsNamed(r.events, "file_ingested");
    expect(ingested).toHaveLength(1);
    expect(sha256File(String(ingested[0]!.warehouse_path))).toBe(sha256(data));
    expect(listFiles(s.input)).toEqual([]);
  });

  it("accepts a decimal window from the environment", async () => {
    const s = sandbox();
    put(s.input, "e.txt", "env window\n");
    const r = await runOnce(s.args, { env: { SLUICE_STABILITY_SECONDS: "0.15" }, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(eventsNamed(r.events, "sluice_started")[0]).toMatchObject({ stability_seconds: 0.15 });
    expect(eventsNamed(r.events, "file_ingested")).toHaveLength(1);
  });
});
