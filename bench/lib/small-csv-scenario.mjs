// Scenario n: a drop zone of many small sensor CSVs (one per device per minute, 120 rows, ~4 KiB) → one ZSTD
// Parquet each, with `sluice run --once`: plain (no schema) and with `--schema sensor-readings`, against DuckDB's
// own loop of COPY over the same files on ONE warm connection (duckdb-small-anchor.mjs), pair by pair.
// Data is generated once (untimed, distinct contents: no file is a duplicate of another), copied into fresh
// directories before every run and synced; every sluice run is checked (exit 0, every file ingested, staging
// empty) and so is every output: the manifest names a Parquet per file with 120 rows, DuckDB reads 120 rows back.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join } from "node:path";
import { DUCKDB_THREADS, inspectParquet } from "./convert-anchors.mjs";
import { runSluiceConvert } from "./convert-scenarios.mjs";
import { freshDir, rmrf } from "./data.mjs";
import { runTimed, syncAll, tail } from "./proc.mjs";
import { makeLayout, REPO, sluiceRunRecord } from "./sluice.mjs";
import { pairRatios, prng, summarize } from "./stats.mjs";

const ROWS = 120;
const HERE = join(REPO, "bench", "lib");

/**
 * `count` sensor CSVs `dev-NNNN-MMMM.csv`: header `sensor_id,timestamp,value`, 120 rows (one every half second of
 * the file's minute), a Gaussian-ish value with one fractional digit. Distinct contents (device and minute differ).
 * @param {string} dir
 * @param {number} count
 * @returns {string[]} the names
 */
export function writeSmallSensorCsvs(dir, count) {
  mkdirSync(dir, { recursive: true });
  const rng = prng(20240301);
  const t0 = Date.UTC(2024, 2, 1, 0, 0, 0);
  const names = [];
  for (let f = 0; f < count; f++) {
    const device = f % 50;
    const minute = Math.floor(f / 50);
    const id = `S${String(device + 1).padStart(4, "0")}`;
    const base = -20 + ((device * 37) % 100);
    let s = "sensor_id,timestamp,value\n";
    for (let r = 0; r < ROWS; r++) {
      const t = new Date(t0 + minute * 60_000 + r * 500).toISOString();
      const tenths = Math.round((base + (rng() + rng() + rng() - 1.5) * 8) * 10);
      const abs = Math.abs(tenths);
      s += `${id},${t},${tenths < 0 ? "-" : ""}${Math.floor(abs / 10)}.${abs % 10}\n`;
    }
    const name = `dev-${String(device).padStart(4, "0")}-${String(minute).padStart(4, "0")}.csv`;
    writeFileSync(join(dir, name), s);
    names.push(name);
  }
  return names;
}

/**
 * The anchor: one process, one DuckDB connection, COPY in a loop over `src`'s CSVs.
 * @param {string} root
 * @param {string} src
 * @param {number} files
 * @param {number} timeoutMs
 */
async function duckdbLoop(root, src, files, timeoutMs) {
  const out = freshDir(join(root, "duckdb-out"));
  const r = await runTimed(
    process.execPath,
    [join(HERE, "duckdb-small-anchor.mjs"), src, out, String(DUCKDB_THREADS)],
    {
      cwd: root,
      stdoutPath: join(root, "duckdb.stdout.txt"),
      stderrPath: join(root, "duckdb.stderr.txt"),
      timeoutMs,
    },
  );
  if (r.timedOut || r.code !== 0) {
    throw new Error(
      `scenario n: DuckDB COPY loop ${r.timedOut ? "timed out" : `exited ${r.code}`}\n${tail(r.stderrPath)}`,
    );
  }
  const o = JSON.parse(tail(r.stdoutPath, 1));
  if (o.files !== files || o.rows !== files * ROWS) {
    throw new Error(
      `scenario n: DuckDB COPY loop wrote ${o.files} files, ${o.rows} rows; expected ${files}, ${files * ROWS}`,
    );
  }
  rmrf(out);
  return { wallMs: r.wallMs, duckdb: o.duckdb };
}

/**
 * Every file's manifest line names a Parquet output of 120 rows that DuckDB reads back (one untimed process).
 * @param {import("./sluice.mjs").Layout} l
 * @param {any[]} manifest
 * @param {string[]} names
 * @param {boolean} schema
 */
function checkOutputs(l, manifest, names, schema) {
  const byName = new Map(manifest.filter((m) => m.status === "ingested").map((m) => [m.name, m]));
  const paths = [];
  for (const name of names) {
    const p = byName.get(name)?.processing;
    const out = (p?.outputs ?? []).find((/** @type {any} */ o) => o.kind === "parquet");
    const path = out ? (isAbsolute(out.path) ? out.path : join(l.warehouse, out.path)) : null;
    if (!path || !existsSync(path)) {
      throw new Error(
        `scenario n: PARQUET OUTPUT MISSING for ${name}: ${p ? JSON.stringify(p).slice(0, 400) : "no processing on its manifest line"}`,
      );
    }
    const bad = [];
    if (out.row_count !== ROWS) bad.push(`row_count ${out.row_count}`);
    if (schema && p.aggregations?.row_count !== ROWS) bad.push(`aggregations.row_count ${p.aggregations?.row_count}`);
    if (p.invalid_count) bad.push(`invalid_count ${p.invalid_count}`);
    // Only a schema's validation reports aggregations (per_sensor_count among them).
    if ((p.aggregations?.per_sensor_count !== undefined) !== schema)
      bad.push(`aggregations ${JSON.stringify(p.aggregations)}`);
    if (bad.length) throw new Error(`scenario n: ${name} (${ROWS} rows): ${bad.join("; ")}`);
    paths.push(path);
  }
  const facts = inspectParquet(l.root, paths);
  const wrong = facts.filter((f) => f.rows !== ROWS || f.codecs.join() !== "ZSTD");
  if (facts.length !== names.length || wrong.length) {
    throw new Error(
      `scenario n: ${wrong.length} Parquet outputs do not read back as ${ROWS} ZSTD rows: ${JSON.stringify(wrong[0])}`,
    );
  }
}

/**
 * @param {import("./scenarios.mjs").Ctx} ctx
 */
export async function smallCsvs(ctx) {
  const n = ctx.sizes.n;
  let duckOk = true;
  try {
    createRequire(join(REPO, "package.json")).resolve("@duckdb/node-api");
  } catch {
    duckOk = false;
  }
  if (!duckOk)
    throw new Error("scenario n: ANCHOR MISSING: DuckDB (@duckdb/node-api not installed; sluice needs it too)");
  const timeout = 120_000 + n * 1_000;
  const src = freshDir(join(ctx.base, "n", "source"));
  /** @type {Record<"plain" | "schema" | "duckdb", number[]>} */
  const fps = { plain: [], schema: [], duckdb: [] };
  /** @type {number[]} */ const rss = [];
  /** @type {Record<string, any[]>} */
  const phaseRuns = { "n plain": [], "n schema": [] };
  const runs = [];
  try {
    const names = writeSmallSensorCsvs(src, n);
    syncAll();
    ctx.log(`  n data: ${n} sensor CSVs of ${ROWS} rows (~4 KiB each), untimed`);
    for (let i = 1; i <= ctx.pairs; i++) {
      const root = freshDir(join(ctx.base, "n", String(i)));
      try {
        const record = { pair: i };
        const a = join(root, "anchor");
        mkdirSync(a);
        for (const f of names) copyFileSync(join(src, f), join(a, f));
        syncAll();
        const d = await duckdbLoop(root, a, n, timeout);
        fps.duckdb.push(n / (d.wallMs / 1000));
        Object.assign(record, { duckdb_loop: { wall_ms: d.wallMs, threads: DUCKDB_THREADS, version: d.duckdb } });
        const line = [`DuckDB loop ${(n / (d.wallMs / 1000)).toFixed(1)} files/s`];
        for (const kind of /** @type {const} */ (["plain", "schema"])) {
          const l = makeLayout(join(root, kind));
          for (const f of names) copyFileSync(join(src, f), join(l.staging, f));
          syncAll();
          const r = await runSluiceConvert(l, {
            extraArgs: kind === "schema" ? ["--schema", "sensor-readings"] : [],
            expectFiles: n,
            timeoutMs: timeout,
            rss: ctx.tools.time.available,
            what: `scenario n (${kind})`,
          });
          checkOutputs(l, r.manifest, names, kind === "schema");
          const f = n / (r.sluice.wallMs / 1000);
          fps[kind].push(f);
          if (r.sluice.peakRssKiB !== null) rss.push(r.sluice.peakRssKiB / 1024);
          const rec = sluiceRunRecord(r.sluice);
          phaseRuns[`n ${kind}`]?.push({ sluice: rec });
          Object.assign(record, { [`sluice_${kind}`]: rec });
          const rssText =
            r.sluice.peakRssKiB !== null ? `, peak RSS ${(r.sluice.peakRssKiB / 1024).toFixed(0)} MiB` : "";
          line.push(`sluice ${kind} ${f.toFixed(1)} files/s${rssText}`);
          rmrf(l.root);
        }
        runs.push(record);
        ctx.log(`  n pair ${i}/${ctx.pairs}: ${line.join(" | ")}`);
      } finally {
        rmrf(root);
      }
    }
  } finally {
    rmrf(join(ctx.base, "n"));
  }
  const label = `n ${n} × 4 KiB sensor CSVs → Parquet`;
  /** @type {import("./scenarios.mjs").Row[]} */
  const rows = [];
  for (const kind of /** @type {const} */ (["plain", "schema"])) {
    rows.push({
      id: `n.${kind}.vs_duckdb_loop`,
      scenario: "n",
      label: `${label}${kind === "schema" ? " --schema sensor-readings" : " (no schema)"}, vs a warm DuckDB COPY loop`,
      unit: "files/s",
      sluice: summarize(fps[kind]),
      anchor: { name: "DuckDB COPY loop", unit: "files/s", summary: summarize(fps.duckdb) },
      ratio: summarize(pairRatios(fps[kind], fps.duckdb, (x, y) => x / y)),
      target: { on: "ratio", op: ">=", value: 1.0, text: "≥ 1.0× the DuckDB loop" },
    });
  }
  return {
    id: "n",
    params: {
      files: n,
      rows_per_file: ROWS,
      stability_seconds: 0,
      duckdb_threads: DUCKDB_THREADS,
      anchor:
        "one process, one DuckDB connection: COPY (SELECT * FROM read_csv(f)) TO p (FORMAT parquet, COMPRESSION zstd) per file",
    },
    runs,
    phaseRuns,
    rows,
    sluiceRss: rss,
  };
}
