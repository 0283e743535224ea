import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { ColumnProfile, ProfileValue, TableProfile } from "../../core/profile.js";

export interface DuckOptions {
  /** DuckDB `memory_limit`, e.g. "512MB": bounds what a conversion may hold before spilling. */
  memoryLimit: string;
  threads: number;
  /** Where DuckDB spills when over the limit; on the warehouse's filesystem so it never fills /tmp. */
  tempDirectory?: string;
}

export interface DuckSession {
  conn: DuckDBConnection;
  close(): void;
}

/**
 * An in-memory DuckDB with sluice's limits. Conversions in a run share one (warm-duck.ts), each on a
 * connection of its own; `openDuck` gives a private one, closed with its session.
 */
export async function openDuckInstance(opts: DuckOptions): Promise<DuckDBInstance> {
  const config: Record<string, string> = {
    memory_limit: opts.memoryLimit,
    threads: String(Math.max(1, opts.threads)),
    // Inputs are untrusted: no network, no extension downloads, no reading of arbitrary files by name beyond ours.
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    enable_external_access: "true",
  };
  if (opts.tempDirectory) config.temp_directory = opts.tempDirectory;
  return DuckDBInstance.create(":memory:", config);
}

/** A private in-memory DuckDB for one conversion: nothing persists in it between files. */
export async function openDuck(opts: DuckOptions): Promise<DuckSession> {
  const instance = await openDuckInstance(opts);
  const conn = await DuckDBConnection.create(instance);
  return {
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** SQL string literal: for file paths handed to read_csv/COPY (DuckDB takes no bind parameters there). */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** SQL identifier, quoted. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

function jsonValue(v: unknown): ProfileValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return String(v);
}

/**
 * Row count and, per column, type, null count, min and max of a Parquet file,
 * read back with DuckDB (so the profile describes what was written, not what
 * was intended).
 */
export async function profileParquet(conn: DuckDBConnection, parquetPath: string): Promise<TableProfile> {
  // hive_partitioning off: a path under `ingest_date=…/` would otherwise grow a phantom column.
  const src = `read_parquet(${sqlString(parquetPath)}, hive_partitioning = false)`;
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
  const cols = described.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const count = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${src}`);
  const rowCount = Number(count.getRowObjectsJS()[0]?.n ?? 0);
  if (cols.length === 0) return { rowCount, columns: [] };
  // min/max as VARCHAR keep every type printable; numbers are turned back into numbers below.
  const parts = cols.flatMap((c, i) => {
    const id = sqlIdent(c.name);
    return [`count(*) - count(${id}) AS n${i}`, `min(${id})::VARCHAR AS lo${i}`, `max(${id})::VARCHAR AS hi${i}`];
  });
  const stats = (await conn.runAndReadAll(`SELECT ${parts.join(", ")} FROM ${src}`)).getRowObjectsJS()[0] ?? {};
  const numeric = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;
  const columns: ColumnProfile[] = cols.map((c, i) => {
    const asValue = (v: unknown): ProfileValue => {
      const s = jsonValue(v);
      if (typeof s === "string" && numeric.test(c.type)) {
        const n = Number(s);
        if (Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(s))) return n;
      }
      return s;
    };
    return {
      name: c.name,
      type: c.type,
      nullCount: Number(stats[`n${i}`] ?? 0),
      min: asValue(stats[`lo${i}`]),
      max: asValue(stats[`hi${i}`]),
    };
  });
  return { rowCount, columns };
}
