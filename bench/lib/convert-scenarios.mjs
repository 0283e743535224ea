// Conversion scenarios: h (one sensor CSV → ZSTD Parquet with `--schema sensor-readings`, against DuckDB's bare
// COPY and a pure-JS pipeline, pair by pair) and i (SQL dumps → one Parquet per table, rows/s, report only).
// Like the other scenarios, data is prepared untimed (then `sync`), every run gets fresh directories, and every
// sluice run is checked: exit 0, every file ingested, and its Parquet output present and complete (read back with
// DuckDB). A missing Parquet output fails the run with "PARQUET OUTPUT MISSING", it is never skipped.
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { DUCKDB_THREADS, duckdbCopy, inspectParquet, pureJsParquet } from "./convert-anchors.mjs";
import { countFiles, freshDir, GiB, MiB, rmrf } from "./data.mjs";
import { runTimed, syncAll, tail } from "./proc.mjs";
import { writeSensorCsv } from "./sensor-data.mjs";
import { makeLayout, parseLog, REPO, runFigures, sluiceArgs, sluiceEnv, sluiceRunRecord } from "./sluice.mjs";
import { pairRatios, summarize } from "./stats.mjs";

const MB = 1e6;

/** The SQL dumps of scenario i (shared corpus, beside the repo) and their row counts (corpus INDEX.md). */
export const SQL_DUMPS = [
  { rel: "sql/pagila/pagila-data.sql", rows: 49_636 },
  { rel: "sql/sakila/sakila-data.sql", rows: 46_273 },
];
export const CORPUS = resolve(REPO, "..", "shared", "corpus");

/**
 * @param {number} bytes
 */
const human = (bytes) => (bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : `${+(bytes / MiB).toFixed(1)} MiB`);
/**
 * @param {number} ms
 */
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * @typedef {object} ConvertRun
 * @property {import("./sluice.mjs").SluiceRun & { code: number | null }} sluice
 * @property {any[]} manifest   the manifest lines of the run
 */

/**
 * `sluice run --once --stability-seconds 0 [extra…]` over a prepared layout, timed spawn → exit like every
 * sluice run of the harness (GNU time for the peak RSS). Throws unless sluice exited 0, logged `expectFiles`
 * ingests and no failure, and left staging empty. Outputs are checked by the caller.
 * @param {import("./sluice.mjs").Layout} l
 * @param {{ extraArgs: string[], expectFiles: number, timeoutMs: number, rss: boolean, what: string }} o
 * @returns {Promise<ConvertRun>}
 */
export async function runSluiceConvert(l, o) {
  const args = [...sluiceArgs(l, 0, true), ...o.extraArgs];
  const r = await runTimed(process.execPath, args, {
    cwd: l.root,
    env: sluiceEnv(),
    stdoutPath: join(l.root, "sluice.stdout.jsonl"),
    stderrPath: join(l.root, "sluice.stderr.txt"),
    timeoutMs: o.timeoutMs,
    rssPath: o.rss ? join(l.root, "sluice.rss.txt") : undefined,
  });
  const what = `${o.what}: sluice run --once ${o.extraArgs.join(" ")} (${l.root})`;
  if (r.timedOut) throw new Error(`${what} timed out after ${o.timeoutMs / 1000} s\n${tail(r.stderrPath)}`);
  if (r.code !== 0) {
    const err = tail(r.stderrPath);
    const unknown = /unknown option '([^']+)'/.exec(err);
    const hint = unknown
      ? `\nPARQUET OUTPUT MISSING: this sluice build (dist/) does not know ${unknown[1]}: the conversion feature ` +
        "(CSV → ZSTD Parquet, --schema sensor-readings) is not built. Build it (drop --no-build) once it has landed."
      : "";
    throw new Error(`${what} exited ${r.code ?? r.signal}${hint}\nstderr:\n${err}\nstdout:\n${tail(r.stdoutPath, 5)}`);
  }
  const log = parseLog(readFileSync(r.stdoutPath, "utf8"), false);
  const left = countFiles(l.staging);
  if (log.ingested !== o.expectFiles || log.failed !== 0 || left !== 0) {
    throw new Error(
      `${what}: expected ${o.expectFiles} file(s) ingested; log says ${log.ingested} ingested, ${log.duplicates} ` +
        `duplicate, ${log.failed} failed, ${log.vanished} vanished; staging still holds ${left}` +
        `${log.failed ? `; errors dir: ${listFiles(l.errors).join(", ")}` : ""}\n${tail(r.stdoutPath, 5)}`,
    );
  }
  return { sluice: { code: r.code, ...runFigures(r, log) }, manifest: readManifest(l.manifests) };
}

/**
 * Every file under `dir`, relative, for error messages.
 * @param {string} dir
 * @param {string} [prefix]
 * @returns {string[]}
 */
function listFiles(dir, prefix = "") {
  /** @type {string[]} */
  const out = [];
  /** @type {import("node:fs").Dirent[]} */
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), p));
    else out.push(p);
  }
  return out;
}

/**
 * All manifest lines (MANIFESTS/YYYY/MM/DD/HH/manifest.jsonl).
 * @param {string} dir
 * @returns {any[]}
 */
function readManifest(dir) {
  return listFiles(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("\n")
        .filter((x) => x.trim())
        .map((x) => JSON.parse(x)),
    );
}

/**
 * Checks sluice's conversion of the sensor CSV and returns its Parquet: the manifest line must list a
 * `parquet` output that exists beside the raw file, with `row_count` and `aggregations.row_count` equal to the
 * CSV's data rows, and DuckDB must read back exactly that many rows from it.
 * @param {import("./sluice.mjs").Layout} l
 * @param {any[]} manifest
 * @param {string} name
 * @param {number} rows
 */
function checkSensorParquet(l, manifest, name, rows) {
  const missing = (/** @type {string} */ why) =>
    new Error(
      `scenario h: PARQUET OUTPUT MISSING for ${name}: ${why}.\n` +
        `sluice run --once --schema sensor-readings must write ${l.warehouse}/ingest_date=YYYY-MM-DD/${name}.parquet ` +
        "and list it on the file's manifest line as processing.outputs[{kind: 'parquet', path, row_count}] " +
        `(the conversion feature). Warehouse holds: ${listFiles(l.warehouse).join(", ") || "nothing"}`,
    );
  const line = manifest.find((m) => m.name === name && m.status === "ingested");
  if (!line) throw missing(`no manifest line with status "ingested" (lines: ${manifest.length})`);
  const p = line.processing;
  if (!p) throw missing("its manifest line has no `processing` field (the file was stored raw, not converted)");
  const out = (p.outputs ?? []).find((/** @type {any} */ o) => o.kind === "parquet");
  if (!out) throw missing(`processing has no parquet output: ${JSON.stringify(p).slice(0, 600)}`);
  const path = isAbsolute(out.path) ? out.path : join(l.warehouse, out.path);
  if (!existsSync(path)) throw missing(`the manifest names ${out.path}, which does not exist`);
  const facts = inspectParquet(l.root, [path])[0];
  const bad = [];
  if (facts?.rows !== rows) bad.push(`DuckDB reads ${facts?.rows} rows back from it`);
  if (out.row_count !== rows) bad.push(`processing.outputs[parquet].row_count is ${out.row_count}`);
  if (p.aggregations?.row_count !== rows) bad.push(`processing.aggregations.row_count is ${p.aggregations?.row_count}`);
  if (p.invalid_count) bad.push(`processing.invalid_count is ${p.invalid_count} (every generated row is valid)`);
  if (bad.length) throw new Error(`scenario h: ${name} has ${rows} data rows, but ${bad.join("; ")} (${path})`);
  return {
    path,
    bytes: statSync(path).size,
    codecs: facts?.codecs ?? [],
    columns: facts?.columns ?? [],
    status: p.status,
  };
}

/**
 * h: one sensor CSV (1 GiB; quick 16 MiB) converted to ZSTD Parquet. Per pair, on the same warm file:
 * DuckDB's bare COPY, the pure-JS pipeline on the first rows (a slice: it is ~15× slower than DuckDB), then sluice.
 * @param {import("./scenarios.mjs").Ctx} ctx
 */
export async function sensorCsv(ctx) {
  const bytes = ctx.sizes.h;
  const sliceTarget = ctx.sizes.hSlice;
  const { duckdb, purejs } = /** @type {Required<import("./scenarios.mjs").Ctx["tools"]>} */ (ctx.tools);
  const jsMissing = purejs?.available ? null : `ANCHOR MISSING: ${purejs?.name ?? "pure JS"} (${purejs?.note})`;
  if (jsMissing) ctx.log(jsMissing);
  if (!duckdb?.available) throw new Error(`scenario h: ANCHOR MISSING: DuckDB (${duckdb?.note}); sluice needs it too`);
  const gb = bytes / GiB;
  const timeout = 120_000 + gb * 240_000;
  const src = freshDir(join(ctx.base, "h", "source"));
  /** @type {number[]} */ const sl = []; // MB/s
  /** @type {number[]} */ const dk = [];
  /** @type {number[]} */ const js = [];
  /** @type {number[]} */ const rss = []; // MiB
  /** @type {number[]} */ const dkRss = [];
  /** @type {number[]} */ const pqRatio = []; // Parquet ÷ CSV
  /** @type {number[]} */ const dkSize = [];
  let codec = "";
  const runs = [];
  try {
    const t0 = performance.now();
    const gen = writeSensorCsv(join(src, "sensors.csv"), bytes, { path: join(src, "slice.csv"), bytes: sliceTarget });
    const slice = /** @type {import("./sensor-data.mjs").SensorCsv} */ (gen.slice);
    syncAll();
    ctx.log(
      `  h data: ${human(gen.full.bytes)} CSV, ${gen.full.rows.toLocaleString("en-US")} rows; pure-JS slice ` +
        `${human(slice.bytes)}, ${slice.rows.toLocaleString("en-US")} rows (generated in ${s(performance.now() - t0)}, untimed)`,
    );
    const csvMB = gen.full.bytes / MB;
    for (let i = 1; i <= ctx.pairs; i++) {
      const root = freshDir(join(ctx.base, "h", String(i)));
      try {
        const l = makeLayout(root);
        const file = join(l.staging, "sensors.csv");
        copyFileSync(gen.full.path, file);
        syncAll();
        // DuckDB's bare COPY of the very file sluice will ingest (it leaves the file in place).
        const d = await duckdbCopy(
          root,
          file,
          join(root, "duckdb.parquet"),
          gen.full.rows,
          timeout,
          ctx.tools.time.available,
        );
        const dBytes = statSync(join(root, "duckdb.parquet")).size;
        rmrf(join(root, "duckdb.parquet"));
        // The pure-JS pipeline on the slice (an exact prefix of the file); its output read back with DuckDB.
        /** @type {{ wallMs: number, rows: number, codec: string } | null} */
        let j = null;
        if (!jsMissing) {
          const out = join(root, "purejs.parquet");
          j = await pureJsParquet(root, slice.path, out, slice.rows, 60_000 + (slice.bytes / MiB) * 3_000);
          const back = inspectParquet(root, [out])[0];
          if (back?.rows !== slice.rows) throw new Error(`pure-JS pipeline: DuckDB reads ${back?.rows} rows back`);
          codec = j.codec;
          rmrf(out);
        }
        // sluice
        const r = await runSluiceConvert(l, {
          extraArgs: ["--schema", "sensor-readings"],
          expectFiles: 1,
          timeoutMs: timeout,
          rss: ctx.tools.time.available,
          what: "scenario h",
        });
        const pq = checkSensorParquet(l, r.manifest, "sensors.csv", gen.full.rows);
        const mbps = (/** @type {number} */ b, /** @type {number} */ ms) => b / MB / (ms / 1000);
        sl.push(csvMB / (r.sluice.wallMs / 1000));
        dk.push(mbps(gen.full.bytes, d.wallMs));
        if (j) js.push(mbps(slice.bytes, j.wallMs));
        if (r.sluice.peakRssKiB !== null) rss.push(r.sluice.peakRssKiB / 1024);
        if (d.peakRssKiB !== null) dkRss.push(d.peakRssKiB / 1024);
        pqRatio.push(pq.bytes / gen.full.bytes);
        dkSize.push(dBytes / gen.full.bytes);
        runs.push({
          pair: i,
          sluice: {
            ...sluiceRunRecord(r.sluice),
            parquet_bytes: pq.bytes,
            parquet_codecs: pq.codecs,
            parquet_columns: pq.columns,
            status: pq.status,
          },
          duckdb_copy: {
            wall_ms: d.wallMs,
            peak_rss_kib: d.peakRssKiB,
            parquet_bytes: dBytes,
            threads: DUCKDB_THREADS,
            version: d.duckdb,
          },
          pure_js: j ? { wall_ms: j.wallMs, csv_bytes: slice.bytes, rows: slice.rows, codec: j.codec } : null,
        });
        const rssText = r.sluice.peakRssKiB !== null ? `, peak RSS ${(r.sluice.peakRssKiB / 1024).toFixed(0)} MiB` : "";
        ctx.log(
          `  h pair ${i}/${ctx.pairs}: DuckDB COPY ${s(d.wallMs)} (${mbps(gen.full.bytes, d.wallMs).toFixed(1)} MB/s)` +
            (j
              ? ` | pure JS ${human(slice.bytes)} ${s(j.wallMs)} (${mbps(slice.bytes, j.wallMs).toFixed(2)} MB/s)`
              : "") +
            ` | sluice ${s(r.sluice.wallMs)} (${(csvMB / (r.sluice.wallMs / 1000)).toFixed(1)} MB/s)${rssText}, ` +
            `Parquet ${(pq.bytes / gen.full.bytes).toFixed(3)}× CSV (${pq.codecs.join("/")}; DuckDB ${(dBytes / gen.full.bytes).toFixed(3)}×)`,
        );
      } finally {
        rmrf(root);
      }
    }
    const label = `h ${human(gen.full.bytes)} sensor CSV → Parquet`;
    const rssMissing = ctx.tools.time.available ? null : `ANCHOR MISSING: time (${ctx.tools.time.note})`;
    return {
      id: "h",
      params: {
        csv_bytes: gen.full.bytes,
        csv_rows: gen.full.rows,
        pure_js_slice_bytes: slice.bytes,
        pure_js_slice_rows: slice.rows,
        pure_js_codec: codec || null,
        schema: "sensor-readings",
        stability_seconds: 0,
        duckdb_threads: DUCKDB_THREADS,
        anchors:
          "DuckDB COPY (SELECT * FROM read_csv(f)) TO p (FORMAT parquet, COMPRESSION zstd), threads = CPUs; " +
          "pure JS: csv-parse → @dsnp/parquetjs on the first rows (slice)",
      },
      runs,
      rows: /** @type {import("./scenarios.mjs").Row[]} */ ([
        {
          id: "h.vs_duckdb",
          scenario: "h",
          label: `${label}, vs DuckDB COPY`,
          unit: "MB/s",
          sluice: summarize(sl),
          anchor: { name: "DuckDB COPY", unit: "MB/s", summary: summarize(dk) },
          ratio: summarize(pairRatios(sl, dk, (x, y) => x / y)),
          target: { on: "ratio", op: ">=", value: 0.95, text: "≥ 0.95× DuckDB" },
        },
        {
          id: "h.vs_pure_js",
          scenario: "h",
          label: `h … vs pure JS on the first ${human(slice.bytes)}${codec ? ` (parquetjs ${codec}${codec === "ZSTD" ? "" : ": no ZSTD"})` : ""}`,
          unit: "MB/s",
          sluice: summarize(sl),
          anchor: jsMissing
            ? { name: "pure JS", unit: "MB/s", summary: null, missing: jsMissing }
            : { name: "pure JS", unit: "MB/s", summary: summarize(js) },
          ratio: jsMissing ? null : summarize(pairRatios(sl, js, (x, y) => x / y)),
          target: { on: "ratio", op: ">=", value: 15, text: "≥ 15× pure JS" },
        },
        {
          id: "h.peak_rss",
          scenario: "h",
          label: "h peak RSS (sluice; anchor: DuckDB COPY)",
          unit: "MiB",
          sluice: summarize(rss),
          anchor: rssMissing
            ? { name: "GNU time", unit: "MiB", summary: null, missing: rssMissing }
            : { name: "DuckDB COPY", unit: "MiB", summary: summarize(dkRss) },
          ratio: null,
          target: { on: "sluice_max", op: "<=", value: 600, text: "≤ 600 MiB (max)" },
        },
        {
          id: "h.parquet_size",
          scenario: "h",
          label: "h Parquet size ÷ CSV size",
          unit: "× CSV",
          sluice: summarize(pqRatio),
          anchor: { name: "DuckDB COPY", unit: "× CSV", summary: summarize(dkSize) },
          ratio: null,
          target: { on: "sluice", op: "<=", value: 0.4, text: "≤ 0.40 (≥ 60% smaller)" },
        },
      ]),
      sluiceRss: rss,
    };
  } finally {
    rmrf(join(ctx.base, "h"));
  }
}

/**
 * i: the pagila and sakila SQL dumps of the shared corpus, copied into staging, ingested by one
 * `sluice run --once`; rows/s = the dumps' rows ÷ wall time. Report only (no anchor).
 * @param {import("./scenarios.mjs").Ctx} ctx
 */
export async function sqlDumps(ctx) {
  const dumps = SQL_DUMPS.map((d) => ({ ...d, path: join(CORPUS, d.rel), name: d.rel.split("/").pop() ?? d.rel }));
  const absent = dumps.filter((d) => !existsSync(d.path));
  if (absent.length) {
    throw new Error(
      `scenario i: the shared corpus is missing ${absent.map((d) => d.path).join(", ")} (expected beside the repo: ../shared/corpus)`,
    );
  }
  const totalRows = dumps.reduce((n, d) => n + d.rows, 0);
  const totalBytes = dumps.reduce((n, d) => n + statSync(d.path).size, 0);
  /** @type {number[]} */ const rps = [];
  /** @type {number[]} */ const rss = [];
  const runs = [];
  try {
    for (let i = 1; i <= ctx.pairs; i++) {
      const root = freshDir(join(ctx.base, "i", String(i)));
      try {
        const l = makeLayout(root);
        for (const d of dumps) copyFileSync(d.path, join(l.staging, d.name));
        syncAll();
        const r = await runSluiceConvert(l, {
          extraArgs: [],
          expectFiles: dumps.length,
          timeoutMs: 300_000,
          rss: ctx.tools.time.available,
          what: "scenario i",
        });
        /** @type {Record<string, { tables: number, rows: number, status: string }>} */
        const per = {};
        for (const d of dumps) {
          const line = r.manifest.find((m) => m.name === d.name && m.status === "ingested");
          const p = line?.processing;
          if (p?.processor !== "sql-dump") {
            throw new Error(
              `scenario i: ${d.name}: manifest processing.processor is ${JSON.stringify(p?.processor)}, expected "sql-dump"` +
                `${p ? "" : "\nPARQUET OUTPUT MISSING: its manifest line has no processing field (the dump was stored raw, not converted to one Parquet per table)"}`,
            );
          }
          if (p.status === "failed") throw new Error(`scenario i: ${d.name}: processing.status is "failed"`);
          const outs = (p.outputs ?? []).filter((/** @type {any} */ o) => o.kind === "parquet");
          const paths = outs.map((/** @type {any} */ o) => (isAbsolute(o.path) ? o.path : join(l.warehouse, o.path)));
          const gone = paths.filter((/** @type {string} */ x) => !existsSync(x));
          if (outs.length === 0 || gone.length) {
            throw new Error(
              `scenario i: ${d.name}: PARQUET OUTPUT MISSING (${outs.length} parquet outputs listed, missing on disk: ${gone.join(", ") || "none"})`,
            );
          }
          const facts = inspectParquet(root, paths);
          const got = facts.reduce((n, f) => n + f.rows, 0);
          outs.forEach((/** @type {any} */ o, /** @type {number} */ k) => {
            if (o.row_count !== undefined && o.row_count !== facts[k]?.rows) {
              throw new Error(
                `scenario i: ${d.name} table ${o.table}: row_count ${o.row_count}, DuckDB reads ${facts[k]?.rows}`,
              );
            }
          });
          if (got !== d.rows) {
            throw new Error(`scenario i: ${d.name}: its Parquet tables hold ${got} rows, the dump has ${d.rows}`);
          }
          per[d.name] = { tables: outs.length, rows: got, status: p.status };
        }
        const wall = r.sluice.wallMs;
        rps.push(totalRows / (wall / 1000));
        if (r.sluice.peakRssKiB !== null) rss.push(r.sluice.peakRssKiB / 1024);
        runs.push({ run: i, sluice: sluiceRunRecord(r.sluice), rows_per_s: totalRows / (wall / 1000), dumps: per });
        const rssText = r.sluice.peakRssKiB !== null ? `, peak RSS ${(r.sluice.peakRssKiB / 1024).toFixed(0)} MiB` : "";
        ctx.log(
          `  i run ${i}/${ctx.pairs}: ${dumps.length} dumps (${human(totalBytes)}, ${totalRows.toLocaleString("en-US")} rows) ` +
            `in ${s(wall)} (${(totalRows / (wall / 1000)).toFixed(0)} rows/s)${rssText}; ` +
            Object.entries(per)
              .map(([n, v]) => `${n}: ${v.tables} tables, ${v.status}`)
              .join("; "),
        );
      } finally {
        rmrf(root);
      }
    }
  } finally {
    rmrf(join(ctx.base, "i"));
  }
  return {
    id: "i",
    params: {
      dumps: dumps.map((d) => ({ file: d.rel, bytes: statSync(d.path).size, rows: d.rows })),
      total_rows: totalRows,
      stability_seconds: 0,
    },
    runs,
    rows: /** @type {import("./scenarios.mjs").Row[]} */ ([
      {
        id: "i.rows_per_s",
        scenario: "i",
        label: `i SQL dumps pagila + sakila (${totalRows.toLocaleString("en-US")} rows)`,
        unit: "rows/s",
        sluice: summarize(rps),
        anchor: null,
        ratio: null,
        target: null,
      },
    ]),
    sluiceRss: rss,
  };
}
