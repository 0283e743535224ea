import { rm } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow } from "../../core/profile.js";
import { bindSchema } from "../validate/bind.js";
import { blankSql, type StageLayout } from "../validate/rules-sql.js";
import type { ColumnRule, FeedSchema } from "../validate/schema.js";
import { finishStaged, stageSelectSql } from "../validate/staged.js";
import type { CsvInput } from "./csv-plain.js";
import { type CsvReadSpec, EXTRA_COLUMN, readCsvSql, rejectedRowsSql } from "./csv-sql.js";
import { copyToParquet, isDialectError, isParallelPaddingError } from "./duck-helpers.js";
import { sqlIdent, sqlString } from "./duckdb-session.js";

export interface ValidatedCsvOutcome {
  rowCount: number;
  invalidCount: number;
  invalidRows: InvalidRow[];
  /** Which way the rows were checked: "typed" (one pass, clean file) or "staged" (every row reported). */
  path: "typed" | "staged";
}

/** Column types DuckDB's CSV reader itself produces exactly as the staged checks would. */
const READER_TYPES: Partial<Record<ColumnRule["type"], string>> = {
  string: "VARCHAR",
  number: "DOUBLE",
  timestamp: "TIMESTAMPTZ",
};

/**
 * CSV/TSV with a schema.
 *
 * First, optimistically, one pass: DuckDB's reader types the schema'd columns
 * itself and the rows go straight to the final Parquet, but the first sign of
 * any invalid row (a record the reader refuses, a NULL where a short row could
 * be, a blank key, NaN) aborts the COPY. Most files are clean, so most files
 * cost what a bare DuckDB conversion costs.
 *
 * Otherwise every row is read as text into a stage Parquet (one more CSV
 * pass, from the start), checked there with exact reasons and data-row
 * numbers (`file_row_number` plus the records the reader rejected), and the
 * valid rows are typed into the final Parquet. See {@link finishStaged}. Text
 * columns holding empty fields cost one more pass (see readEmpties).
 */
export async function convertValidatedCsv(
  conn: DuckDBConnection,
  input: CsvInput,
  schema: FeedSchema,
  rejectsPath: string | undefined,
  options: { onePass?: boolean } = {},
): Promise<ValidatedCsvOutcome> {
  const names = input.head.names;
  const bound = bindSchema(schema, names, names);
  const onePass = bound.layout.absent.length === 0 && schema.columns.every((c) => READER_TYPES[c.type] !== undefined);
  if (onePass && options.onePass !== false) {
    const rowCount = await tryTypedPass(conn, input, bound.layout);
    if (rowCount !== null) return { rowCount, invalidCount: 0, invalidRows: [], path: "typed" };
  }
  const stagePath = `${input.outTmp}.stage`;
  const sidePath = `${input.outTmp}.side`;
  // A row with one field too many keeps its place in the stage and is judged there like any other invalid row.
  const layout: StageLayout = { ...bound.layout, extraColumn: EXTRA_COLUMN };
  try {
    const stage = await writeStage(conn, input, stageSelectSql(layout, bound.schema), stagePath);
    const keepRows = await footerless(conn, input, stage);
    const side = await readEmpties(conn, input, layout, stage, stagePath, sidePath);
    const outcome = await finishStaged(conn, {
      stagePath,
      layout: side ? side.layout : layout,
      schema: bound.schema,
      skipped: `(${rejectedRowsSql(stage.rejects, input.head, names.length, input.fileBytes)})`,
      delim: input.head.dialect.delimiter,
      outTmp: input.outTmp,
      ...(keepRows !== null ? { keepRows } : {}),
      ...(side ? { sidePath } : {}),
      ...(rejectsPath ? { rejectsPath } : {}),
    });
    return { ...outcome, path: "staged" };
  } finally {
    await rm(stagePath, { force: true });
    await rm(sidePath, { force: true });
  }
}

/** Schema columns whose checks look at blanks (typed ones, non-empty text): their empty fields are never values. */
function checkedColumns(layout: StageLayout): string[] {
  return layout.columns.filter((c) => c.rule && (c.rule.type !== "string" || c.rule.nonEmpty)).map((c) => c.name);
}

/** The one-pass attempt: the row count, or null when the file has an invalid row (or any other trouble). */
async function tryTypedPass(conn: DuckDBConnection, input: CsvInput, layout: StageLayout): Promise<number | null> {
  const names = input.head.names;
  const columns = layout.columns.map(
    (c) => [c.name, c.rule ? (READER_TYPES[c.rule.type] as string) : "VARCHAR"] as [string, string],
  );
  const spec: CsvReadSpec = { path: input.path, head: input.head, columns, strict: true, padded: true, rejects: null };
  // NULL in a checked column: an empty field, a short row (padding) or a timestamp the reader could not cast. NULL
  // in the last column: a short row, or an empty field. Only the staged pass can tell those apart (DuckDB's
  // force_not_null is no way out: it reads an empty DOUBLE as 0). Elsewhere NULL is an unquoted empty field,
  // which is what it means in CSV.
  const last = names[names.length - 1] as string;
  const nullable = [...new Set([last, ...checkedColumns(layout)])];
  const suspicious = [...nullable.map((n) => `${sqlIdent(n)} IS NULL`), `${sqlIdent(EXTRA_COLUMN)} IS NOT NULL`];
  for (const { name, rule } of layout.columns) {
    // NaN, ±Infinity (numbers) and ±infinity (timestamps) get past the reader's casts.
    if (rule?.type === "number" || rule?.type === "timestamp") suspicious.push(`NOT isfinite(${sqlIdent(name)})`);
    if (rule?.type === "string" && rule.nonEmpty) suspicious.push(blankSql(sqlIdent(name)));
  }
  const outputs = layout.columns.map((c) => `${sqlIdent(c.name)} AS ${sqlIdent(c.outName ?? c.name)}`);
  const select = `SELECT ${outputs.join(", ")} FROM ${readCsvSql(spec)}
    WHERE CASE WHEN ${suspicious.join(" OR ")} THEN error('sluice: an invalid row, checking every row') ELSE true END`;
  try {
    return await copyToParquet(conn, select, input.outTmp);
  } catch {
    // Whatever stopped it (an invalid row, a rejected record, mixed line endings), the staged pass decides and reports.
    return null;
  }
}

interface Stage {
  rejects: string;
  rows: number;
  /** The read settings that worked, for reading the file again the same way. */
  attempt: ReadAttempt;
}

function stageSpec(input: CsvInput, attempt: ReadAttempt, rejects: string, empties: "csv" | "text"): CsvReadSpec {
  return {
    path: input.path,
    head: input.head,
    columns: input.head.names.map((n) => [n, "VARCHAR"] as [string, string]),
    strict: attempt.strict,
    padded: true,
    rejects,
    parallel: attempt.parallel,
    empties,
  };
}

/**
 * Every record as text (plus the extra-field catcher, as text) into the stage, empty fields as '' so that NULL
 * means a short row. The catcher is VARCHAR, not an ENUM that refuses every value: DuckDB 1.5 with an ENUM
 * column and store_rejects on a file ending inside an open quote corrupts memory and segfaults (BUG 7 in
 * SECURITY.md).
 */
async function writeStage(
  conn: DuckDBConnection,
  input: CsvInput,
  stageSelect: string,
  stagePath: string,
): Promise<Stage> {
  // Strict first; lenient only for a dialect DuckDB's strict mode refuses (mixed line endings). Parallel first;
  // one reader thread only when DuckDB says its parallel scanner cannot pad rows around a quoted newline.
  // Strict never comes back once dropped: at most three retries.
  let attempt: ReadAttempt = { strict: true, parallel: true };
  for (;;) {
    const rejects = `sluice_stage_rejects_${attempt.strict ? "strict" : "lenient"}_${attempt.parallel ? "par" : "seq"}`;
    const spec = stageSpec(input, attempt, rejects, "text");
    try {
      const rows = await copyToParquet(conn, `SELECT ${stageSelect} FROM ${readCsvSql(spec)}`, stagePath, "snappy");
      return { rejects, rows, attempt };
    } catch (err) {
      const next = retryAs(err, attempt);
      if (next === null) throw err;
      attempt = next;
    }
  }
}

/**
 * How many stage rows are the table's: a footer's records (csv-layout.ts) that the reader did not reject are the
 * last rows of the stage. Null when there is no footer.
 */
async function footerless(conn: DuckDBConnection, input: CsvInput, stage: Stage): Promise<number | null> {
  const footer = input.head.footer;
  if (!footer) return null;
  const r = await conn.runAndReadAll(
    `SELECT count(DISTINCT "line") AS n FROM ${sqlIdent(stage.rejects)} WHERE line_byte_position >= ${footer.fromByte}`,
  );
  const rejected = Number(r.getRowObjectsJS()[0]?.n ?? 0);
  return Math.max(0, stage.rows - (footer.lines - rejected));
}

/**
 * The stage cannot tell an unquoted empty field (NULL in CSV) from a quoted `""` (an empty string). Where that
 * matters, in the columns whose values are written as text and only if one of them holds an empty field, the
 * file is read once more with DuckDB's CSV convention for those columns, the same way (same padding and
 * settings, so the same records in the same order), and their values are taken from there.
 */
async function readEmpties(
  conn: DuckDBConnection,
  input: CsvInput,
  layout: StageLayout,
  stage: Stage,
  stagePath: string,
  sidePath: string,
): Promise<{ layout: StageLayout } | null> {
  const checked = new Set(checkedColumns(layout));
  const text = layout.columns.filter((c) => !checked.has(c.name)).map((c) => c.name);
  if (text.length === 0) return null;
  const any = text.map((n) => `${sqlIdent(n)} = ''`).join(" OR ");
  const found = await conn.runAndReadAll(
    `SELECT count(*) AS n FROM read_parquet(${sqlString(stagePath)}) WHERE ${any}`,
  );
  if (Number(found.getRowObjectsJS()[0]?.n ?? 0) === 0) return null;
  const spec = stageSpec(input, stage.attempt, "sluice_side_rejects", "csv");
  const cols = text.map((n, i) => `${sqlIdent(n)} AS ${sqlIdent(sideName(i))}`).join(", ");
  await copyToParquet(conn, `SELECT ${cols} FROM ${readCsvSql(spec)}`, sidePath, "snappy");
  const from = new Map(text.map((n, i) => [n, sideName(i)]));
  const columns = layout.columns.map((c) => {
    const valueFrom = from.get(c.name);
    return valueFrom ? { ...c, valueFrom } : c;
  });
  return { layout: { ...layout, columns } };
}

const sideName = (i: number) => `__sluice_text_${i}`;

type ReadAttempt = { strict: boolean; parallel: boolean };

/** After a failed read: the settings to try next (only the one DuckDB objected to changes), or null to give up. */
function retryAs(err: unknown, failed: ReadAttempt): ReadAttempt | null {
  if (failed.parallel && isParallelPaddingError(err)) return { ...failed, parallel: false };
  if (failed.strict && isDialectError(err)) return { strict: false, parallel: true };
  return null;
}
