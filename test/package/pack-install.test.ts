import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSluice, SluiceProcess } from "../support/cli.js";
import { readManifest } from "../support/sandbox.js";
import { missing } from "../support/services.js";

const exec = promisify(execFile);
const REPO = join(import.meta.dirname, "..", "..");
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
// The installed command's `#!/usr/bin/env node` must find the Node running these tests, not the machine's default.
const ENV = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

/**
 * What a user who never sees this repository gets: `npm pack`, then `npm install -g ./sluice-*.tgz` into a prefix
 * of its own (dependencies from the registry, no dev dependencies, no build step), then the `sluice` command from
 * directories that have nothing to do with the checkout.
 */
describe.skipIf(missing("npm"))("the npm package, installed globally", () => {
  let tmp: string;
  let pack: PackResult;
  let sluice: string;
  let installed: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "sluice-pack-"));
    // --ignore-scripts: `pretest` built dist/ already, and rebuilding it here would rewrite files that other test
    // workers are running. The package's `prepare` script builds it when a publisher runs a plain `npm pack`.
    const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], {
      cwd: REPO,
      env: ENV,
      maxBuffer: 16 << 20,
    });
    pack = (JSON.parse(stdout) as PackResult[])[0] as PackResult;
    const prefix = join(tmp, "prefix");
    const elsewhere = join(tmp, "elsewhere");
    mkdirSync(elsewhere);
    await exec("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", join(tmp, pack.filename)], {
      cwd: elsewhere,
      env: ENV,
      timeout: 480_000,
      maxBuffer: 16 << 20,
    });
    sluice = join(prefix, "bin", "sluice");
    installed = join(prefix, "lib", "node_modules", "sluice");
    const files = pack.files.length;
    console.log(
      `[package] ${pack.filename}: ${files} files, ${(pack.size / 1024).toFixed(0)} KiB packed, ` +
        `${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
    );
  }, 600_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("ships the build, the dashboard, the unit file, LICENSE and .env.example; no tests, sources or bench", () => {
    const paths = pack.files.map((f) => f.path);
    for (const p of [
      "bin/sluice.js",
      "dist/cli/main.js",
      "dist/web/index.html",
      "deploy/sluice.service",
      "LICENSE",
      ".env.example",
      "README.md",
      "package.json",
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(paths.some((p) => p.startsWith("dist/web/assets/") && p.endsWith(".js"))).toBe(true);
    const unwanted = paths.filter((p) =>
      /^(test|bench|src|web|scripts|\.ci)\/|\.map$|^tsconfig|^vitest|\.test\./.test(p),
    );
    expect(unwanted).toEqual([]);
    expect(pack.size).toBeLessThan(2 << 20);
  });

  it("`sluice --version` answers from any directory", async () => {
    const { stdout } = await exec(sluice, ["--version"], { cwd: tmpdir(), env: ENV });
    expect(stdout.trim()).toBe(VERSION);
    // The installed tree holds only production dependencies.
    expect(existsSync(join(installed, "node_modules", "vitest"))).toBe(false);
    expect(existsSync(join(installed, "node_modules", "typescript"))).toBe(false);
  });

  it("`sluice run --once` in an empty directory ingests into ./data with the embedded defaults", async () => {
    const cwd = mkdtempSync(join(tmp, "run-"));
    mkdirSync(join(cwd, "data", "staging"), { recursive: true });
    writeFileSync(join(cwd, "data", "staging", "hello.csv"), "id,greeting\n1,hello\n2,world\n");
    const r = await runSluice(["run", "--once", "--stability-seconds", "0"], { command: sluice, cwd, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(cwd, "data", "staging"))).toEqual([]);
    const lines = readManifest(join(cwd, "data", "manifests"));
    expect(lines.map((l) => [l.name, l.status])).toEqual([["hello.csv", "ingested"]]);
    const day = readdirSync(join(cwd, "data", "warehouse")).filter((d) => d.startsWith("ingest_date="));
    expect(readdirSync(join(cwd, "data", "warehouse", day[0] as string)).sort()).toEqual([
      "hello.csv",
      "hello.csv.parquet",
    ]);
  });

  it("`sluice serve` answers /healthz and serves the dashboard it shipped", async () => {
    const cwd = mkdtempSync(join(tmp, "serve-"));
    const p = new SluiceProcess(["serve", "--listen", "127.0.0.1:0"], { command: sluice, cwd, env: ENV });
    try {
      await p.waitForCount("http_listening", 1, 60_000);
      const address = String(p.named("http_listening")[0]?.address);
      const health = await fetch(`${address}/healthz`);
      expect(health.status).toBe(200);
      const page = await (await fetch(`${address}/`)).text();
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
      expect(asset, page).toBeDefined();
      const script = await fetch(`${address}${asset}`);
      expect(script.status).toBe(200);
      expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    } finally {
      const r = await p.stop();
      expect(r.code, r.stderr).toBe(0);
    }
  });

  describe.skipIf(missing("systemd-analyze"))("the systemd unit it ships", () => {
    it("passes `systemd-analyze verify` against the installed command", async () => {
      const unit = readFileSync(join(installed, "deploy", "sluice.service"), "utf8");
      const dir = mkdtempSync(join(tmp, "unit-"));
      const path = join(dir, "sluice.service");
      writeFileSync(path, unit.replace(/^ExecStart=\S+/m, `ExecStart=${sluice}`));
      const r = await exec("systemd-analyze", ["verify", path], { env: ENV }).catch((e: { stderr: string }) => e);
      expect("stderr" in r ? r.stderr : "").toBe("");
    });

    it("stops slower than sluice's shutdown bound, restarts on failure, runs as its own user", () => {
      const unit = readFileSync(join(REPO, "deploy", "sluice.service"), "utf8");
      const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(unit)?.[1];
      // Grace (default 30 s) plus the 10 s sluice waits for aborted work before it gives up and exits.
      expect(Number(value("TimeoutStopSec"))).toBeGreaterThan(30 + 10);
      expect(value("Restart")).toBe("on-failure");
      expect(value("User")).toBe("sluice");
      expect(value("NoNewPrivileges")).toBe("yes");
      expect(value("ProtectSystem")).toBe("strict");
      // V8 needs writable executable pages: this option would stop Node from starting.
      expect(value("MemoryDenyWriteExecute")).toBeUndefined();
    });

    it("its environment is a configuration sluice runs with (paths under the state directory)", async () => {
      const unit = readFileSync(join(REPO, "deploy", "sluice.service"), "utf8");
      const root = mkdtempSync(join(tmp, "var-lib-sluice-"));
      const env: Record<string, string> = {};
      for (const m of unit.matchAll(/^Environment=([A-Z0-9_]+)=(.*)$/gm)) {
        env[m[1] as string] = (m[2] as string).replace("/var/lib/sluice", root);
      }
      expect(Object.keys(env)).toContain("SLUICE_INPUT");
      for (const v of Object.values(env)) expect(v.startsWith(root)).toBe(true);
      mkdirSync(env.SLUICE_INPUT as string, { recursive: true });
      writeFileSync(join(env.SLUICE_INPUT as string, "unit.txt"), "from the unit's configuration\n");
      const r = await runSluice(["run", "--once", "--stability-seconds", "0"], {
        command: sluice,
        cwd: root,
        env: { ...ENV, ...env },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(readManifest(env.SLUICE_MANIFESTS as string).map((l) => l.name)).toEqual(["unit.txt"]);
    });
  });
});
