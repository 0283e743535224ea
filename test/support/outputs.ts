import { DuckDBInstance } from "@duckdb/node-api";
import Database from "better-sqlite3";
import type { ManifestProcessing } from "../../src/core/manifest-line.js";
import type { ManifestLine } from "./sandbox.js";

/** Row count and column names of a Parquet file, read back with DuckDB. */
export async function readParquetFacts(path: string): Promise<{ rows: number; columns: string[]; types: string[] }> {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const lit = `'${path.replaceAll("'", "''")}'`;
    const n = (
      await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${lit}, hive_partitioning = false)`)
    ).getRowObjectsJS()[0];
    const cols = (
      await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit}, hive_partitioning = false)`)
    ).getRowObjectsJS();
    return {
      rows: Number(n?.n ?? -1),
      columns: cols.map((c) => String(c.column_name)),
      types: cols.map((c) => String(c.column_type)),
    };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Manifest lines with the processing summary sluice adds. */
export type ProcessedLine = ManifestLine & {
  archive_ingest_id?: string;
  member_path?: string;
  processing?: ManifestProcessing & { aggregations?: Record<string, unknown> };
};

/** Every invalid row recorded in state for one file. */
export function invalidRowsInState(statePath: string, ingestId: string): { row: number; error: string }[] {
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT row, error FROM invalid_rows WHERE ingest_id = ? ORDER BY seq").all(ingestId) as {
      row: number;
      error: string;
    }[];
  } finally {
    db.close();
  }
}
