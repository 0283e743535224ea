import { execFileSync } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readManifest } from "../support/sandbox.js";
import { ensureNodeBase } from "./base-image.js";
import { type Docker, startDocker } from "./docker.js";

const REPO = join(import.meta.dirname, "..", "..");
const IMAGE = "sluice-test/sluice:ci";
const TOKEN = "container-test-token-0123456789abcdef";
const UID = 10001;

/** Why this tier cannot run here, or undefined. Under CI=true it must run: the reason is then an error. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the container tier starts dockerd and debootstraps a base: it needs root";
  for (const bin of ["dockerd", "debootstrap"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    } catch {
      return `${bin} missing: apt-get install -y docker.io debootstrap`;
    }
  }
  return undefined;
}
const skip = unavailable();
if (skip && process.env.CI === "true") throw new Error(`CI=true: the container tier cannot be skipped: ${skip}`);
if (skip) console.warn(`SKIPPED container tier: ${skip}`);

/**
 * The CA file npm uses here (a TLS-inspecting proxy's CA is in it), handed to the build as a secret only. npm's
 * `cafile` is set in the machine's global npmrc, which an npm run under another Node's prefix does not read; Node's
 * NODE_EXTRA_CA_CERTS names the same bundle then.
 */
function npmCafile(): string | undefined {
  const candidates = [process.env.npm_config_cafile, process.env.NODE_EXTRA_CA_CERTS];
  try {
    candidates.unshift(execFileSync("npm", ["config", "get", "cafile"]).toString().trim());
  } catch {
    // no npm config: the environment may still name one
  }
  return candidates.find((f): f is string => !!f && f !== "null" && existsSync(f));
}

/** A line of base64 from a certificate of `file` that Node does not ship (so it can only be there by leaking). */
function privateCaLine(file: string): string | undefined {
  const pems = readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const shipped = new Set(rootCertificates.map((c) => c.replace(/\s+/g, "")));
  const own = pems.find((p) => !shipped.has(p.replace(/\s+/g, "")));
  return own
    ?.split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[A-Za-z0-9+/]{60,}$/.test(l))[3];
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(skip)("the container image (Dockerfile)", () => {
  let docker: Docker;
  let data: string;
  let container = "";
  const cafile = npmCafile();

  beforeAll(async () => {
    docker = await startDocker();
    const t0 = Date.now();
    const base = await ensureNodeBase(docker, 24);
    const baseSeconds = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    const secret = cafile ? ["--secret", `id=npm_ca,src=${cafile}`] : [];
    await docker.run(
      ["build", "--network", "host", "--build-arg", `BASE_IMAGE=${base}`, ...secret, "-t", IMAGE, REPO],
      { timeoutMs: 1_200_000 },
    );
    const buildSeconds = (Date.now() - t1) / 1000;
    const size = Number((await docker.run(["image", "inspect", "--format", "{{.Size}}", IMAGE])).stdout.trim());
    const baseSize = Number((await docker.run(["image", "inspect", "--format", "{{.Size}}", base])).stdout.trim());
    console.log(
      `[container] base ${base} ready in ${baseSeconds.toFixed(0)} s (${(baseSize / 2 ** 20).toFixed(0)} MiB); ` +
        `sluice image built in ${buildSeconds.toFixed(0)} s: ${(size / 2 ** 20).toFixed(0)} MiB ` +
        `(${((size - baseSize) / 2 ** 20).toFixed(0)} MiB over the base)`,
    );
    data = mkdtempSync(join(tmpdir(), "sluice-container-"));
  }, 3_600_000);

  afterAll(async () => {
    if (container) await docker.run(["rm", "-f", container]).catch(() => {});
    await docker?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  }, 120_000);

  it("refuses to listen on 0.0.0.0 without a token, with one line saying why", async () => {
    const r = await docker.run(["run", "--rm", "--network", "host", IMAGE]).then(
      () => ({ code: 0, stderr: "" }),
      (e: Error) => ({ code: 1, stderr: e.message }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/token/i);
  });

  it("runs as its own user, answers /healthz, turns healthy and ingests a file dropped in its /data volume", async () => {
    chownSync(data, UID, UID);
    const port = await freePort();
    container = (
      await docker.run([
        "run",
        "-d",
        "--network",
        "host",
        "-v",
        `${data}:/data`,
        "-e",
        `SLUICE_API_TOKEN=${TOKEN}`,
        "-e",
        `SLUICE_LISTEN=127.0.0.1:${port}`,
        "-e",
        "SLUICE_STABILITY_SECONDS=0.5",
        "--health-interval",
        "1s",
        "--health-start-period",
        "1s",
        IMAGE,
      ])
    ).stdout.trim();
    const base = `http://127.0.0.1:${port}`;
    await until("/healthz", async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
    expect((await docker.run(["exec", container, "id", "-u"])).stdout.trim()).toBe(String(UID));

    // Dropped as upstream systems do: written under a temporary name, then renamed into staging.
    const body = `id,where\n1,inside a container\n2,${new Date().toISOString()}\n`;
    const staging = join(data, "staging");
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(data, "drop.tmp"), body);
    chownSync(join(data, "drop.tmp"), UID, UID);
    renameSync(join(data, "drop.tmp"), join(staging, "from-host.csv"));
    const line = await until("the manifest line", async () =>
      readManifest(join(data, "manifests")).find((l) => l.name === "from-host.csv"),
    );
    expect(line.status).toBe("ingested");
    // The container sees the volume at /data.
    expect(String(line.warehouse_path)).toMatch(/^\/data\/warehouse\//);
    expect(readFileSync(join(data, String(line.warehouse_path).slice("/data/".length)), "utf8")).toBe(body);
    const listed = await fetch(`${base}/api/v1/files`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(await listed.json())).toContain("from-host.csv");
    const health = await until("Docker's health status", async () => {
      const s = (await docker.run(["inspect", "--format", "{{.State.Health.Status}}", container])).stdout.trim();
      return s === "healthy" ? s : undefined;
    });
    expect(health).toBe("healthy");

    await docker.run(["stop", "-t", "45", container], { timeoutMs: 60_000 });
    const exit = (await docker.run(["inspect", "--format", "{{.State.ExitCode}}", container])).stdout.trim();
    expect(exit, "a clean SIGTERM stop").toBe("0");
  });

  it("keeps the build's CA out of the image: not in its history, not in its files", async () => {
    const history = (await docker.run(["history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE])).stdout;
    expect(history).not.toMatch(/BEGIN CERTIFICATE/);
    const line = cafile ? privateCaLine(cafile) : undefined;
    if (!line) return; // no private CA on this machine: nothing that could leak
    const found = await docker
      .run([
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        IMAGE,
        "-c",
        `grep -rlF '${line}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null || true`,
      ])
      .then((r) => r.stdout.trim());
    expect(found).toBe("");
  });
});
