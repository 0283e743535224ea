import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow } from "../../core/profile.js";
import { sqlIdent, sqlString } from "../tabular/duckdb-session.js";
import { collectInvalidRows } from "./invalid-rows.js";
import { lineSql, reasonSql, type StageLayout, typedSelectSql, validSql } from "./rules-sql.js";
import type { FeedSchema } from "./schema.js";

/** Stage column holding {@link validSql} of the row, computed while the input is parsed (in parallel, once). */
const VALID_FLAG = "__sluice_valid";

/** The select list that writes a stage: the input's columns as text, plus the validity flag. */
export function stageSelectSql(layout: StageLayout, schema: FeedSchema): string {
  const cols = layout.columns.map((c) => sqlIdent(c.name));
  if (layout.extraColumn) cols.push(sqlIdent(layout.extraColumn));
  return [...cols, `${validSql(layout, schema)} AS ${sqlIdent(VALID_FLAG)}`].join(", ");
}

export interface StagedInput {
  /** Parquet written with {@link stageSelectSql}: every row that was read, in input order. */
  stagePath: string;
  layout: StageLayout;
  schema: FeedSchema;
  /** Relation (row, error, line) of records that never reached the stage, or null. */
  skipped: string | null;
  /** Joins a row's fields for the rejects file's `line`. */
  delim: string;
  /** Where the typed Parquet of the valid rows is written (the caller renames it). */
  outTmp: string;
  rejectsPath?: string;
  /** Only the first this many stage rows are the table's (the rest were a footer). */
  keepRows?: number;
  /** Parquet with as many rows as the stage, joined to it by position: columns `valueFrom` names. */
  sidePath?: string;
}

export interface StagedOutcome {
  rowCount: number;
  invalidCount: number;
  invalidRows: InvalidRow[];
}

/**
 * Explains every staged row that failed, merges them with the skipped records
 * into data-row order (rejects file included) and writes the valid rows,
 * typed, in input order. The stage is Parquet and carries the verdict, so
 * both scans are columnar and cheap next to parsing the input again.
 */
export async function finishStaged(conn: DuckDBConnection, input: StagedInput): Promise<StagedOutcome> {
  const valid = sqlIdent(VALID_FLAG);
  let stage = `read_parquet(${sqlString(input.stagePath)}, file_row_number = true)`;
  if (input.sidePath) {
    stage = `(SELECT * FROM ${stage} AS s POSITIONAL JOIN read_parquet(${sqlString(input.sidePath)}) AS t)`;
  }
  if (input.keepRows !== undefined) stage = `(SELECT * FROM ${stage} WHERE file_row_number < ${input.keepRows})`;
  // The detailed reason (and the line text) only for the rows that fail the cheap predicate.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE sluice_residual AS
     SELECT file_row_number + 1 AS k,
       coalesce(${reasonSql(input.layout, input.schema)}, 'invalid_row: the row failed validation') AS error,
       ${lineSql(input.layout, input.delim)} AS line
     FROM (SELECT * FROM ${stage} WHERE NOT ${valid})`,
  );
  const invalid = await collectInvalidRows(
    conn,
    "sluice_invalid",
    { skipped: input.skipped, residual: "sluice_residual" },
    input.rejectsPath,
  );
  const copied = await conn.runAndReadAll(
    `COPY (SELECT ${typedSelectSql(input.layout)} FROM ${stage} WHERE ${valid})
     TO ${sqlString(input.outTmp)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const rowCount = Number(copied.getRows()[0]?.[0] ?? 0);
  return { rowCount, ...invalid };
}
