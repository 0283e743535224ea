import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "./duckdb-session.js";

/**
 * Column types whose Parquet statistics, as DuckDB prints them in `parquet_metadata()`, cast back to the very value
 * a min()/max() over the data gives (checked value for value by test/processors/footer-profile.test.ts). Others
 * (BLOB: printed escaped; TIME, nested and exotic types; HUGEINT is written as DOUBLE) are always scanned.
 */
const FOOTER_TYPES =
  /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|DATE|TIMESTAMP|TIMESTAMP WITH TIME ZONE|VARCHAR)$/;

/** What the footer of a Parquet just written says about one top-level column. */
export interface FooterColumn {
  name: string;
  /** DuckDB's type name, as DESCRIBE over the file gives it. */
  type: string;
  /** Its index among the Parquet's leaf columns (`column_id` in parquet_metadata). */
  index: number;
  nullCount: number;
  /**
   * True when every row group holding a value carries exact min/max statistics of a type in FOOTER_TYPES, so
   * {@link footerBoundsSql} gives the column's true min and max without reading a value. False: scan it.
   */
  exact: boolean;
  /** Exact columns: DuckDB's text of the least and the greatest value (null when every value is NULL). */
  min: string | null;
  max: string | null;
}

export interface Footer {
  rowCount: number;
  columns: FooterColumn[];
}

/**
 * Reads a Parquet's footer (row groups and their statistics; no data page) for the profile and the aggregations.
 * Null when the file's columns do not map one to one onto leaf columns (nested types): then everything is scanned.
 *
 * Parquet statistics are not always the data's values: a string longer than DuckDB keeps in statistics (256
 * bytes) is cut and its max rounded up to a string the file does not hold (`min_is_exact`/`max_is_exact` false);
 * a float column holding NaN has no statistics. Those columns are marked not exact and are scanned, so no value
 * the data does not hold is ever reported. (±0: DuckDB's statistics and its min/max agree, see the test.)
 */
export async function readFooter(conn: DuckDBConnection, parquetPath: string): Promise<Footer | null> {
  const path = sqlString(parquetPath);
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${path})`);
  const cols = described.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const meta = await conn.runAndReadAll(
    `SELECT any_value(path_in_schema) AS leaf, sum(row_group_num_rows)::BIGINT AS rows,
       sum(stats_null_count)::BIGINT AS nulls,
       count(*) FILTER (WHERE stats_null_count IS NULL)::BIGINT AS unknown_nulls,
       bool_and(coalesce(min_is_exact AND max_is_exact AND stats_min_value IS NOT NULL AND stats_max_value IS NOT NULL, false))
         FILTER (WHERE ${HOLDS_VALUES}) AS exact
     FROM parquet_metadata(${path}) GROUP BY column_id ORDER BY column_id`,
  );
  const leaves = meta.getRowObjectsJS();
  // A file of no rows may have no row group at all: then every column is empty.
  if (leaves.length === 0) {
    return {
      rowCount: 0,
      columns: cols.map((c, index) => ({ ...c, index, nullCount: 0, exact: true, min: null, max: null })),
    };
  }
  if (leaves.length !== cols.length || leaves.some((l, i) => String(l.leaf) !== cols[i]?.name)) return null;
  const columns: FooterColumn[] = cols.map((c, index) => {
    const l = leaves[index] as Record<string, unknown>;
    const known = Number(l.unknown_nulls) === 0;
    // exact is NULL when no row group holds a value (all NULL): min and max are then NULL, exactly.
    const exact = known && FOOTER_TYPES.test(c.type) && l.exact !== false;
    return { ...c, index, nullCount: known ? Number(l.nulls) : -1, exact, min: null, max: null };
  });
  await readBounds(conn, path, columns);
  return { rowCount: Number(leaves[0]?.rows ?? 0), columns };
}

/** Row groups where a column holds at least one value: only those have (and need) statistics. */
const HOLDS_VALUES = "(stats_null_count IS NULL OR stats_null_count < row_group_num_rows)";

/**
 * Fills in min and max of the exact columns, in one read of the footer: the least of the row groups' minimums
 * and the greatest of their maximums, compared as the column's type (the CASE keeps each cast to its column).
 */
async function readBounds(conn: DuckDBConnection, path: string, columns: FooterColumn[]): Promise<void> {
  const exact = columns.filter((c) => c.exact);
  if (exact.length === 0) return;
  const typed = (c: FooterColumn, field: string) =>
    `CASE WHEN column_id = ${c.index} AND ${HOLDS_VALUES} THEN CAST(${field} AS ${c.type}) END`;
  const parts = exact.flatMap((c) => [
    `min(${typed(c, "stats_min_value")})::VARCHAR AS lo${c.index}`,
    `max(${typed(c, "stats_max_value")})::VARCHAR AS hi${c.index}`,
  ]);
  const r = await conn.runAndReadAll(`SELECT ${parts.join(", ")} FROM parquet_metadata(${path})`);
  const row = r.getRowObjectsJS()[0] ?? {};
  for (const c of exact) {
    const [lo, hi] = [row[`lo${c.index}`], row[`hi${c.index}`]];
    c.min = lo === null || lo === undefined ? null : String(lo);
    c.max = hi === null || hi === undefined ? null : String(hi);
  }
}

/**
 * SQL for an exact column's min and max as values of its type: DuckDB's text of a value of these types casts back
 * to the same value (the session's TimeZone is the one the text was printed in).
 */
export function footerBoundsSql(col: FooterColumn): { lo: string; hi: string } {
  const value = (text: string | null) =>
    text === null ? `NULL::${col.type}` : `CAST(${sqlString(text)} AS ${col.type})`;
  return { lo: value(col.min), hi: value(col.max) };
}
