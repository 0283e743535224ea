import type { CsvHead } from "./csv-head.js";
import { sqlIdent, sqlString } from "./duckdb-session.js";

/** Longest CSV record read (the corpus has a 10 MB line); DuckDB's default is 2 MB. */
export const MAX_LINE_BYTES = 16 << 20;
/** DuckDB sizes its read buffers at 16 × max_line_size unless told: 256 MiB each here, so say one line's worth. */
const BUFFER_BYTES = MAX_LINE_BYTES;

/**
 * The stage of the staged pass reads every empty field as '' so that NULL can only mean "the row ended early"
 * (null padding); whether an empty field was quoted is read apart (see csv-validated.ts).
 */
export const NULL_SENTINEL = "\u001fsluice:no-null-string\u001f";
/** One column past the header: a row with one field too many lands here instead of being silently accepted. */
export const EXTRA_COLUMN = "__sluice_extra";

export interface CsvReadSpec {
  path: string;
  head: CsvHead;
  /** Explicit columns (name, DuckDB type), or null to let DuckDB's sniffer type them. */
  columns: [string, string][] | null;
  /** With sniffing: types to force, by column name. */
  types?: Record<string, string>;
  /** false only for files mixing line endings, which DuckDB's strict mode refuses. */
  strict: boolean;
  /** Null padding and the extra column, read as text (explicit columns only): the caller checks it is NULL. */
  padded: boolean;
  /**
   * How empty fields read. "csv" (the default): an unquoted empty field is NULL, a quoted `""` the empty string,
   * as PostgreSQL's COPY reads CSV. "text": every empty field is '', so that with padding NULL means a short row.
   */
  empties?: "csv" | "text";
  /** false: one reader thread (DuckDB's parallel scanner cannot null-pad around quoted newlines). Default true. */
  parallel?: boolean;
  /** A rejects table to fill (then bad records are skipped), or null to fail on the first bad record. */
  rejects: string | null;
}

function structSql(entries: [string, string][]): string {
  return `{${entries.map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(", ")}}`;
}

/**
 * A read_csv(...) call in the detected dialect (csv-head.ts): DuckDB's sniffer may not guess the delimiter, the
 * quote or the header away, and the names are always ours.
 */
export function readCsvSql(r: CsvReadSpec): string {
  const d = r.head.dialect;
  const args = [
    sqlString(r.path),
    `delim = ${sqlString(d.delimiter)}`,
    `quote = ${sqlString(d.quote)}`,
    `escape = ${sqlString(d.escape)}`,
    `header = ${r.head.header}`,
    `skip = ${r.head.skip}`,
    // The sniffer may otherwise take '#' for a comment marker and silently drop rows such as "#tag,1".
    "comment = ''",
    `encoding = ${sqlString(r.head.encoding)}`,
    `max_line_size = ${MAX_LINE_BYTES}`,
    `buffer_size = ${BUFFER_BYTES}`,
    `strict_mode = ${r.strict}`,
  ];
  if (r.parallel === false) args.push("parallel = false");
  if (r.columns) {
    const extra: [string, string] = [EXTRA_COLUMN, "VARCHAR"];
    const cols = r.padded ? [...r.columns, extra] : r.columns;
    args.push("auto_detect = false", `columns = ${structSql(cols)}`);
    if (r.padded) args.push("null_padding = true");
  } else {
    args.push(`names = [${r.head.names.map(sqlString).join(", ")}]`);
    if (r.types && Object.keys(r.types).length > 0) args.push(`types = ${structSql(Object.entries(r.types))}`);
  }
  args.push(r.empties === "text" ? `nullstr = ${sqlString(NULL_SENTINEL)}` : "allow_quoted_nulls = false");
  if (r.rejects)
    args.push(
      "store_rejects = true",
      `rejects_table = ${sqlString(r.rejects)}`,
      `rejects_scan = ${sqlString(`${r.rejects}_scan`)}`,
    );
  return `read_csv(${args.join(", ")})`;
}

/** Lines DuckDB counts before the first data row: a rejected record's `line` minus this is its data row. */
export function rowOffset(head: CsvHead): number {
  return head.skip + (head.header ? 1 : 0);
}

/**
 * The rejected records of a read as (row, error, line): one per record,
 * DuckDB's `line` being the record's ordinal in the file (a quoted newline
 * does not count, a blank line does), so data row = line - rowOffset.
 * Records of a footer (csv-layout.ts) are not rows: they are left out.
 * Known limit: a blank line in the middle of the data (not a record for the
 * rows that were read) still counts for a rejected record after it, whose
 * number is then one higher per such blank line; DuckDB reports nothing
 * that would let us subtract them.
 */
export function rejectedRowsSql(rejectsTable: string, head: CsvHead, headerColumns: number, fileBytes: number): string {
  const t = sqlIdent(rejectsTable);
  const enc = head.encoding === "utf-16" ? "UTF-16" : "UTF-8";
  const has = (cond: string) => `bool_or(${cond})`;
  const reachesEnd = `max(r.line_byte_position + strlen(r.csv_line)) >= ${fileBytes - 2}`;
  const notFooter = head.footer ? `WHERE r.line_byte_position < ${head.footer.fromByte}` : "";
  return `SELECT r."line" - ${rowOffset(head)} AS row,
    CASE
      WHEN ${has("r.error_type = 'INVALID ENCODING'")} THEN ${sqlString(`invalid_encoding: the row is not valid ${enc}`)}
      WHEN ${has("r.error_type = 'UNQUOTED VALUE'")} AND ${reachesEnd}
        THEN 'unterminated_quote: a quoted field opens in this row and is never closed; the rest of the file could not be read'
      WHEN ${has("r.error_type = 'UNQUOTED VALUE'")} THEN 'bad_quote: ' || any_value(r.error_message)
      WHEN ${has("r.error_type = 'LINE SIZE OVER MAXIMUM'")} THEN ${sqlString(`line_too_long: the row is longer than ${MAX_LINE_BYTES} bytes`)}
      WHEN ${has(`r.error_type = 'TOO MANY COLUMNS' OR (r.error_type = 'CAST' AND r.column_name = ${sqlString(EXTRA_COLUMN)})`)}
        THEN ${sqlString(`extra_column: the row has more fields than the ${headerColumns} header columns`)}
      WHEN ${has("r.error_type = 'MISSING COLUMNS'")}
        THEN ${sqlString(`missing_field: the row has fewer fields than the ${headerColumns} header columns`)}
      ELSE 'parse_error: ' || any_value(r.error_message)
    END AS error,
    left(ltrim(any_value(r.csv_line), ${sqlString("\r\n")}), 1000) AS line
  FROM ${t} r ${notFooter} GROUP BY r."line"`;
}
