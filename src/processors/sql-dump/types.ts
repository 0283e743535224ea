/** A literal value read from a dump: never the result of evaluating SQL beyond a few pure string functions. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** A column as declared by CREATE TABLE; `type` is the declared type text (null when none was given). */
export interface DeclaredColumn {
  name: string;
  type: string | null;
}

/**
 * What {@link readSqlDump} reports, in file order.
 * - `table`: a CREATE TABLE, or the first data of a table no CREATE TABLE described (`columns: null`).
 * - `rows`: a batch of rows from one INSERT or COPY block; `columns` is the statement's own column list, if any;
 *   `lines[i]` is the 1-based line where `rows[i]` starts (`firstLine === lines[0]`).
 * - `error`: a statement or row that could not be read; it was skipped and reading went on.
 */
export type SqlEvent =
  | { kind: "table"; table: string; columns: DeclaredColumn[] | null }
  | { kind: "rows"; table: string; columns: string[] | null; rows: SqlValue[][]; firstLine: number; lines: number[] }
  | { kind: "error"; table: string | null; line: number; message: string };

/** Rows per `rows` event: one DuckDB vector, so a batch maps onto one appender chunk. */
export const BATCH_ROWS = 2048;
