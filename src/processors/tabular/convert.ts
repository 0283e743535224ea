import { rm, stat } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow, TableProfile } from "../profile.js";
import { aggregateParquet } from "../validate/aggregate.js";
import { collectInvalidRows, syncAndRename } from "../validate/invalid-rows.js";
import { statusOf, type ValidationResult } from "../validate/result.js";
import type { FeedSchema } from "../validate/schema.js";
import { readCsvHead } from "./csv-head.js";
import { type CsvInput, convertPlainCsv } from "./csv-plain.js";
import { convertValidatedCsv } from "./csv-validated.js";
import { firstLine } from "./duck-helpers.js";
import { type DuckOptions, openDuck } from "./duckdb-session.js";
import { TabularError } from "./errors.js";
import { delimiterOf, type TabularFormat } from "./format.js";
import { convertJson } from "./json-convert.js";
import { profileParquetByColumn } from "./parquet-profile.js";

export interface ConvertResult {
  /** The Parquet written, or null when the input holds no table (see `note`) or no valid row. */
  parquetPath: string | null;
  profile: TableProfile | null;
  /**
   * Present when a schema applied, and also without one when the reader had
   * to skip records (ragged rows, bad encoding, bad JSONL lines): then the
   * status is "partial" and the skipped records are the invalid rows.
   */
  validation?: ValidationResult;
  /** Why there is no table although the name suggested one (an empty file, a JSON object). */
  note?: string;
}

export type ConvertOptions = DuckOptions & { schema?: FeedSchema | null; rejectsPath?: string };

interface Converted {
  rowCount: number;
  invalidCount: number;
  invalidRows: InvalidRow[];
}

/**
 * Converts `inputPath` to ZSTD Parquet at `outPath` (written as `outPath.tmp`,
 * fsynced, renamed, directory fsynced). DuckDB reads the file itself under the
 * session's memory limit; JS only ever sees the first MiB of a CSV, streams a
 * JSON file through a syntax check, and receives the invalid rows.
 *
 * Files that hold no table are not errors: an empty or blank file, and
 * well-formed JSON that is not a list of records, come back with
 * `parquetPath: null` and a `note` (the caller keeps the raw file). A header
 * without rows gives a Parquet with the columns and no rows. Bad records are
 * reported, not fatal, as long as one record is readable.
 *
 * @throws TabularError when nothing in the file can be read as a table
 * (broken JSON, a CSV whose every record is rejected), with `where`.
 */
export async function convertTabular(
  inputPath: string,
  format: TabularFormat,
  outPath: string,
  opts: ConvertOptions,
): Promise<ConvertResult> {
  const tmp = `${outPath}.tmp`;
  const schema = opts.schema ?? null;
  await rm(tmp, { force: true });
  const session = await openDuck(opts);
  const conn = session.conn;
  try {
    // Timestamps without an offset are UTC, whatever the host's zone: the same file must give the same values.
    await conn.run("SET TimeZone = 'UTC'");
    let converted: Converted;
    if (format === "csv" || format === "tsv") {
      const c = await convertCsv(conn, inputPath, format, tmp, schema, opts.rejectsPath);
      if ("note" in c) return { parquetPath: null, profile: null, note: c.note };
      converted = c;
    } else {
      const input = {
        path: inputPath,
        format,
        outTmp: tmp,
        schema,
        ...(opts.rejectsPath ? { rejectsPath: opts.rejectsPath } : {}),
      };
      const j = await convertJson(conn, input);
      if (j.kind === "note") return { parquetPath: null, profile: null, note: j.note };
      converted = j;
    }
    return await finish(conn, converted, tmp, outPath, schema);
  } catch (err) {
    await rm(tmp, { force: true });
    throw asTabularError(err);
  } finally {
    session.close();
  }
}

/**
 * DuckDB's own refusals of what a file holds (binding, parsing, converting, "not implemented" shapes) are the
 * file's problem, not sluice's: the file is quarantined as unparseable with DuckDB's words, instead of as an
 * internal error. Out-of-memory, I/O and internal DuckDB errors pass through unchanged.
 */
function asTabularError(err: unknown): unknown {
  if (err instanceof TabularError || !(err instanceof Error)) return err;
  if (!/^(Binder|Parser|Conversion|Invalid Input|Not implemented|Parameter Not Allowed) Error/.test(err.message)) {
    return err;
  }
  return new TabularError("SLUICE_ERR_PARSE", `DuckDB could not read the file as a table: ${firstLine(err)}`);
}

async function convertCsv(
  conn: DuckDBConnection,
  path: string,
  format: "csv" | "tsv",
  outTmp: string,
  schema: FeedSchema | null,
  rejectsPath: string | undefined,
): Promise<Converted | { note: string }> {
  const delim = delimiterOf(format);
  const head = await readCsvHead(path, delim);
  if (head.blank) return { note: "no table: the file is empty (no header, no rows)" };
  const input: CsvInput = { path, delim, head, fileBytes: (await stat(path)).size, outTmp };
  if (schema) return convertValidatedCsv(conn, input, schema, rejectsPath);
  const plain = await convertPlainCsv(conn, input);
  const invalid = await collectInvalidRows(
    conn,
    "sluice_invalid",
    { skipped: plain.skipped, residual: null },
    rejectsPath,
  );
  if (plain.rowCount === 0 && invalid.invalidCount > 0) {
    const first = invalid.invalidRows[0] as InvalidRow;
    const code = first.error.startsWith("invalid_encoding") ? "SLUICE_ERR_ENCODING" : "SLUICE_ERR_PARSE";
    throw new TabularError(code, `no record could be read; data row ${first.row}: ${first.error}`, {
      row: first.row,
      line: first.row + 1 + head.skip,
    });
  }
  return { rowCount: plain.rowCount, ...invalid };
}

async function finish(
  conn: DuckDBConnection,
  c: Converted,
  tmp: string,
  outPath: string,
  schema: FeedSchema | null,
): Promise<ConvertResult> {
  const status = statusOf(c.rowCount, c.invalidCount);
  const needsValidation = schema !== null || c.invalidCount > 0;
  if (status === "failed") {
    // No valid row: a Parquet of nothing would only mislead; the rejects file says why.
    await rm(tmp, { force: true });
    const validation = {
      status,
      rowCount: 0,
      invalidCount: c.invalidCount,
      invalidRows: c.invalidRows,
      aggregations: { row_count: 0 },
    };
    return { parquetPath: null, profile: null, validation };
  }
  // Profiled before the rename: a Parquet DuckDB cannot read back must not reach the output path.
  const profile = await profileParquetByColumn(conn, tmp);
  const aggregations =
    needsValidation && schema ? await aggregateParquet(conn, tmp, schema) : { row_count: c.rowCount };
  await syncAndRename(tmp, outPath);
  if (!needsValidation) return { parquetPath: outPath, profile };
  const validation: ValidationResult = {
    status,
    rowCount: c.rowCount,
    invalidCount: c.invalidCount,
    invalidRows: c.invalidRows,
    aggregations,
  };
  return { parquetPath: outPath, profile, validation };
}
