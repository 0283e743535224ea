import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { resolveServeConfig } from "../../src/config/serve-options.js";
import { runSluice } from "../support/cli.js";

/** The TOML config file (`--config`, SLUICE_CONFIG): read for real from disk, checked key by key. */

const SAMPLE = new URL("../../deploy/sluice.toml", import.meta.url).pathname;

function dir(): string {
  return mkdtempSync(join(tmpdir(), "sluice-config-"));
}

function withFile(toml: string): { cwd: string; path: string } {
  const cwd = dir();
  const path = join(cwd, "sluice.toml");
  writeFileSync(path, toml);
  return { cwd, path };
}

describe("deploy/sluice.toml", () => {
  it("loads for run and serve, and its values are what sluice runs with", () => {
    const cwd = dir();
    const run = resolveRunConfig({ config: SAMPLE }, {}, {}, cwd);
    expect(run).toMatchObject({
      input: "/var/lib/sluice/staging",
      warehouse: "/var/lib/sluice/warehouse",
      statePath: "/var/lib/sluice/state/sluice.db",
      mode: "stability",
      stabilityMs: 5000,
      scanIntervalMs: 10_000,
      ignore: ["*.log", "*.{bak,old}"],
      duckdbMemoryLimit: "512000000B",
      archive: { depth: 2, maxMembers: 10_000, maxTotalBytes: 10 * 2 ** 30, maxRatio: 200, keep: true },
    });
    const serve = resolveServeConfig({ config: SAMPLE }, {}, {}, cwd);
    expect(serve).toMatchObject({ host: "127.0.0.1", port: 8080, maxUploadBytes: 10 * 2 ** 30 });
    expect(serve.limits).toEqual({
      headersTimeoutMs: 30_000,
      bodyIdleTimeoutMs: 30_000,
      uploadTimeoutMs: 3_600_000,
      maxUploads: 64,
      maxUploadsPerClient: 8,
    });
  });

  it("is found through SLUICE_CONFIG in the environment or .env, relative to the working directory", () => {
    const { cwd } = withFile('input = "from-file"\n');
    expect(resolveRunConfig({}, { SLUICE_CONFIG: "sluice.toml" }, {}, cwd).input).toBe(join(cwd, "from-file"));
    expect(resolveRunConfig({}, {}, { SLUICE_CONFIG: "sluice.toml" }, cwd).input).toBe(join(cwd, "from-file"));
  });
});

describe("precedence: flag > environment > .env > file > default", () => {
  const { cwd, path } = withFile('concurrency = 7\nmax_attempts = 9\nscan_interval = "2s"\nonce = true\n');
  const env = { SLUICE_CONCURRENCY: "5", SLUICE_MAX_ATTEMPTS: "6" };
  const dotEnv = { SLUICE_CONCURRENCY: "4", SLUICE_SCAN_INTERVAL: "3" };

  it("each layer wins over the ones below it", () => {
    const c = resolveRunConfig({ config: path, concurrency: "2" }, env, dotEnv, cwd);
    expect(c.concurrency).toBe(2); // flag over env, .env and file
    expect(c.maxAttempts).toBe(6); // env over file
    expect(c.scanIntervalMs).toBe(3000); // .env over file
    expect(c.once).toBe(true); // file over default
    expect(c.stabilityMs).toBe(5000); // default
    expect(resolveRunConfig({ config: path }, env, dotEnv, cwd).concurrency).toBe(5);
    expect(resolveRunConfig({ config: path }, {}, dotEnv, cwd).concurrency).toBe(4);
    expect(resolveRunConfig({ config: path }, {}, {}, cwd).concurrency).toBe(7);
    expect(resolveRunConfig({}, {}, {}, cwd).concurrency).toBe(256);
  });
});

describe("mistakes in the file", () => {
  const refuse = (toml: string) => {
    const { cwd, path } = withFile(toml);
    return () => resolveRunConfig({ config: path }, {}, {}, cwd);
  };

  it("an unknown key is an error naming it, with the key it probably meant", () => {
    expect(refuse("concurency = 4\n")).toThrow(
      /sluice\.toml: unknown key "concurency" \(did you mean "concurrency"\?\)/,
    );
    expect(refuse("[s3]\nendpoint = 'http://x'\n")).toThrow(/unknown key "s3"/);
  });

  it("a wrong type names the key and the type expected", () => {
    expect(refuse('concurrency = "lots"\n')).toThrow(
      /sluice\.toml: concurrency: expected a whole number \(got "lots"\)/,
    );
    expect(refuse("recursive = 1\n")).toThrow(/sluice\.toml: recursive: expected a boolean/);
    expect(refuse('ignore = "*.log"\n')).toThrow(/sluice\.toml: ignore: expected a list of strings/);
    expect(refuse("input = 3\n")).toThrow(/sluice\.toml: input: expected a string/);
    expect(refuse('archive_max_bytes = "10 gigs"\n')).toThrow(/archive_max_bytes: expected a size such as 512MB/);
    expect(refuse('mode = "eventually"\n')).toThrow(/mode: expected one of stability, sidecar/);
  });

  it("a value out of range names the key and the bound", () => {
    expect(refuse("concurrency = 0\n")).toThrow(/sluice\.toml: concurrency: at least 1 \(got 0\)/);
    expect(refuse("concurrency = 2.5\n")).toThrow(/concurrency: a whole number/);
    expect(refuse('s3_part_size = "1MiB"\n')).toThrow(/s3_part_size: at least 5MiB/);
  });

  it("a secret or a one-invocation flag is refused, saying where it goes instead", () => {
    const { cwd, path } = withFile('api_token = "0123456789abcdef0123"\n');
    expect(() => resolveServeConfig({ config: path }, {}, {}, cwd)).toThrow(
      /"api_token" is not read from a file: use SLUICE_API_TOKEN or --api-token/,
    );
    expect(refuse("s3_secret_key = 'x'\n")).toThrow(
      /"s3_secret_key" is not read from a file: use SLUICE_S3_SECRET_KEY/,
    );
    expect(refuse("json = true\n")).toThrow(/"json" is not read from a file: use --json/);
  });

  it("invalid TOML and a missing file are errors naming the file", () => {
    expect(refuse("concurrency = \n")).toThrow(/sluice\.toml: .*line 1/);
    const cwd = dir();
    expect(() => resolveRunConfig({ config: "nope.toml" }, {}, {}, cwd)).toThrow(/config file .*nope\.toml: ENOENT/);
  });
});

describe("sluice run --config (the real executable)", () => {
  it("ingests with the file's settings, the environment overriding one, and logs an old name in use", async () => {
    const { cwd, path } = withFile(
      [
        'input = "in"',
        'warehouse = "wh"',
        'manifests = "manifests"',
        'errors = "errors"',
        'state_path = "state/sluice.db"',
        'stability_seconds = "100ms"',
        'scan_interval = "1s"',
        'ignore = ["*.{log,bak}"]',
        "",
      ].join("\n"),
    );
    mkdirSync(join(cwd, "in"));
    writeFileSync(join(cwd, "in", "a.csv"), "x,y\n1,2\n");
    writeFileSync(join(cwd, "in", "skip.log"), "ignored\n");
    const r = await runSluice(["run", "--once", "--config", path], {
      cwd,
      env: { SLUICE_WAREHOUSE: "wh-env", S3_REGION: "eu-west-1" },
      timeoutMs: 30_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.events.find((e) => e.event === "sluice_started")).toMatchObject({
      input: join(cwd, "in"),
      warehouse: join(cwd, "wh-env"),
      stability_seconds: 0.1,
    });
    expect(r.events.filter((e) => e.event === "config_warning").map((e) => e.warning)).toEqual([
      "S3_REGION is an old name: use SLUICE_S3_REGION",
    ]);
    expect(r.events.filter((e) => e.event === "file_ingested").map((e) => e.name)).toEqual(["a.csv"]);
    expect(readdirSync(join(cwd, "in"))).toEqual(["skip.log"]);
  });

  it("refuses a typo in the file with one line naming the key, before touching anything", async () => {
    const { cwd, path } = withFile('stabilty_seconds = "1s"\n');
    const r = await runSluice(["run", "--once", "--config", path], { cwd, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`sluice: ${path}: unknown key "stabilty_seconds" (did you mean "stability_seconds"?)\n`);
    expect(readdirSync(cwd)).toEqual(["sluice.toml"]);
  });
});
