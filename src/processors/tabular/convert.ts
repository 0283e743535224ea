import { rename, rm, stat } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { CsvDialectSummary } from "../../core/processing.js";
import type { InvalidRow, TableProfile } from "../../core/profile.js";
import { aggregateParquet } from "../validate/aggregate.js";
import { collectInvalidRows } from "../validate/invalid-rows.js";
import { statusOf, type ValidationResult } from "../validate/result.js";
import type { FeedSchema } from "../validate/schema.js";
import { type CsvHead, readCsvHead } from "./csv-head.js";
import { type CsvInput, convertPlainCsv } from "./csv-plain.js";
import { rowOffset } from "./csv-sql.js";
import { convertValidatedCsv } from "./csv-validated.js";
import { duckMessage, isContentError } from "./duck-helpers.js";
import { type DuckOptions, openDuck } from "./duckdb-session.js";
import { TabularError } from "./errors.js";
import { delimiterOf, type TabularFormat } from "./format.js";
import { convertJson } from "./json-convert.js";
import { readFooter } from "./parquet-footer.js";
import { profileParquetByColumn } from "./parquet-profile.js";
import type { WarmDuck } from "./warm-duck.js";

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
  /** CSV/TSV: the dialect and layout detected (delimiter, quote, escape, header, preamble, footer). */
  dialect?: CsvDialectSummary;
  /** JSON/JSONL: records holding a key more than once (kept, with the last value). */
  duplicateKeys?: { count: number; records: number[] };
}

export type ConvertOptions = DuckOptions & {
  schema?: FeedSchema | null;
  rejectsPath?: string;
  /** The name the user knows the file by (its staging name), for error texts: DuckDB's name the descriptor path. */
  displayName?: string;
  /** The run's shared DuckDB (a connection of its own per file); without it, a private instance for this file. */
  duck?: WarmDuck;
};

interface Converted {
  rowCount: number;
  invalidCount: number;
  invalidRows: InvalidRow[];
  /** Column name → the file's own name for it, where they differ (ColumnProfile.source). */
  sources: Map<string, string>;
  facts: Pick<ConvertResult, "dialect" | "duplicateKeys">;
}

/**
 * Converts `inputPath` to ZSTD Parquet at `outPath` (written as `outPath.tmp`,
 * renamed once it reads back; plain files: the pipeline makes what a processor
 * wrote durable before it records it). DuckDB reads the file itself under the
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
  const session = opts.duck ? await opts.duck.session(opts) : await openDuck(opts);
  const conn = session.conn;
  try {
    // Timestamps without an offset are UTC, whatever the host's zone: the same file must give the same values.
    await conn.run("SET TimeZone = 'UTC'");
    let converted: Converted;
    if (format === "csv" || format === "tsv") {
      const c = await convertCsv(conn, inputPath, format, tmp, schema, opts.rejectsPath);
      if ("note" in c) return { parquetPath: null, profile: null, note: c.note, ...c.facts };
      converted = c;
    } else {
      const input = {
        path: inputPath,
        format,
        outTmp: tmp,
        schema,
        ...(opts.rejectsPath ? { rejectsPath: opts.rejectsPath } : {}),
        ...(opts.displayName ? { displayName: opts.displayName } : {}),
      };
      const j = await convertJson(conn, input);
      if (j.kind === "note") return { parquetPath: null, profile: null, note: j.note };
      const duplicates = j.duplicates.count > 0 ? { duplicateKeys: j.duplicates } : {};
      converted = { ...j, sources: j.renamed, facts: duplicates };
    }
    return await finish(conn, converted, tmp, outPath, schema);
  } catch (err) {
    await rm(tmp, { force: true });
    const told = asTabularError(err, inputPath, opts.displayName);
    // Not the file's fault (internal or fatal DuckDB error, out of memory, I/O): the next file gets a new instance.
    if (!(told instanceof TabularError)) opts.duck?.discard();
    throw told;
  } finally {
    session.close();
  }
}

/**
 * DuckDB's own refusals of what a file holds are the file's problem, not sluice's: the file is quarantined as
 * unparseable with DuckDB's words (naming the file as the user knows it), instead of as an internal error.
 * Out-of-memory, I/O and internal DuckDB errors pass through unchanged.
 */
function asTabularError(err: unknown, inputPath: string, displayName: string | undefined): unknown {
  if (err instanceof TabularError || !isContentError(err)) return err;
  const said = duckMessage(err, { paths: [inputPath], ...(displayName ? { name: displayName } : {}) });
  return new TabularError("SLUICE_ERR_PARSE", `DuckDB could not read the file as a table: ${said}`);
}

async function convertCsv(
  conn: DuckDBConnection,
  path: string,
  format: "csv" | "tsv",
  outTmp: string,
  schema: FeedSchema | null,
  rejectsPath: string | undefined,
): Promise<Converted | { note: string; facts: Converted["facts"] }> {
  const head = await readCsvHead(path, delimiterOf(format), schema?.columns.map((c) => c.name) ?? []);
  if (head.blank) return { note: "no table: the file is empty (no header, no rows)", facts: {} };
  const facts = { dialect: dialectSummary(head) };
  const input: CsvInput = { path, head, fileBytes: (await stat(path)).size, outTmp };
  if (schema) return { ...(await convertValidatedCsv(conn, input, schema, rejectsPath)), sources: head.sources, facts };
  const plain = await convertPlainCsv(conn, input);
  // Nothing rejected (most files): no invalid-rows table to build and count.
  const invalid = plain.skipped
    ? await collectInvalidRows(conn, "sluice_invalid", { skipped: plain.skipped, residual: null }, rejectsPath)
    : { invalidCount: 0, invalidRows: [] };
  if (plain.rowCount === 0 && invalid.invalidCount > 0) {
    const first = invalid.invalidRows[0] as InvalidRow;
    const code = first.error.startsWith("invalid_encoding") ? "SLUICE_ERR_ENCODING" : "SLUICE_ERR_PARSE";
    throw new TabularError(code, `no record could be read; data row ${first.row}: ${first.error}`, {
      row: first.row,
      line: first.row + rowOffset(head),
    });
  }
  return { rowCount: plain.rowCount, ...invalid, sources: head.sources, facts };
}

function dialectSummary(head: CsvHead): CsvDialectSummary {
  return {
    ...head.dialect,
    header: head.verdict,
    preambleLines: head.preambleLines,
    footerLines: head.footer?.lines ?? 0,
    encoding: head.encoding === "utf-16" ? "utf-16le" : "utf-8",
  };
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
    return { parquetPath: null, profile: null, validation, ...c.facts };
  }
  // Profiled before the rename: a Parquet DuckDB cannot read back must not reach the output path.
  // The footer once, for both: most of the profile and of the aggregations is in its statistics.
  const footer = await readFooter(conn, tmp);
  const read = await profileParquetByColumn(conn, tmp, footer);
  const columns = read.columns.map((col) => {
    const source = c.sources.get(col.name);
    return source === undefined ? col : { ...col, source };
  });
  const profile = { ...read, columns };
  const aggregations =
    needsValidation && schema ? await aggregateParquet(conn, tmp, schema, footer) : { row_count: c.rowCount };
  await rename(tmp, outPath);
  if (!needsValidation) return { parquetPath: outPath, profile, ...c.facts };
  const validation: ValidationResult = {
    status,
    rowCount: c.rowCount,
    invalidCount: c.invalidCount,
    invalidRows: c.invalidRows,
    aggregations,
  };
  return { parquetPath: outPath, profile, validation, ...c.facts };
}
