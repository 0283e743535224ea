/**
 * A numeric literal that is not a safe integer (a decimal point, an exponent, or more digits than a double holds
 * exactly), kept as the text the dump wrote (sign included): `numeric(20,5)` and DECIMAL columns need every digit.
 */
export class NumberText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/**
 * `DEFAULT` in a VALUES list: the dump holds no value there (pg_dump --inserts writes it for generated columns).
 * Only the table sink sees it: it skips it in a column left out of the output, else refuses the row.
 */
export class SqlDefault {
  toString(): string {
    return "DEFAULT";
  }
}

export const DEFAULT: SqlDefault = new SqlDefault();

/**
 * A literal value read from a dump: never the result of evaluating SQL beyond a few pure string functions.
 * - `string`: a quoted literal or a COPY field, **as raw bytes** (one latin1 char per byte, escapes already
 *   decoded): only the column it lands in decides whether those bytes are text in the dump's charset or binary;
 * - `Uint8Array`: bytes the dump marked as binary (`X'…'`, `0x…`, `_binary '…'`);
 * - `number`: a safe integer literal; `bigint`: a larger integer literal; `NumberText`: any other number;
 * - {@link DEFAULT}: the keyword DEFAULT.
 */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array | NumberText | SqlDefault;

/** A column as declared by CREATE TABLE; `type` is the declared type text (null when none was given). */
export interface DeclaredColumn {
  name: string;
  type: string | null;
  /**
   * MySQL: the charset of a text column (its own `CHARACTER SET`/`COLLATE`, else its table's `DEFAULT CHARSET`).
   * Its values are in it only in a dump taken with `SET NAMES binary` (see Charset.perColumn).
   */
  charset?: string;
  /** A generated (computed) column, `[GENERATED ALWAYS] AS (expr)`: the database computes its values. */
  generated?: boolean;
}

/** Which tool's rules a dump follows, as far as its statements tell (types and quoting depend on it). */
export type Dialect = "generic" | "postgres" | "mysql" | "sqlite" | "sqlserver";

/**
 * What {@link readSqlDump} reports, in file order.
 * - `settings`: the dialect, the declared charset (`SET NAMES`, `SET client_encoding`) or MySQL's declared time
 *   zone (`SET TIME_ZONE='+00:00'`) changed; they apply to the events after it. Not sent while they keep their
 *   defaults (`generic`, `utf8`, no time zone).
 * - `table`: a CREATE TABLE, or the first data of a table no CREATE TABLE described (`columns: null`).
 * - `rows`: a batch of rows from one INSERT or COPY block; `columns` is the statement's own column list, if any;
 *   `lines[i]` is the 1-based line where `rows[i]` starts (`firstLine === lines[0]`).
 * - `error`: a statement or row that could not be read; it was skipped and reading went on.
 *
 * Table names are as the dump qualifies them (`public.film`, `dbo.Customer`, `film`): see {@link qualifiedName}.
 */
export type SqlEvent =
  | { kind: "settings"; dialect: Dialect; charset: string; timeZone?: string }
  | { kind: "table"; table: string; columns: DeclaredColumn[] | null }
  | { kind: "rows"; table: string; columns: string[] | null; rows: SqlValue[][]; firstLine: number; lines: number[] }
  | { kind: "error"; table: string | null; line: number; message: string };

/** Rows per `rows` event: one DuckDB vector, so a batch maps onto one appender chunk. */
export const BATCH_ROWS = 2048;
