import { rename, rm } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow } from "../../core/profile.js";
import { sqlIdent, sqlString } from "../tabular/duckdb-session.js";
import { MAX_INVALID_ROWS_IN_MEMORY } from "./result.js";

/**
 * Invalid rows come from two places: records the reader could not hand over
 * at all ("skipped": a ragged or undecodable CSV record, an unparseable JSONL
 * line), which already carry their data-row number, and rows that were read
 * but failed a check ("residual"), which only know their ordinal k among the
 * rows that were read. Both stay in DuckDB (bounded by its memory limit) and
 * are merged there; JS receives at most MAX_INVALID_ROWS_IN_MEMORY of them.
 */
export interface InvalidSources {
  /** A relation with columns (row BIGINT, error VARCHAR, line VARCHAR), rows unique; null when nothing was skipped. */
  skipped: string | null;
  /** A relation with columns (k BIGINT, error VARCHAR, line VARCHAR), k 1-based among the rows read. */
  residual: string | null;
}

export interface InvalidRowsOutcome {
  invalidCount: number;
  invalidRows: InvalidRow[];
}

/**
 * The data-row number of the k-th row read is k plus the number of skipped
 * rows before it; with s_i the i-th skipped row, i rows are skipped before
 * the k-th read row exactly when s_i - i < k, so an ASOF join on s_i - i finds it.
 */
function mergedSql(src: InvalidSources): string {
  const none =
    "SELECT CAST(NULL AS BIGINT) AS row, CAST(NULL AS VARCHAR) AS error, CAST(NULL AS VARCHAR) AS line WHERE false";
  const skipped = src.skipped ? `SELECT row, error, line FROM ${src.skipped}` : none;
  if (!src.residual) return skipped;
  return `WITH s AS (${skipped}),
    g AS (SELECT row - i AS before, max(i) AS i FROM (SELECT row, row_number() OVER (ORDER BY row) AS i FROM s) GROUP BY ALL)
    SELECT row, error, line FROM s
    UNION ALL
    SELECT r.k + coalesce(g.i, 0) AS row, r.error, r.line FROM ${src.residual} r ASOF LEFT JOIN g ON r.k > g.before`;
}

/**
 * Builds the invalid-row table `name`, writes it as JSONL ({row, error, line})
 * to `rejectsPath` (as a tmp file, then renamed: never a partial file at that
 * path; the pipeline makes it durable) when there is any,
 * and returns the count and the rows in row order.
 */
export async function collectInvalidRows(
  conn: DuckDBConnection,
  name: string,
  src: InvalidSources,
  rejectsPath: string | undefined,
): Promise<InvalidRowsOutcome> {
  const table = sqlIdent(name);
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${mergedSql(src)}`);
  const count = Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJS()[0]?.n ?? 0);
  if (count === 0) return { invalidCount: 0, invalidRows: [] };
  if (rejectsPath) await writeRejects(conn, table, rejectsPath);
  const reader = await conn.runAndReadAll(
    `SELECT row, error FROM ${table} ORDER BY row LIMIT ${MAX_INVALID_ROWS_IN_MEMORY}`,
  );
  const invalidRows = reader.getRowObjectsJS().map((r) => ({ row: Number(r.row), error: String(r.error) }));
  return { invalidCount: count, invalidRows };
}

async function writeRejects(conn: DuckDBConnection, table: string, path: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  await conn.run(`COPY (SELECT row, error, line FROM ${table} ORDER BY row) TO ${sqlString(tmp)} (FORMAT json)`);
  await rename(tmp, path);
}
