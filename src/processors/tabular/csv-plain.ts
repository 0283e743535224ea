import type { DuckDBConnection } from "@duckdb/node-api";
import type { CsvHead } from "./csv-head.js";
import { type CsvReadSpec, readCsvSql, rejectedRowsSql } from "./csv-sql.js";
import { copyToParquet, isDialectError } from "./duck-helpers.js";
import { sqlIdent, sqlString } from "./duckdb-session.js";

export interface CsvInput {
  path: string;
  delim: string;
  head: CsvHead;
  fileBytes: number;
  outTmp: string;
}

export interface PlainCsvOutcome {
  rowCount: number;
  /** Relation (row, error, line) of the records DuckDB could not read. */
  skipped: string;
  /** Set when the file could only be read with DuckDB's strict mode off (mixed line endings). */
  lenient: boolean;
  /** Set when the sniffer could not be used, so every column is text. */
  untyped: boolean;
}

/** Sniffed types that a later row contradicts are widened to text, a few columns at a time, at most this often. */
const TYPE_ROUNDS = 3;

/**
 * CSV/TSV without a schema: DuckDB sniffs names and types (a leading-zero
 * code such as `00501` stays text) and reads the file once into Parquet.
 * Records it cannot read (ragged, undecodable, an unclosed quote) are skipped
 * and reported, never guessed at. A sampled type that a later row
 * contradicts would otherwise reject good rows, so such columns are read
 * again as text. Files the sniffer cannot make sense of are read with the
 * header's names, every column as text.
 */
export async function convertPlainCsv(conn: DuckDBConnection, input: CsvInput): Promise<PlainCsvOutcome> {
  const types: Record<string, string> = {};
  let round = 0;
  for (; round <= TYPE_ROUNDS; round++) {
    const rejects = `sluice_rejects_${round}`;
    const spec: CsvReadSpec = { ...base(input), columns: null, types, strict: true, padded: false, rejects };
    let rowCount: number;
    try {
      rowCount = await copyToParquet(conn, `SELECT * FROM ${readCsvSql(spec)}`, input.outTmp);
    } catch (err) {
      if (isDialectError(err)) break;
      throw err;
    }
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(input.outTmp)})`);
    if (described.currentRowCount !== input.head.names.length) break;
    const cast = await conn.runAndReadAll(
      `SELECT DISTINCT column_name FROM ${sqlIdent(rejects)} WHERE error_type = 'CAST' AND column_name IS NOT NULL`,
    );
    const widen = cast.getRowObjectsJS().map((r) => String(r.column_name));
    if (widen.length === 0 || round === TYPE_ROUNDS) {
      if (widen.length === 0) return { rowCount, skipped: skippedSql(rejects, input), lenient: false, untyped: false };
      break;
    }
    for (const c of widen) types[c] = "VARCHAR";
  }
  return readAsText(conn, input);
}

function base(input: CsvInput): Pick<CsvReadSpec, "path" | "delim" | "head"> {
  return { path: input.path, delim: input.delim, head: input.head };
}

function skippedSql(rejects: string, input: CsvInput): string {
  return `(${rejectedRowsSql(rejects, input.head, input.head.names.length, input.fileBytes)})`;
}

async function readAsText(conn: DuckDBConnection, input: CsvInput): Promise<PlainCsvOutcome> {
  const columns = input.head.names.map((n) => [n, "VARCHAR"] as [string, string]);
  for (const strict of [true, false]) {
    const rejects = `sluice_rejects_text_${strict ? "strict" : "lenient"}`;
    const spec: CsvReadSpec = { ...base(input), columns, strict, padded: false, rejects };
    try {
      const rowCount = await copyToParquet(conn, `SELECT * FROM ${readCsvSql(spec)}`, input.outTmp);
      return { rowCount, skipped: skippedSql(rejects, input), lenient: !strict, untyped: true };
    } catch (err) {
      if (!strict || !isDialectError(err)) throw err;
    }
  }
  throw new Error("unreachable");
}
