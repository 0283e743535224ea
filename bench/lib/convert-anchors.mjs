// Anchors of the conversion scenario (h): DuckDB's bare COPY (bench/lib/duckdb-anchor.mjs, with the repo's
// @duckdb/node-api) and a pure-JS pipeline (bench/lib/js-parquet-anchor.mjs: csv-parse → @dsnp/parquetjs).
// The pure-JS packages are not repo dependencies: they are npm-installed at bench time into bench/.anchors/
// (git-ignored) and reused on later runs. Each anchor runs as its own process and is timed like sluice.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GNU_TIME, runTimed, tail } from "./proc.mjs";
import { REPO } from "./sluice.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ANCHORS_DIR = join(HERE, "..", ".anchors");
/** What `npm install` fetches into bench/.anchors/ (major versions pinned). */
export const JS_ANCHOR_PACKAGES = ["csv-parse@^7", "@dsnp/parquetjs@^1"];
/** DuckDB threads of the anchor: what sluice uses by default (--convert-threads 0 = one per CPU). */
export const DUCKDB_THREADS = availableParallelism();

/**
 * Version of package `name` as resolved from `fromDir`, or null when it is not installed there.
 * @param {string} fromDir
 * @param {string} name
 */
function installedVersion(fromDir, name) {
  try {
    const req = createRequire(join(fromDir, "package.json"));
    req.resolve(name);
    // The package root: node_modules/<name>/package.json (exports may hide it from resolve()).
    const pj = join(fromDir, "node_modules", ...name.split("/"), "package.json");
    return String(JSON.parse(readFileSync(pj, "utf8")).version).replace(/^v/, "");
  } catch {
    return null;
  }
}

/**
 * DuckDB (repo dependency) and the pure-JS pipeline (csv-parse + @dsnp/parquetjs in bench/.anchors/, installed
 * with npm when missing unless told not to). Never skips silently: a missing one is reported by the caller as
 * "ANCHOR MISSING: …", and the rows that need it show "anchor missing".
 * @param {{ install: boolean, log: (s: string) => void }} o
 * @returns {{ duckdb: import("./anchors.mjs").Tool, purejs: import("./anchors.mjs").Tool }}
 */
export function detectConvertAnchors(o) {
  const duck = installedVersion(REPO, "@duckdb/node-api");
  const have = () => ({
    csvParse: installedVersion(ANCHORS_DIR, "csv-parse"),
    parquetjs: installedVersion(ANCHORS_DIR, "@dsnp/parquetjs"),
  });
  let v = have();
  let note = null;
  if ((!v.csvParse || !v.parquetjs) && o.install) {
    const args = ["install", "--prefix", ANCHORS_DIR, "--no-save", "--no-package-lock", "--no-audit", "--no-fund"];
    o.log(`installing the pure-JS Parquet anchor: npm ${args.join(" ")} ${JS_ANCHOR_PACKAGES.join(" ")}`);
    const r = spawnSync("npm", [...args, ...JS_ANCHOR_PACKAGES], {
      encoding: "utf8",
      timeout: 300_000,
      env: { ...process.env, npm_config_loglevel: "error" },
    });
    if (r.error || r.status !== 0) {
      const why = (r.stderr ?? "")
        .split("\n")
        .map((x) => x.replace(/^npm error\s*/, "").trim())
        .filter((x) => x && !x.startsWith("A complete log"))
        .slice(0, 3)
        .join(" / ");
      note = `npm install failed: ${r.error?.message ?? `exit ${r.status}`} ${why}`.trim();
    }
    v = have();
  } else if (!v.csvParse || !v.parquetjs) {
    note = "not installed in bench/.anchors/ (--no-install)";
  }
  const jsOk = v.csvParse !== null && v.parquetjs !== null;
  return {
    duckdb: {
      name: "duckdb",
      available: duck !== null,
      path: duck ? join(HERE, "duckdb-anchor.mjs") : null,
      version: duck ? `@duckdb/node-api ${duck}` : null,
      note: duck ? null : "@duckdb/node-api is not installed in node_modules (run npm ci)",
    },
    purejs: {
      name: "csv-parse + @dsnp/parquetjs",
      available: jsOk,
      path: jsOk ? ANCHORS_DIR : null,
      version: jsOk ? `csv-parse ${v.csvParse}, @dsnp/parquetjs ${v.parquetjs}` : null,
      note: jsOk
        ? null
        : `${note ?? "missing from bench/.anchors/"} (csv-parse ${v.csvParse ?? "missing"}, @dsnp/parquetjs ${v.parquetjs ?? "missing"})`,
    },
  };
}

/**
 * @param {import("./proc.mjs").TimedResult} r
 * @param {string} what
 */
function checkExit(r, what) {
  if (r.timedOut) throw new Error(`${what} timed out\n${tail(r.stderrPath)}`);
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}\n${tail(r.stderrPath)}`);
}

/**
 * @param {string} path
 */
function lastJson(path) {
  const lines = readFileSync(path, "utf8").trim().split("\n");
  return JSON.parse(lines[lines.length - 1] ?? "null");
}

/**
 * DuckDB's bare COPY of `csv` to ZSTD Parquet at `out`, as its own process (node + @duckdb/node-api).
 * @param {string} root   cwd, logs
 * @param {string} csv
 * @param {string} out
 * @param {number} expectRows
 * @param {number} timeoutMs
 * @param {boolean} rss   also measure its peak RSS with GNU time (report only)
 * @returns {Promise<{ wallMs: number, rows: number, duckdb: string, peakRssKiB: number | null }>}
 */
export async function duckdbCopy(root, csv, out, expectRows, timeoutMs, rss) {
  const r = await runTimed(
    process.execPath,
    [join(HERE, "duckdb-anchor.mjs"), "copy", csv, out, String(DUCKDB_THREADS)],
    {
      cwd: root,
      stdoutPath: join(root, "duckdb.stdout.txt"),
      stderrPath: join(root, "duckdb.stderr.txt"),
      timeoutMs,
      rssPath: rss && existsSync(GNU_TIME) ? join(root, "duckdb.rss.txt") : undefined,
    },
  );
  checkExit(r, "DuckDB COPY");
  const o = lastJson(r.stdoutPath);
  if (o?.rows !== expectRows) throw new Error(`DuckDB COPY: wrote ${o?.rows} rows, the CSV has ${expectRows}`);
  return { wallMs: r.wallMs, rows: o.rows, duckdb: o.duckdb, peakRssKiB: r.peakRssKiB };
}

/**
 * The pure-JS pipeline (csv-parse → @dsnp/parquetjs) on `csv`, as its own process.
 * @param {string} root
 * @param {string} csv
 * @param {string} out
 * @param {number} expectRows
 * @param {number} timeoutMs
 * @returns {Promise<{ wallMs: number, rows: number, codec: string }>}  codec: the one it chose (ZSTD if it has it)
 */
export async function pureJsParquet(root, csv, out, expectRows, timeoutMs) {
  const r = await runTimed(process.execPath, [join(HERE, "js-parquet-anchor.mjs"), csv, out], {
    cwd: root,
    stdoutPath: join(root, "purejs.stdout.txt"),
    stderrPath: join(root, "purejs.stderr.txt"),
    timeoutMs,
  });
  checkExit(r, "pure-JS pipeline (csv-parse → @dsnp/parquetjs)");
  const o = lastJson(r.stdoutPath);
  if (o?.rows !== expectRows)
    throw new Error(`pure-JS pipeline: wrote ${o?.rows} rows, the CSV slice has ${expectRows}`);
  return { wallMs: r.wallMs, rows: o.rows, codec: o.codec };
}

/**
 * @typedef {{ path: string, rows: number, columns: string[], codecs: string[] }} ParquetFacts
 */

/**
 * Untimed read-back of Parquet files with DuckDB (its own process): row count, columns, codecs.
 * @param {string} root
 * @param {string[]} paths
 * @returns {ParquetFacts[]}
 */
export function inspectParquet(root, paths) {
  const r = spawnSync(process.execPath, [join(HERE, "duckdb-anchor.mjs"), "inspect", ...paths], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `reading Parquet back with DuckDB failed (${r.error?.message ?? `exit ${r.status}`}): ${paths.join(", ")}\n${(r.stderr ?? "").trim()}`,
    );
  }
  return r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
