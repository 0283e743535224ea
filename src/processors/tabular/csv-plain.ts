import { open, rm, writeFile } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { CsvHead } from "./csv-head.js";
import { type CsvReadSpec, readCsvSql, rejectedRowsSql } from "./csv-sql.js";
import { copyToParquet, isDialectError } from "./duck-helpers.js";
import { sqlIdent, sqlString } from "./duckdb-session.js";

export interface CsvInput {
  path: string;
  head: CsvHead;
  fileBytes: number;
  outTmp: string;
}

export interface PlainCsvOutcome {
  rowCount: number;
  /** Relation (row, error, line) of the records DuckDB could not read; null when it rejected none. */
  skipped: string | null;
  /** Set when the file could only be read with DuckDB's strict mode off (mixed line endings). */
  lenient: boolean;
  /** Set when the sniffer could not be used, so every column is text. */
  untyped: boolean;
}

/** Sniffed types that a later row contradicts are widened to text, a few columns at a time, at most this often. */
const TYPE_ROUNDS = 3;
/** What the sniff before a footer reads at most (DuckDB's own sniff samples about as much). */
const SNIFF_BYTES = 4 << 20;

/**
 * CSV/TSV without a schema: DuckDB sniffs the types (a leading-zero code such
 * as `00501` stays text) in the dialect and with the names csv-head.ts found,
 * and reads the file once into Parquet. An unquoted empty field is NULL, a
 * quoted `""` the empty string (so a column holding one is text).
 * Records it cannot read (ragged, undecodable, an unclosed quote) are skipped
 * and reported, never guessed at. A sampled type that a later row
 * contradicts would otherwise reject good rows, so such columns are read
 * again as text. Files the sniffer cannot make sense of are read with the
 * header's names, every column as text.
 */
export async function convertPlainCsv(conn: DuckDBConnection, input: CsvInput): Promise<PlainCsvOutcome> {
  const types = await typesBeforeFooter(conn, input);
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
    // A footer's lines are no rows: what they hold types nothing.
    const footer = input.head.footer ? `AND line_byte_position < ${input.head.footer.fromByte}` : "";
    // One query for both: the columns to widen, and whether anything was rejected at all (most files: no).
    const cast = await conn.runAndReadAll(
      `SELECT count(*) AS n, list(DISTINCT column_name) FILTER (WHERE error_type = 'CAST' AND column_name IS NOT NULL ${footer}) AS widen FROM ${sqlIdent(rejects)}`,
    );
    const found = cast.getRowObjectsJS()[0];
    const widen = ((found?.widen as unknown[] | null) ?? []).map(String);
    if (widen.length === 0 || round === TYPE_ROUNDS) {
      if (widen.length === 0) {
        const skipped = Number(found?.n ?? 0) === 0 ? null : skippedSql(rejects, input);
        return { rowCount, skipped, lenient: false, untyped: false };
      }
      break;
    }
    for (const c of widen) types[c] = "VARCHAR";
  }
  return readAsText(conn, input);
}

/** DuckDB's type sniffer reads a footer (csv-layout.ts) like any row: types are sniffed on what comes before it. */
async function typesBeforeFooter(conn: DuckDBConnection, input: CsvInput): Promise<Record<string, string>> {
  const footer = input.head.footer;
  if (!footer) return {};
  const copy = `${input.outTmp}.head.csv`;
  const fh = await open(input.path, "r");
  try {
    const buf = Buffer.alloc(Math.min(footer.fromByte, SNIFF_BYTES));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    // Whole lines only (a cut inside a quoted field only costs the sniff: DuckDB's own one is used then).
    const end = Math.max(buf.lastIndexOf(0x0a, bytesRead - 1), buf.lastIndexOf(0x0d, bytesRead - 1)) + 1;
    await writeFile(copy, buf.subarray(0, end));
    const spec: CsvReadSpec = {
      path: copy,
      head: input.head,
      columns: null,
      strict: false,
      padded: false,
      rejects: null,
    };
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${readCsvSql(spec)}`);
    const cols = described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]);
    return cols.length === input.head.names.length ? Object.fromEntries(cols) : {};
  } catch {
    return {};
  } finally {
    await fh.close();
    await rm(copy, { force: true });
  }
}

function base(input: CsvInput): Pick<CsvReadSpec, "path" | "head"> {
  return { path: input.path, head: input.head };
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
