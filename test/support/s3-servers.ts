import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real S3-protocol server on a loopback port, owned by one test file. */
export interface S3TestServer {
  readonly kind: "s3rver" | "radosgw";
  /** `http://127.0.0.1:PORT`; the port stays the same across kill()/restart(). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Whether ListMultipartUploads / AbortMultipartUpload work (s3rver implements neither). */
  readonly listsMultipartUploads: boolean;
  /** Creates a bucket (path-style, so any name the server accepts). */
  createBucket(name: string): Promise<void>;
  /** A client with the server's credentials, for looking behind the sink's back. Closed by stop(). */
  client(): S3Client;
  /** Hard outage: the S3 process is SIGKILLed; connections reset, then are refused. Data is kept. */
  kill(): Promise<void>;
  /** Brings the S3 process back on the same port with the same data; resolves when it answers. */
  restart(): Promise<void>;
  /** Freezes (SIGSTOP) the S3 process: connections are accepted but nothing answers. */
  pause(): void;
  resume(): void;
  /** Kills everything and removes the server's data. */
  stop(): Promise<void>;
}

// The machine's CA and AWS variables mean nothing to a loopback server, and AWS_* in particular
// must not reach a tool that might read them as its own configuration.
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("AWS_") || /CA_BUNDLE|CA_CERTS|SSL_CERT|_CAINFO|CERT_FILE/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Children still running when this process exits (a test worker torn down mid-test) are killed with it. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

async function killHard(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGKILL"); // a paused (SIGSTOPped) process dies from it too
  await exited;
}

function makeClient(endpoint: string, accessKeyId: string, secretAccessKey: string, region: string): S3Client {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Resolves with the HTTP status and body of GET `url`, or rejects if nothing answers within 2 s. */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2_000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * A random port below Linux's ephemeral range (32768+) with `count` free ports
 * from it: restart() binds the same port again, and no outgoing connection of
 * another test can have taken it meanwhile.
 */
async function freeFixedPort(count: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 10_000 + Math.floor(Math.random() * (32_000 - 10_000 - count));
    let free = true;
    for (let p = port; p < port + count && free; p++) free = await portFree(p);
    if (free) return port;
  }
  throw new Error("no free loopback port found");
}

// ---------------------------------------------------------------- s3rver

const S3RVER_CHILD = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url));

async function spawnS3rver(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    spawn(process.execPath, [S3RVER_CHILD, dir, String(port)], {
      stdio: ["pipe", "pipe", "pipe"],
      env: serverEnv(),
    }),
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("s3rver did not start within 15 s")), 15_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${err.message}\n${stderr}`));
    };
    child.once("exit", (code) => fail(new Error(`s3rver exited with ${code}`)));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl === -1) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ child, port: (JSON.parse(out.slice(0, nl)) as { port: number }).port });
    });
  });
}

/**
 * s3rver (a small S3 emulator on the filesystem) in a child process on a free
 * loopback port. Fast (~0.3 s) but partial: no ListMultipartUploads or
 * AbortMultipartUpload, and it verifies neither payload hashes nor checksums.
 */
export async function startS3rver(): Promise<S3TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-s3rver-"));
  const port = await freeFixedPort(1);
  let { child } = await spawnS3rver(dir, port);
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const server: S3TestServer = {
    kind: "s3rver",
    endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    region: "us-east-1",
    listsMultipartUploads: false,
    async createBucket(name) {
      await server.client().send(new CreateBucketCommand({ Bucket: name }));
    },
    client() {
      const c = makeClient(endpoint, server.accessKeyId, server.secretAccessKey, server.region);
      clients.push(c);
      return c;
    },
    kill: () => killHard(child),
    async restart() {
      await killHard(child);
      ({ child } = await spawnS3rver(dir, port));
    },
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    async stop() {
      for (const c of clients) c.destroy();
      await killHard(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// ---------------------------------------------------------------- Ceph RADOS Gateway

const CEPH_BINARIES = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph"];
const CEPH_PACKAGES = ["radosgw", "ceph-mon", "ceph-osd", "ceph-common"];

function onPath(bin: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((d) => {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let installing: Promise<string | undefined> | undefined;

async function installCeph(): Promise<string | undefined> {
  if (CEPH_BINARIES.every(onPath)) return undefined;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    return `Ceph is not installed and apt-get cannot be run here: apt-get install ${CEPH_PACKAGES.join(" ")}`;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Another worker or a dpkg run may hold the lock: wait for it rather than fail.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  try {
    await run("apt-get", [...lock, "update"], { env, timeout: 300_000, maxBuffer: 64 << 20 });
    await run("apt-get", [...lock, "install", "-y", "--no-install-recommends", ...CEPH_PACKAGES], {
      env,
      timeout: 900_000,
      maxBuffer: 64 << 20,
    });
  } catch (err) {
    return `apt-get install ${CEPH_PACKAGES.join(" ")} failed: ${(err as Error).message.slice(0, 500)}`;
  }
  const missing = CEPH_BINARIES.filter((b) => !onPath(b));
  return missing.length ? `installed Ceph but ${missing.join(", ")} still missing` : undefined;
}

/**
 * Makes sure the Ceph packages are there, installing them with apt-get as
 * root if they are not (about a minute). Resolves with why RADOS Gateway
 * tests must be skipped, or undefined when they can run. Under CI=true it
 * never resolves with a reason: it throws, so a CI run cannot pass by
 * skipping the production S3 server.
 */
export async function radosGwUnavailable(): Promise<string | undefined> {
  installing ??= installCeph();
  const reason = await installing;
  if (reason && process.env.CI === "true") throw new Error(`RADOS Gateway needed under CI: ${reason}`);
  return reason;
}

function cephConf(dir: string, fsid: string, port: number, monPort: number): string {
  // Single node, no auth between daemons (loopback only), one memstore OSD with pools of size 1;
  // the paxos intervals make map changes (pool creation at RGW start) take milliseconds, not seconds.
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
ms bind ipv6 = false
ms bind port min = ${port + 2}
ms bind port max = ${port + 40}
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
run dir = ${dir}/run
pid file = ${dir}/run/$name.pid
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = true
mon cluster log file = ${dir}/log/cluster.log
crash dir = ${dir}/crash
keyring = ${dir}/keyring
tmp dir = ${dir}/tmp
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.05
paxos min wait = 0.01

[mon]
mon data = ${dir}/mon/$cluster-$id
mon initial members = a

[osd]
osd data = ${dir}/osd/$cluster-$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd crush update on start = true
osd op num shards = 2
osd op num threads per shard = 1

[client.rgw.a]
rgw data = ${dir}/rgw
rgw frontends = beast endpoint=127.0.0.1:${port} tcp_nodelay=1
rgw thread pool size = 32
rgw dns name = 127.0.0.1
rgw enable usage log = false
`;
}

/** The last lines of the daemons' logs, for a start that failed (the directory is removed afterwards). */
function logTails(dir: string): string {
  const logDir = join(dir, "log");
  let names: string[];
  try {
    names = readdirSync(logDir);
  } catch {
    return "";
  }
  return names
    .map((n) => {
      const lines = readFileSync(join(logDir, n), "utf8").trimEnd().split("\n").slice(-5);
      return `--- ${n}\n${lines.join("\n")}`;
    })
    .join("\n");
}

interface CephCluster {
  dir: string;
  conf: string;
  port: number;
  mon?: ChildProcess;
  osd?: ChildProcess;
  rgw?: ChildProcess;
}

/** A daemon in the foreground (-f) as our child: we reap it, see it exit, and kill exactly it. */
function daemon(c: CephCluster, bin: string, args: string[]): ChildProcess {
  const log = openSync(join(c.dir, "log", `${bin}.out`), "a");
  const child = track(
    spawn(bin, ["-f", "-c", c.conf, ...args], {
      stdio: ["ignore", log, log],
      env: serverEnv(),
    }),
  );
  closeSync(log);
  return child;
}

async function ceph(c: CephCluster, args: string[]): Promise<string> {
  const { stdout } = await run("ceph", ["-c", c.conf, "--connect-timeout", "20", ...args], {
    env: serverEnv(),
    timeout: 30_000,
  });
  return stdout;
}

async function waitFor(
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
  dead?: () => string | undefined,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = dead?.();
    if (gone) throw new Error(`${what}: ${gone}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

function exited(child: ChildProcess | undefined, name: string): string | undefined {
  if (!child) return `${name} not started`;
  if (child.exitCode !== null || child.signalCode !== null)
    return `${name} exited (${child.exitCode ?? child.signalCode})`;
  return undefined;
}

async function startRgwDaemon(c: CephCluster): Promise<void> {
  c.rgw = daemon(c, "radosgw", ["-n", "client.rgw.a"]);
  const endpoint = `http://127.0.0.1:${c.port}/`;
  await waitFor(
    "radosgw answering",
    60_000,
    async () => (await httpGet(endpoint)).body.includes("ListAllMyBucketsResult"),
    () => exited(c.rgw, "radosgw"),
  );
}

async function bootCluster(c: CephCluster, accessKeyId: string, secretAccessKey: string): Promise<void> {
  const fsid = randomUUID();
  const osdUuid = randomUUID();
  const monPort = c.port + 1;
  for (const sub of ["run", "log", "mon", "osd", "rgw", "crash", "tmp"])
    mkdirSync(join(c.dir, sub), { recursive: true });
  writeFileSync(c.conf, cephConf(c.dir, fsid, c.port, monPort));
  const env = serverEnv();

  await run(
    "monmaptool",
    ["--create", "--fsid", fsid, "--addv", "a", `[v2:127.0.0.1:${monPort}]`, join(c.dir, "monmap")],
    { env },
  );
  await run("ceph-mon", ["-c", c.conf, "--mkfs", "-i", "a", "--monmap", join(c.dir, "monmap")], {
    env,
    timeout: 30_000,
  });
  c.mon = daemon(c, "ceph-mon", ["-i", "a"]);

  const osdId = (await ceph(c, ["osd", "new", osdUuid])).trim();
  mkdirSync(join(c.dir, "osd", `ceph-${osdId}`), { recursive: true });
  await run("ceph-osd", ["-c", c.conf, "-i", osdId, "--mkfs", "--osd-uuid", osdUuid], { env, timeout: 30_000 });
  c.osd = daemon(c, "ceph-osd", ["-i", osdId]);
  await waitFor(
    "osd up",
    60_000,
    async () => / 1 up/.test(await ceph(c, ["osd", "stat"])),
    () => exited(c.osd, "ceph-osd"),
  );

  // RGW creates its pools at start; radosgw-admin talks to RADOS directly and can race that, hence the retries.
  const rgwUp = startRgwDaemon(c);
  rgwUp.catch(() => {}); // awaited below; this only keeps a failure during user creation from going unhandled
  await waitFor("S3 user created", 60_000, async () => {
    const { stdout } = await run(
      "radosgw-admin",
      [
        "-c",
        c.conf,
        "user",
        "create",
        "--uid=sluice",
        "--display-name=sluice",
        `--access-key=${accessKeyId}`,
        `--secret-key=${secretAccessKey}`,
      ],
      { env, timeout: 60_000 },
    );
    return stdout.includes(`"access_key": "${accessKeyId}"`);
  });
  await rgwUp;
}

/**
 * A throw-away single-node Ceph cluster (1 mon, 1 memstore OSD) and one RADOS
 * Gateway on a free loopback port, all state under a temp dir and in RAM.
 * About 1.5–2 s to start. Call {@link radosGwUnavailable} first.
 */
export async function startRadosGw(): Promise<S3TestServer> {
  const accessKeyId = "sluice";
  const secretAccessKey = "sluice-test-secret";
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    // PORT (S3), PORT+1 (mon); the OSD picks free ones in PORT+2..PORT+40. A clash anyway: start over elsewhere.
    const port = await freeFixedPort(2);
    const dir = mkdtempSync(join(tmpdir(), "sluice-rgw-"));
    const c: CephCluster = { dir, conf: join(dir, "ceph.conf"), port };
    const killAll = async () => {
      await killHard(c.rgw);
      await killHard(c.osd);
      await killHard(c.mon);
    };
    try {
      await bootCluster(c, accessKeyId, secretAccessKey);
    } catch (err) {
      await killAll();
      lastErr = new Error(`RADOS Gateway did not start: ${(err as Error).message}\n${logTails(dir)}`);
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    const endpoint = `http://127.0.0.1:${port}`;
    const clients: S3Client[] = [];
    const server: S3TestServer = {
      kind: "radosgw",
      endpoint,
      accessKeyId,
      secretAccessKey,
      region: "us-east-1",
      listsMultipartUploads: true,
      async createBucket(name) {
        await server.client().send(new CreateBucketCommand({ Bucket: name }));
      },
      client() {
        const cl = makeClient(endpoint, accessKeyId, secretAccessKey, server.region);
        clients.push(cl);
        return cl;
      },
      kill: () => killHard(c.rgw),
      async restart() {
        await killHard(c.rgw);
        await startRgwDaemon(c);
      },
      pause: () => void c.rgw?.kill("SIGSTOP"),
      resume: () => void c.rgw?.kill("SIGCONT"),
      async stop() {
        for (const cl of clients) cl.destroy();
        // The cluster is disposable: no orderly shutdown, which would take seconds per daemon.
        await killAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return server;
  }
  throw lastErr ?? new Error("RADOS Gateway: no free port pair found");
}
