import { rm } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow } from "../profile.js";
import { bindSchema } from "../validate/bind.js";
import { blankSql, type StageLayout } from "../validate/rules-sql.js";
import type { ColumnRule, FeedSchema } from "../validate/schema.js";
import { finishStaged, stageSelectSql } from "../validate/staged.js";
import type { CsvInput } from "./csv-plain.js";
import { type CsvReadSpec, EXTRA_COLUMN, readCsvSql, rejectedRowsSql } from "./csv-sql.js";
import { copyToParquet, isDialectError } from "./duck-helpers.js";
import { sqlIdent } from "./duckdb-session.js";

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
 * any invalid row (a record the reader refuses, a NULL, a blank key, NaN)
 * aborts the COPY. Most files are clean, so most files cost what a bare
 * DuckDB conversion costs.
 *
 * Otherwise every row is read as text into a stage Parquet (one more CSV
 * pass, from the start), checked there with exact reasons and data-row
 * numbers (`file_row_number` plus the records the reader rejected), and the
 * valid rows are typed into the final Parquet. See {@link finishStaged}.
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
  try {
    const rejects = await writeStage(conn, input, stageSelectSql(bound.layout, bound.schema), stagePath);
    const outcome = await finishStaged(conn, {
      stagePath,
      layout: bound.layout,
      schema: bound.schema,
      skipped: `(${rejectedRowsSql(rejects, input.head, names.length, input.fileBytes)})`,
      delim: input.delim,
      outTmp: input.outTmp,
      ...(rejectsPath ? { rejectsPath } : {}),
    });
    return { ...outcome, path: "staged" };
  } finally {
    await rm(stagePath, { force: true });
  }
}

/** The one-pass attempt: the row count, or null when the file has an invalid row (or any other trouble). */
async function tryTypedPass(conn: DuckDBConnection, input: CsvInput, layout: StageLayout): Promise<number | null> {
  const names = input.head.names;
  const columns = layout.columns.map(
    (c) => [c.name, c.rule ? (READER_TYPES[c.rule.type] as string) : "VARCHAR"] as [string, string],
  );
  const spec: CsvReadSpec = {
    path: input.path,
    delim: input.delim,
    head: input.head,
    columns,
    strict: true,
    // Read as text: an ENUM cast on every row costs ~10 % here, and any value aborts the pass anyway.
    padded: "text",
    rejects: null,
  };
  // NULL: a short row (padding) or a timestamp the reader could not cast; both need the staged pass's verdict.
  const suspicious = [...names.map((n) => `${sqlIdent(n)} IS NULL`), `${sqlIdent(EXTRA_COLUMN)} IS NOT NULL`];
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

/** Every record as text (plus the extra-field catcher) into the stage; returns the rejects table's name. */
async function writeStage(
  conn: DuckDBConnection,
  input: CsvInput,
  stageSelect: string,
  stagePath: string,
): Promise<string> {
  const columns = input.head.names.map((n) => [n, "VARCHAR"] as [string, string]);
  for (const strict of [true, false]) {
    const rejects = `sluice_stage_rejects_${strict ? "strict" : "lenient"}`;
    const spec: CsvReadSpec = {
      path: input.path,
      delim: input.delim,
      head: input.head,
      columns,
      strict,
      padded: "reject",
      rejects,
    };
    // The extra column must be read (projection pushdown would skip it, and with it the check for one field too many).
    const select = `SELECT ${stageSelect} FROM ${readCsvSql(spec)} WHERE ${sqlIdent(EXTRA_COLUMN)} IS NULL`;
    try {
      await copyToParquet(conn, select, stagePath, "snappy");
      return rejects;
    } catch (err) {
      if (!strict || !isDialectError(err)) throw err;
    }
  }
  throw new Error("unreachable");
}
