// Real S3-protocol servers on loopback ports: s3rver (a small emulator) and a throw-away Ceph RADOS Gateway.
// Plain JavaScript (JSDoc types; the exact declarations are in s3-servers.d.mts) so that the tests (through
// s3-servers.ts) and the benchmark (bench/lib/s3-scenario.mjs, run by plain node) share one implementation.
import { execFile, spawn } from "node:child_process";
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

/** @typedef {import("node:child_process").ChildProcess} ChildProcess */
/** @typedef {import("./s3-servers.d.mts").S3TestServer} S3TestServer */
/** @typedef {import("./s3-servers.d.mts").RadosGwOptions} RadosGwOptions */

const run = promisify(execFile);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The machine's CA and AWS variables mean nothing to a loopback server, and AWS_* in particular
 * must not reach a tool that might read them as its own configuration.
 * @returns {NodeJS.ProcessEnv}
 */
function serverEnv() {
  /** @type {NodeJS.ProcessEnv} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("AWS_") || /CA_BUNDLE|CA_CERTS|SSL_CERT|_CAINFO|CERT_FILE/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/**
 * Children still running when this process exits (a test worker torn down mid-test) are killed with it.
 * @type {Set<ChildProcess>}
 */
const live = new Set();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/**
 * @param {ChildProcess} child
 * @returns {ChildProcess}
 */
function track(child) {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/**
 * @param {ChildProcess | undefined} child
 * @returns {Promise<void>}
 */
async function killHard(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  /** @type {Promise<void>} */
  const exited = new Promise((r) => child.once("exit", () => r()));
  child.kill("SIGKILL"); // a paused (SIGSTOPped) process dies from it too
  await exited;
}

/**
 * @param {string} endpoint
 * @param {string} accessKeyId
 * @param {string} secretAccessKey
 * @param {string} region
 * @returns {S3Client}
 */
function makeClient(endpoint, accessKeyId, secretAccessKey, region) {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/**
 * Resolves with the HTTP status and body of GET `url`, or rejects if nothing answers within 2 s.
 * @param {string} url
 * @returns {Promise<{ status: number, body: string }>}
 */
function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2_000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (/** @type {string} */ d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function portFree(port) {
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
 * @param {number} count
 * @returns {Promise<number>}
 */
async function freeFixedPort(count) {
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

/**
 * @param {string} dir
 * @param {number} port
 * @returns {Promise<{ child: ChildProcess, port: number }>}
 */
async function spawnS3rver(dir, port) {
  const child = track(
    spawn(process.execPath, [S3RVER_CHILD, dir, String(port)], {
      stdio: ["pipe", "pipe", "pipe"],
      env: serverEnv(),
    }),
  );
  let stderr = "";
  child.stderr?.on("data", (/** @type {Buffer} */ d) => {
    stderr += d.toString();
  });
  return await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("s3rver did not start within 15 s")), 15_000);
    const fail = (/** @type {Error} */ err) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${err.message}\n${stderr}`));
    };
    child.once("exit", (code) => fail(new Error(`s3rver exited with ${code}`)));
    child.stdout?.on("data", (/** @type {Buffer} */ d) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl === -1) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ child, port: /** @type {{ port: number }} */ (JSON.parse(out.slice(0, nl))).port });
    });
  });
}

/**
 * s3rver (a small S3 emulator on the filesystem) in a child process on a free
 * loopback port. Fast (~0.3 s) but partial: no ListMultipartUploads or
 * AbortMultipartUpload, and it verifies neither payload hashes nor checksums.
 * @returns {Promise<S3TestServer>}
 */
export async function startS3rver() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-s3rver-"));
  const port = await freeFixedPort(1);
  let { child } = await spawnS3rver(dir, port);
  const endpoint = `http://127.0.0.1:${port}`;
  /** @type {S3Client[]} */
  const clients = [];
  /** @type {S3TestServer} */
  const server = {
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

/**
 * @param {string} bin
 * @returns {boolean}
 */
function onPath(bin) {
  return (process.env.PATH ?? "").split(delimiter).some((d) => {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** @type {Promise<string | undefined> | undefined} */
let installing;

/**
 * @param {boolean} install  false: only look, never run apt-get
 * @returns {Promise<string | undefined>}
 */
async function installCeph(install) {
  if (CEPH_BINARIES.every(onPath)) return undefined;
  if (!install) {
    const missing = CEPH_BINARIES.filter((b) => !onPath(b));
    return `Ceph is not installed (${missing.join(", ")} missing) and installing it was not asked for: apt-get install ${CEPH_PACKAGES.join(" ")}`;
  }
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
    return `apt-get install ${CEPH_PACKAGES.join(" ")} failed: ${/** @type {Error} */ (err).message.slice(0, 500)}`;
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
 * @param {{ install?: boolean }} [options]  install: false only checks that the binaries are there
 * @returns {Promise<string | undefined>}
 */
export async function radosGwUnavailable(options = {}) {
  /** @type {string | undefined} */
  let reason;
  if (options.install === false) reason = await installCeph(false);
  else {
    installing ??= installCeph(true);
    reason = await installing;
  }
  if (reason && process.env.CI === "true") throw new Error(`RADOS Gateway needed under CI: ${reason}`);
  return reason;
}

/** The memstore OSD's capacity unless told otherwise (RAM, allocated as objects are written). */
const DEFAULT_MEMSTORE_BYTES = 4294967296;

/**
 * @param {string} dir
 * @param {string} fsid
 * @param {number} port
 * @param {number} monPort
 * @param {number} memstoreBytes
 * @returns {string}
 */
function cephConf(dir, fsid, port, monPort, memstoreBytes) {
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
memstore device bytes = ${memstoreBytes}
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

/**
 * The last lines of the daemons' logs, for a start that failed (the directory is removed afterwards).
 * @param {string} dir
 * @returns {string}
 */
function logTails(dir) {
  const logDir = join(dir, "log");
  /** @type {string[]} */
  let names;
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

/**
 * @typedef {object} CephCluster
 * @property {string} dir
 * @property {string} conf
 * @property {number} port
 * @property {ChildProcess} [mon]
 * @property {ChildProcess} [osd]
 * @property {ChildProcess} [rgw]
 */

/**
 * A daemon in the foreground (-f) as our child: we reap it, see it exit, and kill exactly it.
 * @param {CephCluster} c
 * @param {string} bin
 * @param {string[]} args
 * @returns {ChildProcess}
 */
function daemon(c, bin, args) {
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

/**
 * @param {CephCluster} c
 * @param {string[]} args
 * @returns {Promise<string>}
 */
async function ceph(c, args) {
  const { stdout } = await run("ceph", ["-c", c.conf, "--connect-timeout", "20", ...args], {
    env: serverEnv(),
    timeout: 30_000,
  });
  return stdout;
}

/**
 * @param {string} what
 * @param {number} timeoutMs
 * @param {() => Promise<boolean>} probe
 * @param {() => string | undefined} [dead]
 * @returns {Promise<void>}
 */
async function waitFor(what, timeoutMs, probe, dead) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = dead?.();
    if (gone) throw new Error(`${what}: ${gone}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/**
 * @param {ChildProcess | undefined} child
 * @param {string} name
 * @returns {string | undefined}
 */
function exited(child, name) {
  if (!child) return `${name} not started`;
  if (child.exitCode !== null || child.signalCode !== null)
    return `${name} exited (${child.exitCode ?? child.signalCode})`;
  return undefined;
}

/**
 * @param {CephCluster} c
 * @returns {Promise<void>}
 */
async function startRgwDaemon(c) {
  c.rgw = daemon(c, "radosgw", ["-n", "client.rgw.a"]);
  const endpoint = `http://127.0.0.1:${c.port}/`;
  await waitFor(
    "radosgw answering",
    60_000,
    async () => (await httpGet(endpoint)).body.includes("ListAllMyBucketsResult"),
    () => exited(c.rgw, "radosgw"),
  );
}

/**
 * @param {CephCluster} c
 * @param {string} accessKeyId
 * @param {string} secretAccessKey
 * @param {number} memstoreBytes
 * @returns {Promise<void>}
 */
async function bootCluster(c, accessKeyId, secretAccessKey, memstoreBytes) {
  const fsid = randomUUID();
  const osdUuid = randomUUID();
  const monPort = c.port + 1;
  for (const sub of ["run", "log", "mon", "osd", "rgw", "crash", "tmp"])
    mkdirSync(join(c.dir, sub), { recursive: true });
  writeFileSync(c.conf, cephConf(c.dir, fsid, c.port, monPort, memstoreBytes));
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
 * @param {RadosGwOptions} [options]
 * @returns {Promise<S3TestServer>}
 */
export async function startRadosGw(options = {}) {
  const accessKeyId = "sluice";
  const secretAccessKey = "sluice-test-secret";
  const memstoreBytes = options.memstoreBytes ?? DEFAULT_MEMSTORE_BYTES;
  if (!Number.isInteger(memstoreBytes) || memstoreBytes <= 0) {
    throw new RangeError(`memstoreBytes must be a positive whole number of bytes (got ${memstoreBytes})`);
  }
  /** @type {unknown} */
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    // PORT (S3), PORT+1 (mon); the OSD picks free ones in PORT+2..PORT+40. A clash anyway: start over elsewhere.
    const port = await freeFixedPort(2);
    const dir = mkdtempSync(join(tmpdir(), "sluice-rgw-"));
    /** @type {CephCluster} */
    const c = { dir, conf: join(dir, "ceph.conf"), port };
    const killAll = async () => {
      await killHard(c.rgw);
      await killHard(c.osd);
      await killHard(c.mon);
    };
    try {
      await bootCluster(c, accessKeyId, secretAccessKey, memstoreBytes);
    } catch (err) {
      await killAll();
      lastErr = new Error(`RADOS Gateway did not start: ${/** @type {Error} */ (err).message}\n${logTails(dir)}`);
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    const endpoint = `http://127.0.0.1:${port}`;
    /** @type {S3Client[]} */
    const clients = [];
    /** @type {S3TestServer} */
    const server = {
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
