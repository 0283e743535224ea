// `npm run torture -- --cluster N --warehouse s3`: the deployment docs/operations.md recommends (N nodes, one
// PostgreSQL state, one shared staging directory, one s3://bucket/prefix) under faults. Nodes are SIGKILLed at
// random and restarted (sometimes at once, sometimes after their peers had time to adopt their files), the
// PostgreSQL server is crashed and restarted (`pg_ctl stop -m immediate`: every connection and advisory lock gone),
// the S3 server is killed and restarted, or frozen (SIGSTOP) and resumed. Then the nodes drain staging and stop,
// and the run is clean only if `sluice verify` reports no drift, every distinct content is one object in the bucket
// (none lost, none twice, none unexpected), every dropped name has exactly one manifest line, no file failed, no
// multipart upload is left open (RADOS Gateway; s3rver cannot list them) and no node exited on its own.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import pg from "pg";
import { startPgCluster } from "../../test/support/pg-cluster.mjs";
import { radosGwUnavailable, startRadosGw, startS3rver } from "../../test/support/s3-servers.mjs";
import { sha, sleep, walk, workload } from "./torture-files.mjs";

const BIN = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url));
const BUCKET = "torture";
const PREFIX = "raw";
const PART = 5 * 1024 * 1024;
/** How long the nodes get to drain staging after the last fault before the run counts as stuck. */
const DRAIN_MS = 10 * 60_000;

async function startS3(kind) {
  if (kind === "radosgw") {
    const why = await radosGwUnavailable({ install: false });
    if (!why) return startRadosGw();
    process.stderr.write(`torture: RADOS Gateway unavailable (${why}); s3rver instead, open uploads unchecked\n`);
  }
  return startS3rver();
}

/** Runs `sluice ARGS` to its end; its stdout. */
function sluice(args, env) {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  let err = "";
  p.stdout.on("data", (c) => {
    out += c;
  });
  p.stderr.on("data", (c) => {
    err += c;
  });
  return new Promise((res) => p.on("close", (code) => res({ code, out, err })));
}

/** Each raw object under the prefix (outputs of processing left out), by the SHA-256 of what is stored. */
async function storedContents(client) {
  const hashes = [];
  let token;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (/\.(parquet|rejects\.jsonl)$/.test(o.Key) || o.Key.includes(".tables/")) continue;
      // The put probe's objects (docs/s3.md): a node killed mid-probe leaves them; they are no stored file (verify
      // and sluice's own listing skip them too), so they count neither as lost, doubled nor unexpected content.
      if (o.Key.startsWith(`${PREFIX}/.sluice-probe/`)) continue;
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key }));
      hashes.push(sha(Buffer.from(await got.Body.transformToByteArray())));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return hashes;
}

/** Manifest lines of top-level files by name, and how many `ingested` lines each content has. */
function manifestLines(dir) {
  const byName = new Map();
  const ingested = new Map();
  for (const p of walk(dir).filter((f) => /manifest[^/]*\.jsonl$/.test(f))) {
    for (const l of readFileSync(p, "utf8").split("\n").filter(Boolean)) {
      const line = JSON.parse(l);
      if (line.status === "ingested") ingested.set(line.sha256, (ingested.get(line.sha256) ?? 0) + 1);
      if (!line.archive_ingest_id) byName.set(line.name, (byName.get(line.name) ?? 0) + 1);
    }
  }
  return { byName, ingested };
}

/** Counts of the nodes' logged events worth reporting (logs are JSON lines at warn level). */
function eventCounts(logDir) {
  const counts = {};
  for (const f of readdirSync(logDir)) {
    for (const l of readFileSync(join(logDir, f), "utf8").split("\n")) {
      const m = /"event":"([a-z0-9_]+)"/.exec(l);
      if (m) counts[m[1]] = (counts[m[1]] ?? 0) + 1;
      if (m?.[1] === "files_adopted") counts.adopted_files = (counts.adopted_files ?? 0) + JSON.parse(l).files;
      if (m?.[1] === "s3_stale_uploads_aborted")
        counts.stale_aborted = (counts.stale_aborted ?? 0) + JSON.parse(l).count;
      // An upload aborted under a node still working on it: its next part or its completion meets NoSuchUpload.
      if (m?.[1] === "write_retry" && l.includes("NoSuchUpload"))
        counts.aborted_under = (counts.aborted_under ?? 0) + 1;
    }
  }
  return counts;
}

export async function clusterTorture(opts, rnd) {
  const t0 = Date.now();
  const root = mkdtempSync(join(tmpdir(), "sluice-cluster-torture-"));
  const d = {};
  for (const k of ["staging", "manifests", "errors", "scratch", "work", "logs"]) {
    d[k] = join(root, k);
    mkdirSync(d[k], { recursive: true });
  }
  const db = await startPgCluster();
  const s3 = await startS3(opts.s3);
  const nodes = [];
  const pending = [];
  const unexpectedExits = [];
  let restarts = 0;
  let clean = false;
  // Interrupted (Ctrl-C, a test's timeout): the nodes and servers must not outlive the run.
  const abort = () => {
    for (const n of nodes) n.child?.kill("SIGKILL");
    db.destroy();
    process.exit(130); // s3-servers.mjs kills its daemons on exit
  };
  process.once("SIGINT", abort).once("SIGTERM", abort);
  try {
    await s3.createBucket(BUCKET);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("CREATE DATABASE sluice");
    await admin.end();
    const stateUrl = db.url.replace(/\/postgres$/, "/sluice");
    const env = { ...process.env, S3_ACCESS_KEY: s3.accessKeyId, S3_SECRET_KEY: s3.secretAccessKey };
    for (const k of Object.keys(env)) if (k.startsWith("AWS_")) delete env[k];
    const common = ["--input", d.staging, "--manifests", d.manifests, "--errors", d.errors];
    common.push(
      "--warehouse",
      `s3://${BUCKET}/${PREFIX}`,
      "--s3-endpoint",
      s3.endpoint,
      "--s3-part-size",
      String(PART),
    );
    common.push("--scratch-dir", d.scratch, "--state", stateUrl, "--schema", "sensor-readings");

    const files = workload(rnd, d.staging, d.work, [PART + 200_000, 2 * PART]);
    const startNode = (n) => {
      const log = openSync(join(d.logs, `${n.id}.log`), "a");
      const args = ["run", ...common, "--node-id", n.id, "--lease-seconds", String(opts.leaseSeconds)];
      // info: the stale-upload sweeps' s3_stale_uploads_aborted lines are counted from the logs.
      args.push("--stability-seconds", "0.1", "--scan-interval", "1", "--log-level", "info");
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", log, log], env });
      closeSync(log);
      n.child = child;
      n.exited = new Promise((res) =>
        child.on("close", (code, signal) => {
          // Only the torture's own SIGKILLs and the final SIGTERM end a node; anything else is a finding.
          if (signal !== "SIGKILL" && !n.stopping) unexpectedExits.push({ node: n.id, code, signal });
          res();
        }),
      );
    };
    for (let i = 1; i <= opts.cluster; i++) {
      const n = { id: `n${i}`, stopping: false };
      nodes.push(n);
      startNode(n);
    }

    const steps = [
      ...Array(opts.kills).fill("kill"),
      ...Array(opts.dbOutages).fill("db"),
      ...Array(opts.s3Outages).fill("s3"),
    ];
    for (let i = steps.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [steps[i], steps[j]] = [steps[j], steps[i]];
    }
    const fig = { kills: 0, dbOutages: 0, s3Outages: 0, dbDownMs: 0, s3DownMs: 0, largeBytes: [] };
    let made = 0;
    const perStep = Math.max(1, Math.ceil(opts.files / Math.max(1, steps.length)));
    // Large files (20 MiB up to --large-max-mib, the last one at the maximum) spread over the run: uploads of many
    // parts, in flight long enough for kills, outages and other nodes' starts (and their stale-upload sweeps) to
    // land in the middle of them.
    const largeAt = new Map();
    for (let k = 0; k < opts.largeFiles; k++)
      largeAt.set(Math.floor(((k + 1) * steps.length) / (opts.largeFiles + 1)), k);
    for (const [index, step] of steps.entries()) {
      if (largeAt.has(index)) {
        const k = largeAt.get(index);
        const mib = k === opts.largeFiles - 1 ? opts.largeMaxMiB : 20 + rnd() * (opts.largeMaxMiB - 20);
        fig.largeBytes.push(files.makeLarge(k, Math.floor(mib * 1024 * 1024)));
      }
      // Long enough between faults that peers get to trust their leases again and adopt a dead node's files;
      // then a batch of files, and the fault while the nodes are busy with it, so it cuts files mid-way.
      await sleep(300 + rnd() * 2500);
      for (let j = 0; j < perStep && made < opts.files; j++) files.make(made++);
      await sleep(rnd() * 800);
      if (step === "kill") {
        const isAlive = (n) => n.child.exitCode === null && n.child.signalCode === null;
        // Every node down (restarts pending): the kill lands on the first one back.
        while (!nodes.some(isAlive)) await sleep(100);
        const alive = nodes.filter(isAlive);
        const n = alive[Math.floor(rnd() * alive.length)];
        n.child.kill("SIGKILL");
        await n.exited;
        fig.kills++;
        // Half the time back at once (its own recovery finishes its files), else after its peers had time to
        // adopt them: both paths get exercised.
        const after = rnd() < 0.5 ? 0 : 500 + rnd() * 6000;
        pending.push(
          sleep(after).then(() => {
            startNode(n);
            restarts++;
          }),
        );
      } else if (step === "db") {
        const down = Date.now();
        db.stop("immediate");
        await sleep(1000 + rnd() * 3000);
        db.start();
        fig.dbOutages++;
        fig.dbDownMs += Date.now() - down;
      } else {
        const down = Date.now();
        // Alternately a crash (connections reset, then refused) and a freeze (accepted, never answered).
        const freeze = fig.s3Outages % 2 === 1;
        if (freeze) s3.pause();
        else await s3.kill();
        await sleep(1000 + rnd() * 2000);
        if (freeze) s3.resume();
        else await s3.restart();
        fig.s3Outages++;
        fig.s3DownMs += Date.now() - down;
      }
    }
    while (made < opts.files) files.make(made++);
    await Promise.all(pending);
    // A node that exited on its own is restarted for the drain (and still counted against the run).
    for (const n of nodes) if (n.child.exitCode !== null || n.child.signalCode !== null) startNode(n);
    const faultsDone = Date.now();

    const q = new pg.Client({ connectionString: stateUrl });
    await q.connect();
    const unfinished = async () =>
      Number(
        (await q.query("SELECT count(*) AS n FROM files WHERE state NOT IN ('done', 'duplicate', 'failed')")).rows[0].n,
      );
    let drained = false;
    for (let quiet = 0; Date.now() - faultsDone < DRAIN_MS; await sleep(500)) {
      const waiting = readdirSync(d.staging).filter((f) => !f.startsWith(".")).length;
      quiet = waiting === 0 && (await unfinished()) === 0 ? quiet + 1 : 0;
      if (quiet >= 4) {
        drained = true;
        break;
      }
    }
    const drainMs = Date.now() - faultsDone;
    for (const n of nodes) {
      n.stopping = true;
      n.child.kill("SIGTERM");
    }
    // unref: a pending 60 s timer would keep this process up for a minute after the run.
    await Promise.race([Promise.all(nodes.map((n) => n.exited)), new Promise((r) => setTimeout(r, 60_000).unref())]);
    for (const n of nodes) n.child.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.exited));
    const failedRows = Number((await q.query("SELECT count(*) AS n FROM files WHERE state = 'failed'")).rows[0].n);
    await q.end();

    const s3Args = ["verify", ...common, "--json"];
    const v = await sluice(s3Args, env);
    let report = { ok: false, problems: [{ kind: "verify_output", detail: v.err.slice(0, 500) }] };
    try {
      report = JSON.parse(v.out);
    } catch {
      // The report above says why.
    }

    const stored = await storedContents(s3.client());
    const storedSet = new Set(stored);
    const lostList = [...files.expected].filter(([h]) => !storedSet.has(h)).map(([, from]) => from);
    const { byName, ingested } = manifestLines(d.manifests);
    const openUploads = s3.listsMultipartUploads
      ? ((await s3.client().send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${PREFIX}/` }))).Uploads
          ?.length ?? 0)
      : null;
    const quarantined = walk(d.errors).filter((p) => !p.endsWith(".error.json")).length;
    const ev = eventCounts(d.logs);
    const summary = {
      seed: opts.seed,
      nodes: opts.cluster,
      s3_server: s3.kind,
      lease_seconds: opts.leaseSeconds,
      files: made,
      bytes: files.bytes,
      distinct_contents: files.expected.size,
      kills: fig.kills,
      restarts,
      db_outages: fig.dbOutages,
      db_down_seconds: Math.round(fig.dbDownMs / 100) / 10,
      s3_outages: fig.s3Outages,
      s3_down_seconds: Math.round(fig.s3DownMs / 100) / 10,
      large_files: fig.largeBytes.length,
      largest_mib: Math.round(Math.max(0, ...fig.largeBytes) / 1048576),
      files_adopted: ev.adopted_files ?? 0,
      stale_uploads_aborted: ev.stale_aborted ?? 0,
      uploads_aborted_under_a_working_node: ev.aborted_under ?? 0,
      state_retries: (ev.state_retry ?? 0) + (ev.state_waiting ?? 0),
      write_retries: ev.write_retry ?? 0,
      drained,
      drain_seconds: Math.round(drainMs / 100) / 10,
      stored_raw_objects: stored.length,
      lost: lostList.length,
      lost_examples: lostList.slice(0, 5),
      duplicated: stored.length - storedSet.size,
      unexpected: [...storedSet].filter((h) => !files.expected.has(h)).length,
      manifest_missing: files.names.filter((n) => !byName.has(n)).length,
      manifest_doubled: [...byName.values()].filter((c) => c > 1).length,
      manifest_ingested_twice: [...ingested.values()].filter((c) => c > 1).length,
      left_in_staging: readdirSync(d.staging).filter((f) => !f.startsWith(".")).length,
      failed: failedRows,
      quarantined,
      open_uploads: openUploads,
      unexpected_exits: unexpectedExits,
      verify_ok: report.ok,
      verify_exit: v.code,
      verify_problems: report.problems.slice(0, 5),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    clean =
      drained &&
      report.ok &&
      v.code === 0 &&
      summary.lost === 0 &&
      summary.duplicated === 0 &&
      summary.unexpected === 0 &&
      summary.manifest_missing === 0 &&
      summary.manifest_doubled === 0 &&
      summary.manifest_ingested_twice === 0 &&
      summary.left_in_staging === 0 &&
      failedRows === 0 &&
      quarantined === 0 &&
      (openUploads ?? 0) === 0 &&
      summary.uploads_aborted_under_a_working_node === 0 &&
      unexpectedExits.length === 0;
    return clean;
  } finally {
    for (const n of nodes) n.child?.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.exited));
    await s3.stop();
    db.destroy();
    if (clean && !opts.keep) rmSync(root, { recursive: true, force: true });
    else process.stdout.write(`kept for inspection: ${root} (node logs in logs/)\n`);
  }
}
