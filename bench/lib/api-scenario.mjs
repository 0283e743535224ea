// Scenario k: the HTTP API of `sluice serve`. One fresh `sluice serve --listen 127.0.0.1:0` per pair, then:
//   k1  one big file (1 GiB; quick 64 MiB) uploaded with PUT /api/v1/files/{name} (the raw body, streamed with
//       Content-Length, as `sluice upload` and `curl -T` send it), timed from the request to its 202 answer,
//       vs `cp FILE DIR/ && sync DIR/FILE` of the same file into a directory on the staging filesystem: the limit
//       (sluice reads the same bytes off a socket and fdatasyncs them before it answers 202), target ≥ 0.8×;
//       and, as a report row, another file of the same size with POST /api/v1/files (multipart/form-data with
//       Content-Length, as the dashboard sends it) vs the same cp + sync. PUT and POST go in alternating order
//       (PUT first in odd pairs), each file waited for until processed before the next upload;
//       the server's peak RSS (VmHWM of its /proc status, a fresh process per pair) once both are processed.
//   k2  autocannon, 32 connections for 10 s (quick 2 s), against GET /api/v1/files/:id of that processed file:
//       requests/s and p99 latency, report only; a single non-2xx answer or error fails the bench.
// Every upload is checked: the 202 body carries the id, the file becomes `processed` under that id (GET) within a
// bound, with the size and the SHA-256 the harness computed beforehand (untimed), the log says `file_ingested`
// with that SHA-256, the warehouse holds the file and staging is left empty.
import { randomUUID } from "node:crypto";
import { createReadStream, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { countFiles, devOf, freshDir, GiB, MiB, makeBigFile, rmrf } from "./data.mjs";
import { human, secs as s, sha256File } from "./format.mjs";
import { runTimed, syncAll, tail } from "./proc.mjs";
import { makeLayout, startSluiceServe } from "./sluice.mjs";
import { pairRatios, summarize } from "./stats.mjs";

/** @typedef {import("./scenarios.mjs").Ctx} Ctx */
/** @typedef {import("./scenarios.mjs").Row} Row */

const RSS_LIMIT_MIB = 200;
const CONNECTIONS = 32;
const FILE_NAME = "big.dat";
const PUT_NAME = "big-put.dat";

/**
 * A figure of the server process's /proc status, in KiB (VmHWM = peak resident set size, VmRSS = now).
 * @param {number | undefined} pid
 * @param {"VmHWM" | "VmRSS"} key
 * @returns {number | null}
 */
function procKiB(pid, key) {
  if (!pid) return null;
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Uploads one file streamed from disk with 1 MiB reads: `put`, the raw body of PUT /api/v1/files/{name} with the
 * file's Content-Length, the way `sluice upload` (src/cli/client/api-client.ts) sends it; or `post`, one `file`
 * part of a hand-built multipart/form-data body with its Content-Length (head + file + tail), as a browser does.
 * Resolves with the status and parsed body once the whole answer is in; never rejects on a non-2xx status.
 * @param {string} server   http://127.0.0.1:PORT
 * @param {string} path
 * @param {"put" | "post"} how
 * @param {number} timeoutMs
 * @returns {Promise<{ status: number, body: any, ms: number }>}
 */
function uploadFile(server, path, how, timeoutMs) {
  const size = statSync(path).size;
  const boundary = `sluice-bench-${randomUUID()}`;
  const name = basename(path);
  const head = Buffer.from(
    how === "put"
      ? ""
      : `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
          "Content-Type: application/octet-stream\r\n\r\n",
  );
  const end = Buffer.from(how === "put" ? "" : `\r\n--${boundary}--\r\n`);
  const url = new URL(how === "put" ? `/api/v1/files/${encodeURIComponent(name)}` : "/api/v1/files", server);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, {
      method: how === "put" ? "PUT" : "POST",
      agent: false,
      headers: {
        "content-type": how === "put" ? "application/octet-stream" : `multipart/form-data; boundary=${boundary}`,
        "content-length": String(head.length + size + end.length),
        // sluice serve refuses a POST or PUT without it (a cross-site page could not send it).
        "x-sluice-request": "1",
      },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`upload of ${path} got no answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on("response", (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = { unparsed: text.slice(0, 300) };
        }
        resolve({ status: res.statusCode ?? 0, body, ms });
      });
    });
    if (head.length > 0) req.write(head);
    const file = createReadStream(path, { highWaterMark: MiB });
    file.on("error", (e) => req.destroy(e));
    file.on("end", () => (end.length > 0 ? req.end(end) : req.end()));
    file.pipe(req, { end: false });
  });
}

/**
 * GET a JSON document.
 * @param {string} url
 * @returns {Promise<{ status: number, body: any }>}
 */
async function getJson(url) {
  const res = await fetch(url);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: { unparsed: text.slice(0, 300) } };
  }
}

/**
 * Polls GET /api/v1/files/:id until the file leaves waiting/processing; throws unless it is `processed` with
 * the expected size and SHA-256 within `timeoutMs`.
 * @param {string} server
 * @param {string} id
 * @param {{ bytes: number, sha256: string }} want
 * @param {number} timeoutMs
 */
async function waitProcessed(server, id, want, timeoutMs) {
  const url = `${server}/api/v1/files/${encodeURIComponent(id)}`;
  const deadline = Date.now() + timeoutMs;
  /** @type {{ status: number, body: any } | null} */
  let last = null;
  for (;;) {
    last = await getJson(url);
    const st = last.body?.status;
    // Anything but 200 waiting/processing ends the wait (a 404 after the 202 would be a bug: it fails below).
    if (last.status !== 200 || (st !== "waiting" && st !== "processing")) break;
    if (Date.now() > deadline) {
      throw new Error(`scenario k1: ${id} not processed within ${timeoutMs / 1000} s: ${JSON.stringify(last)}`);
    }
    await sleep(20);
  }
  const b = last.body;
  if (
    last.status !== 200 ||
    b.status !== "processed" ||
    b.id !== id ||
    b.size !== want.bytes ||
    b.sha256 !== want.sha256
  ) {
    throw new Error(
      `scenario k1: GET /api/v1/files/${id} answered ${last.status} ${JSON.stringify(b).slice(0, 600)}; ` +
        `expected status processed, ${want.bytes} bytes, sha256 ${want.sha256}`,
    );
  }
  return b;
}

/**
 * `cp -- FILE DIR/FILE && sync -- DIR/FILE`: the copy, then an fsync of the copy (coreutils `sync FILE`).
 * Timed like every anchor, spawn → exit.
 * @param {string} root
 * @param {string} src
 * @param {string} dst
 * @param {number} timeoutMs
 */
async function cpSyncFile(root, src, dst, timeoutMs) {
  const r = await runTimed("sh", ["-c", 'cp -- "$1" "$2" && sync -- "$2"', "sh", src, dst], {
    cwd: root,
    stdoutPath: join(root, "cp.stdout.txt"),
    stderrPath: join(root, "cp.stderr.txt"),
    timeoutMs,
  });
  if (r.timedOut) throw new Error(`cp + sync FILE timed out\n${tail(r.stderrPath)}`);
  if (r.code !== 0) throw new Error(`cp + sync FILE exited ${r.code ?? r.signal}\n${tail(r.stderrPath)}`);
  if (statSync(dst).size !== statSync(src).size) throw new Error("cp + sync FILE: destination size differs");
  return { wallMs: r.wallMs };
}

/**
 * autocannon against one URL; throws on any non-2xx answer, error or timeout.
 * @param {string} url
 * @param {number} seconds
 */
async function hammer(url, seconds) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds });
  const ok = r["2xx"];
  if (r.non2xx !== 0 || r.errors !== 0 || r.timeouts !== 0 || ok === 0 || ok !== r.requests.total) {
    throw new Error(
      `scenario k2: autocannon on ${url}: ${r.requests.total} answers, ${ok} 2xx, ${r.non2xx} non-2xx ` +
        `(${JSON.stringify(r.statusCodeStats)}), ${r.errors} errors, ${r.timeouts} timeouts`,
    );
  }
  return {
    requests: r.requests.total,
    duration_s: r.duration,
    rps: r.requests.total / r.duration,
    rps_per_second_mean: r.requests.average,
    latency_ms: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: r.latency.mean,
    },
    bytes_per_s: r.throughput.average,
  };
}

/**
 * One timed upload of a fresh file, then checked through to `processed`: the 202 body, the file's size and SHA-256
 * by GET, and the `file_ingested` log line.
 * @param {{ address: string, log: any, waitFor: Function }} svc
 * @param {string} file
 * @param {"put" | "post"} how
 * @param {number} timeoutMs
 */
async function timedUpload(svc, file, how, timeoutMs) {
  const name = basename(file);
  const bytes = statSync(file).size;
  const sha256 = await sha256File(file);
  syncAll();
  const up = await uploadFile(svc.address, file, how, timeoutMs);
  const b = up.body;
  const route = how === "put" ? `PUT /api/v1/files/${name}` : "POST /api/v1/files";
  if (
    up.status !== 202 ||
    typeof b?.id !== "string" ||
    b.id === "" ||
    b.files?.[0]?.id !== b.id ||
    b.name !== name ||
    b.status !== "waiting"
  ) {
    throw new Error(
      `scenario k1: ${route} answered ${up.status} ${JSON.stringify(b).slice(0, 600)}; ` +
        `expected 202 {files:[{id,name,status}], id, name: "${name}", status: "waiting"}`,
    );
  }
  const t202 = performance.now();
  await waitProcessed(svc.address, b.id, { bytes, sha256 }, timeoutMs);
  const toProcessedMs = performance.now() - t202;
  // The state store says `done` before the log line has necessarily come through the pipe: wait for it too.
  await svc.waitFor((/** @type {any} */ g) => g.byName.has(name), 10_000, `file_ingested of ${name} in the log`);
  const logged = svc.log.byName.get(name);
  if (logged?.sha256 !== sha256 || logged.bytes !== bytes) {
    throw new Error(`scenario k1: sluice logged ${JSON.stringify(logged)} for ${name}; sha256 is ${sha256}`);
  }
  return { ms: up.ms, toProcessedMs, id: b.id };
}

/**
 * k: upload throughput through the API vs cp + sync (k1: PUT, and POST as a report row), GET /api/v1/files/:id
 * under load (k2).
 * @param {Ctx} ctx
 */
export async function apiServe(ctx) {
  const bytes = ctx.sizes.kBig;
  const seconds = ctx.sizes.kSeconds;
  const mib = bytes / MiB;
  const timeoutMs = 60_000 + (bytes / GiB) * 120_000;
  const rate = (/** @type {number} */ ms) => mib / (ms / 1000);
  /** @type {{ put: number[], post: number[], cp: number[], rss: number[], rps: number[], p99: number[], runs: any[] }} */
  const acc = { put: [], post: [], cp: [], rss: [], rps: [], p99: [], runs: [] };
  for (let i = 1; i <= ctx.pairs; i++) {
    const root = freshDir(join(ctx.base, "k", String(i)));
    const l = makeLayout(root);
    const srcDir = freshDir(join(root, "src"));
    const cpDir = freshDir(join(root, "cp"));
    if (devOf(cpDir) !== devOf(l.staging))
      throw new Error("scenario k: the cp target is not on the staging filesystem");
    // Two files of distinct content (each a fresh random block): the second upload is not a duplicate of the first.
    const putFile = join(srcDir, PUT_NAME);
    const postFile = join(srcDir, FILE_NAME);
    /** @type {Awaited<ReturnType<typeof startSluiceServe>> | null} */
    let svc = null;
    try {
      makeBigFile(putFile, bytes);
      makeBigFile(postFile, bytes);
      syncAll();
      svc = await startSluiceServe(l, 0.2);
      const server = svc.address;
      const startRssKiB = procKiB(svc.pid, "VmHWM");
      // k1 anchor: cp + sync of the same (warm) file onto the staging filesystem; the copy goes before the uploads.
      const cpDst = join(cpDir, PUT_NAME);
      const a = await cpSyncFile(root, putFile, cpDst, timeoutMs);
      rmSync(cpDst);
      syncAll();
      // k1 sluice: both uploads, timed request → 202, in alternating order.
      /** @type {Record<string, Awaited<ReturnType<typeof timedUpload>>>} */
      const up = {};
      const order = /** @type {const} */ (i % 2 === 1 ? ["put", "post"] : ["post", "put"]);
      for (const how of order) up[how] = await timedUpload(svc, how === "put" ? putFile : postFile, how, timeoutMs);
      const put = /** @type {Awaited<ReturnType<typeof timedUpload>>} */ (up.put);
      const post = /** @type {Awaited<ReturnType<typeof timedUpload>>} */ (up.post);
      const rssKiB = procKiB(svc.pid, "VmHWM");
      const leftovers = readdirSync(l.staging);
      if (countFiles(l.warehouse) !== 2 || leftovers.length !== 0) {
        throw new Error(
          `scenario k1: warehouse holds ${countFiles(l.warehouse)} file(s), staging still holds ` +
            `[${leftovers.join(", ")}]`,
        );
      }
      // k2: GET /api/v1/files/:id of the processed file under load.
      const g = await hammer(`${server}/api/v1/files/${encodeURIComponent(put.id)}`, seconds);
      const afterLoadRssKiB = procKiB(svc.pid, "VmHWM");
      const ex = await svc.stop();
      if (ex.code !== 0)
        throw new Error(`scenario k: sluice serve exited ${ex.code ?? ex.signal} on SIGTERM\n${svc.stderr()}`);

      acc.put.push(rate(put.ms));
      acc.post.push(rate(post.ms));
      acc.cp.push(rate(a.wallMs));
      if (rssKiB !== null) acc.rss.push(rssKiB / 1024);
      acc.rps.push(g.rps);
      acc.p99.push(g.latency_ms.p99);
      acc.runs.push({
        pair: i,
        order,
        put: { ms_to_202: put.ms, ms_202_to_processed: put.toProcessedMs, id: put.id },
        post: { ms_to_202: post.ms, ms_202_to_processed: post.toProcessedMs, id: post.id },
        cp_sync_file: { wall_ms: a.wallMs },
        server_vmhwm_kib: { after_start: startRssKiB, processed: rssKiB, after_k2: afterLoadRssKiB },
        get_load: g,
      });
      const mibOf = (/** @type {number | null} */ k) => (k === null ? "n/a" : `${(k / 1024).toFixed(0)} MiB`);
      ctx.log(
        `  k1 pair ${i}/${ctx.pairs}: cp + sync FILE ${s(a.wallMs)} (${rate(a.wallMs).toFixed(0)} MiB/s) | ` +
          `PUT → 202 ${s(put.ms)} (${rate(put.ms).toFixed(0)} MiB/s) | ` +
          `POST → 202 ${s(post.ms)} (${rate(post.ms).toFixed(0)} MiB/s) [${order.join(" then ")}]; ` +
          `server peak RSS ${mibOf(rssKiB)} (${mibOf(startRssKiB)} after start)`,
      );
      ctx.log(
        `  k2 pair ${i}/${ctx.pairs}: GET /api/v1/files/:id, ${CONNECTIONS} connections, ${g.duration_s} s: ` +
          `${g.requests} requests, ${g.rps.toFixed(0)} req/s, latency p50 ${g.latency_ms.p50} ms, ` +
          `p99 ${g.latency_ms.p99} ms, max ${g.latency_ms.max} ms; server peak RSS after ${mibOf(afterLoadRssKiB)}`,
      );
    } finally {
      if (svc) await svc.stop(5_000);
      rmrf(root);
    }
  }
  rmrf(join(ctx.base, "k"));
  const label = (/** @type {string} */ route) => `k1 ${human(bytes)} upload (${route} → 202)`;
  return {
    id: "k",
    params: {
      file_bytes: bytes,
      server: "sluice serve --listen 127.0.0.1:0 --stability-seconds 0.2, fresh per pair (default --max-upload-bytes)",
      upload:
        "node:http, 1 MiB reads, Content-Length: PUT /api/v1/files/{name} (raw body) and POST /api/v1/files " +
        "(hand-built multipart/form-data, field file), two files of distinct content, alternating order; " +
        "each timed request → 202 and waited for until processed",
      anchor: 'sh -c \'cp -- "$1" "$2" && sync -- "$2"\' (same source file, target dir on the staging filesystem)',
      order:
        "per pair: generate 2 files + sync (untimed), start the server, cp + sync FILE, then PUT and POST (each: " +
        "hash + sync untimed, upload, wait processed), PUT first in odd pairs; k2",
      get_load: { tool: "autocannon (programmatic)", connections: CONNECTIONS, duration_s: seconds },
    },
    runs: acc.runs,
    rows: /** @type {Row[]} */ ([
      {
        id: "k1.put_vs_cp",
        scenario: "k",
        label: `${label("PUT /api/v1/files/{name}")}, vs cp + sync FILE (the limit)`,
        unit: "MiB/s",
        sluice: summarize(acc.put),
        anchor: { name: "cp + sync FILE", unit: "MiB/s", summary: summarize(acc.cp) },
        ratio: summarize(pairRatios(acc.put, acc.cp, (x, y) => x / y)),
        target: { on: "ratio", op: ">=", value: 0.8, text: "≥ 0.8× cp + sync" },
      },
      {
        id: "k1.upload_vs_cp",
        scenario: "k",
        label: `${label("POST /api/v1/files, multipart")}, vs cp + sync FILE (the limit)`,
        unit: "MiB/s",
        sluice: summarize(acc.post),
        anchor: { name: "cp + sync FILE", unit: "MiB/s", summary: summarize(acc.cp) },
        ratio: summarize(pairRatios(acc.post, acc.cp, (x, y) => x / y)),
        target: null,
      },
      {
        id: "k1.peak_rss",
        scenario: "k",
        label: "k1 server peak RSS (VmHWM, upload + ingest)",
        unit: "MiB",
        sluice: summarize(acc.rss),
        anchor: null,
        ratio: null,
        target: { on: "sluice_max", op: "<=", value: RSS_LIMIT_MIB, text: `≤ ${RSS_LIMIT_MIB} MiB (max)` },
      },
      {
        id: "k2.get_rps",
        scenario: "k",
        label: `k2 GET /api/v1/files/:id, ${CONNECTIONS} conns, ${seconds} s: throughput`,
        unit: "req/s",
        sluice: summarize(acc.rps),
        anchor: null,
        ratio: null,
        target: null,
      },
      {
        id: "k2.get_p99",
        scenario: "k",
        label: `k2 GET /api/v1/files/:id, ${CONNECTIONS} conns, ${seconds} s: p99 latency`,
        unit: "ms",
        sluice: summarize(acc.p99),
        anchor: null,
        ratio: null,
        target: null,
      },
    ]),
    sluiceRss: [],
  };
}
