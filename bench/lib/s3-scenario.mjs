// Scenario j: ingesting into S3. One local S3 server for the whole scenario (a throw-away Ceph RADOS Gateway,
// the server the S3 sink is tested against; s3rver only when RGW cannot run, and the table says so), then:
//   j1  one big file (1 GiB; quick 64 MiB)        sluice run --once → s3://BUCKET/bench   vs rclone copy
//   j2  2,000 files of 4 KiB (quick 200)          sluice run --once → s3://BUCKET/bench   vs rclone copy
// Per pair, on the same freshly generated (then synced) staging data: `rclone copy staging benchs3:BUCKET/bench`
// first (it leaves the source in place), then sluice ingests that staging directory (it removes what it stored).
// Every run writes into a bucket of its own. Every run is checked against the server afterwards (ListObjectsV2
// count and sizes; for j1 also HeadObject size + x-amz-meta-sha256 = the file's SHA-256): a run that did not
// store everything fails the bench, it never becomes a figure.
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startCountingProxy } from "../../test/support/counting-proxy.mjs";
import { radosGwUnavailable, startRadosGw, startS3rver } from "../../test/support/s3-servers.mjs";
import { rcloneCopyS3 } from "./anchors.mjs";
import { freshDir, GiB, KiB, MiB, makeBigFile, makeSmallFiles, rmrf } from "./data.mjs";
import { human, secs as s, sha256File } from "./format.mjs";
import { syncAll } from "./proc.mjs";
import { makeS3Layout, runSluiceOnce, sluiceRunRecord } from "./sluice.mjs";
import { pairRatios, summarize } from "./stats.mjs";

/** @typedef {import("../../test/support/s3-servers.mjs").S3TestServer} S3TestServer */
/** @typedef {import("../../test/support/counting-proxy.mjs").CountingProxy} CountingProxy */
/** @typedef {import("./scenarios.mjs").Ctx} Ctx */
/** @typedef {import("./scenarios.mjs").Row} Row */

const SMALL = 4 * KiB;
/** The key prefix both tools write under, in a bucket of their own per run. */
const PREFIX = "bench";
const RSS_LIMIT_MIB = 200;

/**
 * The scenario's S3 server: a RADOS Gateway, or s3rver when RGW cannot be had (then `fallback` says why).
 * Full mode installs Ceph with apt-get when it is missing (unless --no-install); quick mode never does (a minute
 * of apt-get would break its time budget): it falls back instead.
 * @param {Ctx} ctx
 * @param {number} memstoreBytes
 * @returns {Promise<{ server: S3TestServer, fallback: string | null, startMs: number }>}
 */
async function startServer(ctx, memstoreBytes) {
  const t0 = performance.now();
  const install = ctx.mode === "full" && ctx.install;
  /** @type {string | undefined} */
  let why;
  try {
    why = await radosGwUnavailable({ install });
  } catch (e) {
    why = /** @type {Error} */ (e).message;
  }
  if (!why) {
    try {
      const server = await startRadosGw({ memstoreBytes });
      return { server, fallback: null, startMs: performance.now() - t0 };
    } catch (e) {
      why = /** @type {Error} */ (e).message.split("\n")[0];
    }
  }
  const fallback = `RADOS Gateway unavailable (${why})`;
  ctx.log(`  S3 SERVER FALLBACK: ${fallback}; scenario j runs against s3rver (a JS emulator), not Ceph`);
  const server = await startS3rver();
  return { server, fallback, startMs: performance.now() - t0 };
}

/**
 * Every object under `PREFIX/` of `bucket`, by ListObjectsV2 (all pages).
 * @param {S3TestServer} server
 * @param {string} bucket
 * @returns {Promise<Array<{ key: string, size: number }>>}
 */
async function listObjects(server, bucket) {
  const client = server.client();
  /** @type {Array<{ key: string, size: number }>} */
  const out = [];
  /** @type {string | undefined} */
  let token;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${PREFIX}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push({ key: o.Key ?? "", size: o.Size ?? -1 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * Throws unless `bucket` holds exactly `count` objects under `PREFIX/`, each of `size` bytes.
 * @param {S3TestServer} server
 * @param {string} bucket
 * @param {number} count
 * @param {number} size
 * @param {string} what
 */
async function checkObjects(server, bucket, count, size, what) {
  const objects = await listObjects(server, bucket);
  const wrong = objects.filter((o) => o.size !== size);
  if (objects.length !== count || wrong.length > 0) {
    throw new Error(
      `scenario ${what}: s3://${bucket}/${PREFIX}/ holds ${objects.length} object(s), expected ${count}` +
        (wrong.length ? `; ${wrong.length} not ${size} bytes, e.g. ${wrong[0]?.key} (${wrong[0]?.size} bytes)` : ""),
    );
  }
  return objects;
}

/**
 * One pair: `rclone copy` of the staging directory, then sluice ingests it; both checked against the server.
 * With `via`, both tools talk to the server through that counting proxy, and the requests each sent are returned.
 * @param {Ctx} ctx
 * @param {S3TestServer} server
 * @param {{ sub: "j1" | "j2", pair: number, files: number, fileBytes: number, timeoutMs: number,
 *           fill: (staging: string) => void, via?: CountingProxy }} o
 */
async function pair(ctx, server, o) {
  const endpoint = o.via ? o.via.endpoint : server.endpoint;
  /** @type {{ sluice: number | null, rclone: number | null }} */
  const requests = { sluice: null, rclone: null };
  const root = freshDir(join(ctx.base, "j", `${o.sub}-${o.pair}`));
  const rclone = ctx.tools.rclone.available ? /** @type {string} */ (ctx.tools.rclone.path) : null;
  const rss = ctx.tools.time.available;
  try {
    const bucket = (/** @type {string} */ who) => `${o.sub}-${o.pair}-${who}`;
    await server.createBucket(bucket("sluice"));
    if (rclone) await server.createBucket(bucket("rclone"));
    const l = makeS3Layout(join(root, "sluice"), `s3://${bucket("sluice")}/${PREFIX}`, {
      endpoint,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
    });
    o.fill(l.staging);
    const sha256 = o.sub === "j1" ? await sha256File(join(l.staging, "big.dat")) : null;
    syncAll();
    /** @type {{ wallMs: number, peakRssKiB: number | null } | null} */
    let a = null;
    if (rclone) {
      const aroot = freshDir(join(root, "rclone"));
      const remote = {
        provider: server.kind === "radosgw" ? "Ceph" : "Other",
        endpoint,
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        region: server.region,
      };
      o.via?.reset();
      a = await rcloneCopyS3(rclone, aroot, l.staging, remote, `${bucket("rclone")}/${PREFIX}`, o.timeoutMs, rss);
      if (o.via) requests.rclone = o.via.seen().length;
      await checkObjects(server, bucket("rclone"), o.files, o.fileBytes, `${o.sub} (rclone copy)`);
    }
    o.via?.reset();
    const r = await runSluiceOnce(l, {
      expectFiles: o.files,
      stabilitySeconds: 0,
      timeoutMs: o.timeoutMs,
      rss,
      keepNames: o.sub === "j1",
      countStored: async () => (await listObjects(server, bucket("sluice"))).length,
    });
    if (o.via) requests.sluice = o.via.seen().length;
    const stored = await checkObjects(server, bucket("sluice"), o.files, o.fileBytes, `${o.sub} (sluice)`);
    if (sha256) {
      const key = /** @type {string} */ (stored[0]?.key);
      const head = await server.client().send(new HeadObjectCommand({ Bucket: bucket("sluice"), Key: key }));
      const logged = r.byName.get("big.dat");
      if (head.ContentLength !== o.fileBytes || head.Metadata?.sha256 !== sha256 || logged?.sha256 !== sha256) {
        throw new Error(
          `scenario j1: s3://${bucket("sluice")}/${key} is ${head.ContentLength} bytes with x-amz-meta-sha256 ` +
            `${head.Metadata?.sha256}; sluice logged ${logged?.sha256}; the file is ${o.fileBytes} bytes, sha256 ${sha256}`,
        );
      }
    }
    return { sluice: r, rclone: a, requests };
  } finally {
    rmrf(root);
  }
}

/**
 * j: S3 ingest of one big file (j1) and many small files (j2), vs `rclone copy` to the same server.
 * @param {Ctx} ctx
 */
export async function s3Ingest(ctx) {
  const big = ctx.sizes.jBig;
  const n = ctx.sizes.jSmall;
  const rclone = ctx.tools.rclone.available;
  const missing = rclone ? null : `ANCHOR MISSING: rclone (${ctx.tools.rclone.note})`;
  if (missing) ctx.log(missing);
  const rssMissing = ctx.tools.time.available ? null : `ANCHOR MISSING: time (${ctx.tools.time.note})`;
  // memstore keeps every object in the OSD's RAM, and deleted objects are freed only by RGW's garbage collection
  // hours later: size it for everything the scenario writes (both tools, every pair), with room to spare.
  // The OSD's RSS ends up about 1.5× the data (measured: 9.2 GiB after 3 pairs of j1 and j2).
  const written = 2 * ctx.pairs * (big + n * SMALL);
  const memstoreBytes = Math.max(4 * GiB, Math.ceil((written * 1.3 + GiB) / MiB) * MiB);
  if (written * 1.5 > os.totalmem() * 0.6) {
    ctx.log(
      `  warning: scenario j keeps ${human(written)} of objects (about ${human(written * 1.5)} of RSS) in the ` +
        `RADOS Gateway's OSD (memstore, RAM) on a machine with ${human(os.totalmem())}`,
    );
  }
  const { server, fallback, startMs } = await startServer(ctx, memstoreBytes);
  const serverText =
    server.kind === "radosgw"
      ? `Ceph RADOS Gateway (1 mon, 1 memstore OSD, beast frontend) at ${server.endpoint}`
      : `s3rver at ${server.endpoint} (FALLBACK, see above)`;
  ctx.log(`  j server: ${serverText}, started in ${s(startMs)} (untimed)`);
  const tag = server.kind === "radosgw" ? "RGW" : "s3rver FALLBACK";
  /** @type {Record<"j1" | "j2", { sl: number[], an: number[], rss: number[], anRss: number[], runs: any[] }>} */
  const acc = {
    j1: { sl: [], an: [], rss: [], anRss: [], runs: [] },
    j2: { sl: [], an: [], rss: [], anRss: [], runs: [] },
  };
  /** @type {{ sluice: number | null, rclone: number | null }} */
  const perFile = { sluice: null, rclone: null };
  try {
    const subs = /** @type {const} */ ([
      {
        sub: "j1",
        files: 1,
        fileBytes: big,
        timeoutMs: 120_000 + (big / GiB) * 300_000,
        fill: (/** @type {string} */ staging) => makeBigFile(join(staging, "big.dat"), big),
        rate: (/** @type {number} */ ms) => big / MiB / (ms / 1000),
        unit: "MiB/s",
      },
      {
        sub: "j2",
        files: n,
        fileBytes: SMALL,
        timeoutMs: 60_000 + n * 50,
        fill: (/** @type {string} */ staging) => makeSmallFiles(staging, n, SMALL),
        rate: (/** @type {number} */ ms) => n / (ms / 1000),
        unit: "files/s",
      },
    ]);
    for (const sub of subs) {
      const a = acc[sub.sub];
      for (let i = 1; i <= ctx.pairs; i++) {
        const p = await pair(ctx, server, { ...sub, pair: i });
        const r = p.sluice;
        a.sl.push(sub.rate(r.wallMs));
        if (r.peakRssKiB !== null) a.rss.push(r.peakRssKiB / 1024);
        if (p.rclone) {
          a.an.push(sub.rate(p.rclone.wallMs));
          if (p.rclone.peakRssKiB !== null) a.anRss.push(p.rclone.peakRssKiB / 1024);
        }
        a.runs.push({
          pair: i,
          sluice: sluiceRunRecord(r),
          rclone: p.rclone ? { wall_ms: p.rclone.wallMs, peak_rss_kib: p.rclone.peakRssKiB } : null,
        });
        const fig = (/** @type {number} */ ms) => `${s(ms)} (${sub.rate(ms).toFixed(0)} ${sub.unit})`;
        const rssText = (/** @type {number | null} */ k) =>
          k !== null ? `, peak RSS ${(k / 1024).toFixed(0)} MiB` : "";
        ctx.log(
          `  ${sub.sub} pair ${i}/${ctx.pairs}: ` +
            (p.rclone ? `rclone copy ${fig(p.rclone.wallMs)}${rssText(p.rclone.peakRssKiB)} | ` : "") +
            `sluice ${fig(r.wallMs)}${rssText(r.peakRssKiB)}`,
        );
      }
    }
    // Untimed: one more j2 run of each tool through a counting proxy (a proxy would slow the timed runs down).
    const proxy = await startCountingProxy(server.endpoint);
    try {
      const p = await pair(ctx, server, { ...subs[1], pair: 0, via: proxy });
      perFile.sluice = p.requests.sluice === null ? null : p.requests.sluice / n;
      perFile.rclone = p.requests.rclone === null ? null : p.requests.rclone / n;
      ctx.log(
        `  j2 requests (counted through a proxy, untimed): sluice ${p.requests.sluice} for ${n} files` +
          (p.requests.rclone === null ? "" : `, rclone copy ${p.requests.rclone}`),
      );
    } finally {
      await proxy.close();
    }
  } finally {
    await server.stop();
    rmrf(join(ctx.base, "j"));
  }
  const j1Label = `j1 ${human(big)} file → S3 (${tag})`;
  const j2Label = `j2 ${n.toLocaleString("en-US")} × 4 KiB → S3 (${tag})`;
  /**
   * @param {"j1" | "j2"} sub
   * @param {string} label
   * @param {string} unit
   * @returns {Row[]}
   */
  const rowsOf = (sub, label, unit) => {
    const a = acc[sub];
    return [
      {
        id: `${sub}.vs_rclone`,
        scenario: "j",
        label: `${label}, vs rclone copy`,
        unit,
        sluice: summarize(a.sl),
        anchor: rclone
          ? { name: "rclone copy", unit, summary: summarize(a.an) }
          : { name: "rclone copy", unit, summary: null, missing: missing ?? "anchor missing" },
        ratio: rclone ? summarize(pairRatios(a.sl, a.an, (x, y) => x / y)) : null,
        target: { on: "ratio", op: ">=", value: 1.0, text: "≥ 1.0× rclone" },
      },
      {
        id: `${sub}.peak_rss`,
        scenario: "j",
        label: `${sub} peak RSS (sluice; anchor: rclone copy)`,
        unit: "MiB",
        sluice: summarize(a.rss),
        anchor: rssMissing
          ? { name: "GNU time", unit: "MiB", summary: null, missing: rssMissing }
          : { name: "rclone copy", unit: "MiB", summary: summarize(a.anRss) },
        ratio: null,
        target: { on: "sluice_max", op: "<=", value: RSS_LIMIT_MIB, text: `≤ ${RSS_LIMIT_MIB} MiB (max)` },
      },
    ];
  };
  return {
    id: "j",
    params: {
      server: server.kind,
      server_fallback: fallback,
      big_file_bytes: big,
      small_files: n,
      small_file_bytes: SMALL,
      stability_seconds: 0,
      sluice:
        "run --once --warehouse s3://BUCKET/bench --s3-endpoint URL --scratch-dir DIR (defaults: 8 MiB parts, 4 in parallel)",
      anchor:
        "rclone copy STAGING benchs3:BUCKET/bench, remote from RCLONE_CONFIG_BENCHS3_* (type s3, provider, endpoint, " +
        "keys, region), AWS_* unset; rclone defaults otherwise",
      order: "per pair: rclone copy, then sluice, on the same staging data; a fresh bucket per run",
    },
    runs: [...acc.j1.runs.map((r) => ({ sub: "j1", ...r })), ...acc.j2.runs.map((r) => ({ sub: "j2", ...r }))],
    /** The phase table shows j1 and j2 apart. */
    phaseRuns: { j1: acc.j1.runs, j2: acc.j2.runs },
    notes: fallback
      ? [`j: S3 server is s3rver, NOT Ceph RADOS Gateway: ${fallback}. Figures are against an emulator.`]
      : [],
    rows: [
      ...rowsOf("j1", j1Label, "MiB/s"),
      ...rowsOf("j2", j2Label, "files/s"),
      {
        id: "j2.requests_per_file",
        scenario: "j",
        label: "j2 S3 requests per file (all a run sends, start-up included ÷ files; one run, untimed)",
        unit: "requests",
        sluice: summarize(perFile.sluice === null ? [] : [perFile.sluice]),
        anchor: rclone
          ? {
              name: "rclone copy",
              unit: "requests",
              summary: summarize(perFile.rclone === null ? [] : [perFile.rclone]),
            }
          : { name: "rclone copy", unit: "requests", summary: null, missing: missing ?? "anchor missing" },
        ratio: null,
        target: null,
      },
    ],
    sluiceRss: [],
  };
}
