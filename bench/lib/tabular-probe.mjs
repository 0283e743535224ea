// Probe for scenario h's conversion step alone: DuckDB's bare
//   COPY (SELECT * FROM read_csv(f)) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)
// against convertTabular(schema = sensor-readings: validation, aggregations, profile) on the same sensor CSV,
// alternated in one process so both see the same machine. Needs `npm run build` first (imports dist/).
//   node bench/lib/tabular-probe.mjs [MiB=256] [rounds=3] [csv]     (csv: an existing file instead of a generated one)
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { convertTabular } from "../../dist/processors/tabular/index.js";
import { SENSOR_READINGS } from "../../dist/processors/validate/index.js";
import { writeSensorCsv } from "./sensor-data.mjs";

const [mib = "256", rounds = "3", given] = process.argv.slice(2);
const threads = availableParallelism();
const dir = mkdtempSync(join(tmpdir(), "sluice-tabular-probe-"));
const lit = (/** @type {string} */ s) => `'${s.replaceAll("'", "''")}'`;

async function bare(/** @type {string} */ csv) {
  const db = await DuckDBInstance.create(":memory:", { threads: String(threads) });
  const conn = await db.connect();
  const t = performance.now();
  await conn.run(
    `COPY (SELECT * FROM read_csv(${lit(csv)})) TO ${lit(join(dir, "bare.parquet"))} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const ms = performance.now() - t;
  conn.closeSync();
  db.closeSync();
  return ms;
}

async function sluice(/** @type {string} */ csv) {
  const t = performance.now();
  const r = await convertTabular(csv, "csv", join(dir, "sluice.parquet"), {
    memoryLimit: "512MB",
    threads,
    tempDirectory: join(dir, "spill"),
    schema: SENSOR_READINGS,
    rejectsPath: join(dir, "sluice.rejects.jsonl"),
  });
  if (r.validation?.status !== "processed") throw new Error(`unexpected status ${r.validation?.status}`);
  return performance.now() - t;
}

try {
  const csv = given ?? writeSensorCsv(join(dir, "sensors.csv"), Number(mib) * 2 ** 20).full.path;
  const b = [];
  const s = [];
  for (let k = 0; k < Number(rounds); k++) {
    b.push(await bare(csv));
    s.push(await sluice(csv));
    console.log(`round ${k + 1}: bare COPY ${b.at(-1)?.toFixed(0)} ms, convertTabular ${s.at(-1)?.toFixed(0)} ms`);
  }
  const median = (/** @type {number[]} */ a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? Number.NaN;
  const size = (/** @type {string} */ p) => (statSync(p).size / 2 ** 20).toFixed(1);
  console.log(`threads ${threads}; median bare ${median(b).toFixed(0)} ms, convertTabular ${median(s).toFixed(0)} ms`);
  console.log(`throughput ratio (bare time / sluice time): ${(median(b) / median(s)).toFixed(3)}`);
  console.log(
    `CSV ${size(csv)} MiB -> Parquet ${size(join(dir, "sluice.parquet"))} MiB (bare COPY: ${size(join(dir, "bare.parquet"))} MiB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
