import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import Database from "better-sqlite3";
import type { ManifestProcessing } from "../../src/core/manifest-line.js";
import type { ManifestLine } from "./sandbox.js";

/** The shared test corpus (../shared/corpus from the repository root), used in place, never copied into the repo. */
export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "corpus");

export function corpusFacts<T = Record<string, unknown>>(rel: string): Record<string, T> {
  return JSON.parse(readFileSync(join(CORPUS, rel), "utf8")) as Record<string, T>;
}

/** Copies corpus files into staging under `sub/` (their base name kept). */
export function stage(input: string, files: string[], sub = ""): void {
  mkdirSync(join(input, sub), { recursive: true });
  for (const f of files) cpSync(join(CORPUS, f), join(input, sub, basename(f)));
}

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
