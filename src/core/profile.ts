/**
 * What a processor reports about a table it wrote. Persisted in state and on
 * the manifest line, so every field is plain JSON (64-bit integers and
 * decimals become numbers when exact, strings otherwise).
 */
export type ProfileValue = string | number | boolean | null;

export interface ColumnProfile {
  name: string;
  /**
   * The column's name in the file when it is not `name` (a JSON key holding NUL, a CSV header name repeated or
   * with a control character: see src/processors/tabular/column-names.ts).
   */
  source?: string;
  /** The DuckDB type name as written to Parquet (BIGINT, DOUBLE, VARCHAR, TIMESTAMP WITH TIME ZONE, …). */
  type: string;
  nullCount: number;
  min: ProfileValue;
  max: ProfileValue;
}

export interface TableProfile {
  /** Set for outputs of a multi-table input (a SQL dump); absent for a single table. */
  table?: string;
  rowCount: number;
  columns: ColumnProfile[];
}

/** One data row that did not pass: `row` is the 1-based data-row number (header excluded). */
export interface InvalidRow {
  row: number;
  error: string;
}
