// DuckDB as its own process, with the repo's @duckdb/node-api. Two modes:
//   copy CSV OUT THREADS   anchor of scenario h: DuckDB's bare
//                          COPY (SELECT * FROM read_csv('CSV')) TO 'OUT' (FORMAT parquet, COMPRESSION zstd)
//                          with THREADS threads and otherwise DuckDB's defaults. Prints {"rows", "duckdb"} as JSON.
//   inspect PARQUET…       untimed read-back used to check outputs: prints one JSON object per file with its
//                          row count, columns and compression codecs (from parquet_metadata).
import { DuckDBInstance } from "@duckdb/node-api";

const [mode, ...args] = process.argv.slice(2);
const lit = (/** @type {string} */ s) => `'${s.replaceAll("'", "''")}'`;

/**
 * @param {Record<string, string>} config
 */
async function connect(config) {
  const instance = await DuckDBInstance.create(":memory:", config);
  return { instance, conn: await instance.connect() };
}

if (mode === "copy" && args.length === 3) {
  const [csv, out, threads] = /** @type {[string, string, string]} */ (args);
  const { instance, conn } = await connect({ threads });
  const r = await conn.runAndReadAll(
    `COPY (SELECT * FROM read_csv(${lit(csv)})) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const rows = Number(r.getRows()[0]?.[0]);
  const version = (await conn.runAndReadAll("SELECT version()")).getRows()[0]?.[0];
  conn.closeSync();
  instance.closeSync();
  process.stdout.write(`${JSON.stringify({ rows, duckdb: String(version) })}\n`);
} else if (mode === "inspect" && args.length > 0) {
  const { instance, conn } = await connect({ threads: "2" });
  for (const p of args) {
    const count = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${lit(p)}, hive_partitioning = false)`);
    const cols = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(p)}, hive_partitioning = false)`);
    const codecs = await conn.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata(${lit(p)}) ORDER BY compression`,
    );
    process.stdout.write(
      `${JSON.stringify({
        path: p,
        rows: Number(count.getRows()[0]?.[0]),
        columns: cols.getRowObjectsJS().map((c) => `${c.column_name} ${c.column_type}`),
        codecs: codecs.getRows().map((c) => String(c[0])),
      })}\n`,
    );
  }
  conn.closeSync();
  instance.closeSync();
} else {
  process.stderr.write("usage: duckdb-anchor.mjs copy CSV OUT THREADS | inspect PARQUET…\n");
  process.exit(2);
}
