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
    `SELECT column_id::BIGINT AS id, any_value(path_in_schema) AS leaf,
       sum(stats_null_count)::BIGINT AS nulls,
       count(*) FILTER (WHERE stats_null_count IS NULL)::BIGINT AS unknown_nulls,
       bool_and(coalesce(min_is_exact AND max_is_exact AND stats_min_value IS NOT NULL AND stats_max_value IS NOT NULL, false))
         FILTER (WHERE stats_null_count IS NULL OR stats_null_count < row_group_num_rows) AS exact
     FROM parquet_metadata(${path}) GROUP BY column_id ORDER BY column_id`,
  );
  const groups = await conn.runAndReadAll(
    `SELECT coalesce(sum(n), 0)::BIGINT AS n FROM (SELECT DISTINCT row_group_id, row_group_num_rows AS n FROM parquet_metadata(${path}))`,
  );
  const rowCount = Number(groups.getRowObjectsJS()[0]?.n ?? 0);
  const leaves = meta.getRowObjectsJS();
  // An empty file may have no row group at all: then there is nothing to read, every column is empty.
  if (leaves.length === 0) {
    if (rowCount !== 0) return null;
    return { rowCount, columns: cols.map((c, index) => ({ ...c, index, nullCount: 0, exact: true })) };
  }
  if (leaves.length !== cols.length || leaves.some((l, i) => String(l.leaf) !== cols[i]?.name)) return null;
  const columns = cols.map((c, index) => {
    const l = leaves[index] as Record<string, unknown>;
    const known = Number(l.unknown_nulls) === 0;
    const typed = FOOTER_TYPES.test(c.type);
    // exact is NULL when no row group holds a value (all NULL): min and max are then NULL, exactly.
    const exact = known && typed && l.exact !== false;
    return { ...c, index, nullCount: known ? Number(l.nulls) : -1, exact };
  });
  return { rowCount, columns };
}

/**
 * Scalar SQL giving an exact column's min and max, typed as the column, from its row-group statistics (NULL when
 * every value is NULL). The CASE keeps the cast to the rows of this column.
 */
export function footerBoundsSql(parquetPath: string, col: FooterColumn): { lo: string; hi: string } {
  const from = `FROM parquet_metadata(${sqlString(parquetPath)})`;
  const cast = (field: string) =>
    `CASE WHEN column_id = ${col.index} AND (stats_null_count IS NULL OR stats_null_count < row_group_num_rows) THEN CAST(${field} AS ${col.type}) END`;
  return {
    lo: `(SELECT min(${cast("stats_min_value")}) ${from})`,
    hi: `(SELECT max(${cast("stats_max_value")}) ${from})`,
  };
}
