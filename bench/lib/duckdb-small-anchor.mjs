// Anchor of scenario n: what DuckDB does with many small CSVs when nothing else is in the way. One process, ONE
// DuckDB instance and connection (warm: opened once), and a loop of DuckDB's bare
//   COPY (SELECT * FROM read_csv('f')) TO 'OUT/f.parquet' (FORMAT parquet, COMPRESSION zstd)
// over every *.csv of SRC_DIR (sorted), with THREADS threads and otherwise DuckDB's defaults. Timed by the harness
// as the process's wall time, like every anchor. Prints {"files", "rows", "duckdb"} as JSON.
//   usage: duckdb-small-anchor.mjs SRC_DIR OUT_DIR THREADS
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

const [src, out, threads] = process.argv.slice(2);
if (!src || !out || !threads) {
  process.stderr.write("usage: duckdb-small-anchor.mjs SRC_DIR OUT_DIR THREADS\n");
  process.exit(2);
}
const lit = (/** @type {string} */ s) => `'${s.replaceAll("'", "''")}'`;
const instance = await DuckDBInstance.create(":memory:", { threads });
const conn = await instance.connect();
let files = 0;
let rows = 0;
for (const name of readdirSync(src)
  .filter((n) => n.endsWith(".csv"))
  .sort()) {
  const r = await conn.runAndReadAll(
    `COPY (SELECT * FROM read_csv(${lit(join(src, name))})) TO ${lit(join(out, `${name}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
  );
  rows += Number(r.getRows()[0]?.[0]);
  files++;
}
const version = (await conn.runAndReadAll("SELECT version()")).getRows()[0]?.[0];
conn.closeSync();
instance.closeSync();
process.stdout.write(`${JSON.stringify({ files, rows, duckdb: String(version) })}\n`);
