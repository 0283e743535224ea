import { rm } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow } from "../profile.js";
import { bindSchema } from "../validate/bind.js";
import { collectInvalidRows } from "../validate/invalid-rows.js";
import type { FeedSchema } from "../validate/schema.js";
import { finishStaged, stageSelectSql } from "../validate/staged.js";
import { copyToParquet, firstLine } from "./duck-helpers.js";
import { sqlString } from "./duckdb-session.js";
import { TabularError } from "./errors.js";
import { type JsonProblem, MAX_BAD_LINES, scanJsonArray, scanJsonLines, writeGoodLines } from "./json-scan.js";

/**
 * Largest single record DuckDB's JSON reader takes (its default). Each reading
 * thread holds buffers of twice this, so raising it trades directly against
 * the memory limit.
 */
const MAX_RECORD_BYTES = 16 << 20;
const SKIPPED = "sluice_json_skipped";

export interface JsonInput {
  path: string;
  format: "json" | "jsonl";
  outTmp: string;
  schema: FeedSchema | null;
  rejectsPath?: string;
}

export type JsonOutcome =
  | { kind: "note"; note: string }
  | { kind: "table"; rowCount: number; invalidCount: number; invalidRows: InvalidRow[] };

/**
 * JSON (an array of objects) and JSON Lines (one object per line). Every file
 * is first checked by a strict streaming parser (see json-syntax.ts): a
 * well-formed JSON value that is not a list of records (an object, a scalar,
 * an array of arrays) is "not a table" — a note, not a failure — while
 * broken JSON is a parse error. A JSON array is one document, so any error
 * fails the file; a JSONL file is many, so bad lines are reported and the
 * good ones converted.
 */
export async function convertJson(conn: DuckDBConnection, input: JsonInput): Promise<JsonOutcome> {
  let source = input.path;
  let bad: JsonProblem[] = [];
  let emptyKey = false;
  if (input.format === "json") {
    const scan = await scanJsonArray(input.path);
    if (scan.kind === "encoding") throw new TabularError("SLUICE_ERR_ENCODING", scan.message, { line: 1 });
    if (scan.kind === "not-table") return { kind: "note", note: `not a table: ${scan.why}` };
    if (scan.kind === "error") {
      const p = scan.problem;
      throw new TabularError("SLUICE_ERR_PARSE", `invalid JSON: ${p.message}`, {
        line: p.line,
        ...(p.record ? { row: p.record } : {}),
      });
    }
    emptyKey = scan.emptyKey;
  } else {
    const scan = await scanJsonLines(input.path);
    if (scan.encoding) throw new TabularError("SLUICE_ERR_ENCODING", scan.encoding, { line: 1 });
    if (scan.records === 0) return { kind: "note", note: "not a table: the file has no records" };
    bad = scan.bad;
    emptyKey = scan.emptyKey === true;
    const first = bad[0];
    if (bad.length >= MAX_BAD_LINES) {
      throw new TabularError("SLUICE_ERR_PARSE", `more than ${MAX_BAD_LINES} lines are not JSON objects`, {
        line: first?.line ?? 1,
      });
    }
    if (first && bad.length === scan.records) {
      if (bad.every((b) => b.message.includes("not an object"))) {
        return { kind: "note", note: "not a table: no line holds a JSON object" };
      }
      throw new TabularError(
        "SLUICE_ERR_PARSE",
        `no line is a readable JSON object; line ${first.line}: ${first.message}`,
        {
          line: first.line,
          ...(first.record ? { row: first.record } : {}),
        },
      );
    }
    if (bad.length > 0) {
      source = `${input.outTmp}.good.jsonl`;
      await writeGoodLines(input.path, bad, source);
    }
  }
  try {
    const skipped = bad.length > 0 ? await loadSkipped(conn, bad) : null;
    return input.schema
      ? await staged(conn, input, source, skipped, input.schema, emptyKey)
      : await plain(conn, input, source, skipped, emptyKey);
  } catch (err) {
    // Every record is `{}`: well-formed, but there is no column to make (BUG 11).
    if (/expected records, but got non-record JSON/i.test(firstLine(err))) {
      return { kind: "note", note: "not a table: the records have no fields" };
    }
    throw err;
  } finally {
    if (source !== input.path) await rm(source, { force: true });
  }
}

function readJsonSql(input: JsonInput, source: string, extra: string[] = []): string {
  const format = input.format === "json" ? "array" : "newline_delimited";
  const args = [
    sqlString(source),
    `format = '${format}'`,
    "records = 'true'",
    `maximum_object_size = ${MAX_RECORD_BYTES}`,
    ...extra,
  ];
  return `read_json(${args.join(", ")})`;
}

/** Sampled types a later record contradicts: read again with every record sampled (slower, only then). */
async function withTypeRetry<T>(run: (extra: string[]) => Promise<T>): Promise<T> {
  try {
    return await run([]);
  } catch (err) {
    if (!/convert|type|cast/i.test(firstLine(err))) throw err;
    try {
      return await run(["sample_size = -1"]);
    } catch (again) {
      throw new TabularError("SLUICE_ERR_PARSE", `DuckDB could not read the records: ${firstLine(again)}`);
    }
  }
}

async function plain(
  conn: DuckDBConnection,
  input: JsonInput,
  source: string,
  skipped: string | null,
  emptyKey: boolean,
): Promise<JsonOutcome> {
  const rowCount = await withTypeRetry(async (extra) => {
    let columns: string[] = [];
    if (emptyKey) {
      const cols = await describeColumns(conn, readJsonSql(input, source, extra));
      columns = [`columns = ${columnsStruct(cols.map(([n, t]) => [n, nestedAsJson(t)]))}`];
    }
    return copyToParquet(conn, `SELECT * FROM ${readJsonSql(input, source, [...extra, ...columns])}`, input.outTmp);
  });
  const invalid = skipped
    ? await collectInvalidRows(conn, "sluice_invalid", { skipped, residual: null }, input.rejectsPath)
    : { invalidCount: 0, invalidRows: [] };
  return { kind: "table", rowCount, ...invalid };
}

async function staged(
  conn: DuckDBConnection,
  input: JsonInput,
  source: string,
  skipped: string | null,
  schema: FeedSchema,
  emptyKey: boolean,
): Promise<JsonOutcome> {
  const stagePath = `${input.outTmp}.stage`;
  try {
    const inSchema = new Set(schema.columns.map((c) => c.name.toLowerCase()));
    const described = await withTypeRetry(async (extra) => ({
      extra,
      cols: await describeColumns(conn, readJsonSql(input, source, extra)),
    }));
    // Schema'd keys are read as their JSON text so the checks see what was written, not DuckDB's guess at a type.
    const columns = described.cols.map(
      ([n, t]) => [n, inSchema.has(n.toLowerCase()) ? "VARCHAR" : emptyKey ? nestedAsJson(t) : t] as [string, string],
    );
    const bound = bindSchema(
      schema,
      columns.map(([n]) => n),
      null,
    );
    const read = readJsonSql(input, source, [...described.extra, `columns = ${columnsStruct(columns)}`]);
    await copyToParquet(conn, `SELECT ${stageSelectSql(bound.layout, bound.schema)} FROM ${read}`, stagePath, "snappy");
    const outcome = await finishStaged(conn, {
      stagePath,
      layout: bound.layout,
      schema: bound.schema,
      skipped,
      delim: ",",
      outTmp: input.outTmp,
      ...(input.rejectsPath ? { rejectsPath: input.rejectsPath } : {}),
    });
    return { kind: "table", ...outcome };
  } finally {
    await rm(stagePath, { force: true });
  }
}

async function describeColumns(conn: DuckDBConnection, read: string): Promise<[string, string][]> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${read}`);
  return r.getRowObjectsJS().map((c) => [String(c.column_name), String(c.column_type)] as [string, string]);
}

/** read_json's `columns`: names and DuckDB's own type texts, both as string literals. */
function columnsStruct(cols: [string, string][]): string {
  return `{${cols.map(([n, t]) => `${sqlString(n)}: ${sqlString(t)}`).join(", ")}}`;
}

/**
 * A nested type (STRUCT, MAP, LIST) becomes JSON text. Used when some object has an empty key: DuckDB makes an
 * unnamed STRUCT of it, which it cannot parse back as a type (BUG 12) nor read back from the Parquet it wrote
 * (BUG 16); as JSON the value is kept as written.
 */
function nestedAsJson(type: string): string {
  return /[([]/.test(type) ? "JSON" : type;
}

/** The unreadable lines as a DuckDB table (row, error, line), so they merge with the other invalid rows there. */
async function loadSkipped(conn: DuckDBConnection, bad: JsonProblem[]): Promise<string> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${SKIPPED} (row BIGINT, error VARCHAR, line VARCHAR)`);
  for (let i = 0; i < bad.length; i += 1000) {
    const values = bad
      .slice(i, i + 1000)
      .map((b) => `(${b.record}, ${sqlString(`invalid_json: line ${b.line}: ${b.message}`)}, NULL)`)
      .join(", ");
    await conn.run(`INSERT INTO ${SKIPPED} VALUES ${values}`);
  }
  return SKIPPED;
}
