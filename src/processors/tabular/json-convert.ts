import { rm } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InvalidRow } from "../../core/profile.js";
import { bindSchema } from "../validate/bind.js";
import { collectInvalidRows } from "../validate/invalid-rows.js";
import type { FeedSchema } from "../validate/schema.js";
import { finishStaged, stageSelectSql } from "../validate/staged.js";
import { columnNames, renamedColumns } from "./column-names.js";
import { copyToParquet, duckMessage, firstLine, isContentError } from "./duck-helpers.js";
import { sqlString } from "./duckdb-session.js";
import { TabularError } from "./errors.js";
import { type KeyFacts, MAX_COLUMNS } from "./json-keys.js";
import { MAX_RECORD_BYTES, normalizeJson } from "./json-normalize.js";
import { type JsonProblem, MAX_BAD_LINES, scanJsonArray, scanJsonLines } from "./json-scan.js";

const SKIPPED = "sluice_json_skipped";

export interface JsonInput {
  path: string;
  format: "json" | "jsonl";
  outTmp: string;
  schema: FeedSchema | null;
  rejectsPath?: string;
  /** The name the user knows the file by, for error texts. */
  displayName?: string;
}

export interface JsonTable {
  kind: "table";
  rowCount: number;
  invalidCount: number;
  invalidRows: InvalidRow[];
  /** Column name → the record key it holds, for the keys that are not their own column name. */
  renamed: Map<string, string>;
  /** Records holding a key more than once (the last value is the one kept). */
  duplicates: KeyFacts["duplicates"];
}

export type JsonOutcome = { kind: "note"; note: string } | JsonTable;

/**
 * JSON (an array of objects) and JSON Lines (one object per line). Every file
 * is first checked by a strict streaming parser (see json-syntax.ts): a
 * well-formed JSON value that is not a list of records (an object, a scalar,
 * an array of arrays) is "not a table" — a note, not a failure — while
 * broken JSON is a parse error. A JSON array is one document, so any error
 * fails the file; a JSONL file is many, so bad lines are reported and the
 * good ones converted.
 *
 * Any key is data (RFC 8259): record keys become column names by the rule of
 * column-names.ts, and a key repeated in a record keeps its last value (as
 * JSON.parse does), the record being noted, not refused. Only then (or for
 * JSON Lines DuckDB cannot read as they are: broken lines, a byte-order
 * mark) does a second pass write the records DuckDB reads (json-normalize.ts).
 */
export async function convertJson(conn: DuckDBConnection, input: JsonInput): Promise<JsonOutcome> {
  let source = input.path;
  let bad: JsonProblem[] = [];
  let keys: KeyFacts;
  let bom = false;
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
    keys = scan.keys;
  } else {
    const scan = await scanJsonLines(input.path);
    if (scan.encoding) throw new TabularError("SLUICE_ERR_ENCODING", scan.encoding, { line: 1 });
    if (scan.records === 0) return { kind: "note", note: "not a table: the file has no records" };
    bad = scan.bad;
    keys = scan.keys;
    bom = scan.bom;
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
  }
  if (keys.tooManyKeys) return { kind: "note", note: `not a table: the records have more than ${MAX_COLUMNS} keys` };
  const names = columnNames(keys.keys);
  const renamed = renamedColumns(keys.keys, names);
  const facts = { renamed, duplicates: keys.duplicates };
  try {
    if (bom || bad.length > 0 || renamed.size > 0 || keys.duplicates.count > 0) {
      source = `${input.outTmp}.records.${input.format}`;
      const rename = new Map([...renamed].map(([name, key]) => [key, name]));
      const drop = new Set(bad.map((b) => b.record as number));
      await normalizeJson({ path: input.path, format: input.format, dest: source, drop, rename });
    }
    const skipped = bad.length > 0 ? await loadSkipped(conn, bad) : null;
    const exact = new Set([...keys.exactKeys].map((k) => names[keys.keys.indexOf(k)] as string));
    const read = { source, skipped, nestedAsText: keys.nestedOdd, exact };
    const table = input.schema ? await staged(conn, input, read, input.schema) : await plain(conn, input, read);
    return { kind: "table", ...table, ...facts };
  } catch (err) {
    // Every record is `{}`: well-formed, but there is no column to make (BUG 11).
    if (/expected records, but got non-record JSON/i.test(firstLine(err))) {
      return { kind: "note", note: "not a table: the records have no fields" };
    }
    if (err instanceof TabularError || !isContentError(err)) throw err;
    // DuckDB numbers the records of what it read: without the broken lines left out, they are not data rows.
    const left = bad.map((b) => b.record as number).sort((a, b) => a - b);
    const record = (duck: number) => left.reduce((row, l) => (l <= row ? row + 1 : row), duck);
    const said = duckMessage(err, { paths: [input.path, source], record, ...named(input) });
    throw new TabularError("SLUICE_ERR_PARSE", `DuckDB could not read the file as a table: ${said}`);
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

const named = (input: JsonInput) => (input.displayName ? { name: input.displayName } : {});

/**
 * Sampled types a later record contradicts: read again with every record sampled (slower, only then). What
 * still fails is the file's content (the caller words it).
 */
async function withTypeRetry<T>(run: (extra: string[]) => Promise<T>): Promise<T> {
  try {
    return await run([]);
  } catch (err) {
    if (!/convert|type|cast/i.test(firstLine(err))) throw err;
    try {
      return await run(["sample_size = -1"]);
    } catch (again) {
      throw isContentError(again) ? again : new Error(`Invalid Input Error: ${firstLine(again)}`, { cause: again });
    }
  }
}

/** What DuckDB reads: the file or its normalized copy, the broken JSONL lines, and how to type nested values. */
interface JsonRead {
  source: string;
  skipped: string | null;
  /** Nested values as JSON text: some nested key cannot be a STRUCT field name (BUGs 12, 16, 17). */
  nestedAsText: boolean;
  /** Columns read as JSON text because they hold integers past 64 bits (json-keys.ts). */
  exact: Set<string>;
}

/** The type a column is read as, given DuckDB's guess `t`: see JsonRead. */
function readType(read: JsonRead, name: string, t: string): string {
  if (read.exact.has(name)) return "JSON";
  return read.nestedAsText ? nestedAsJson(t) : t;
}

type Counted = Pick<JsonTable, "rowCount" | "invalidCount" | "invalidRows">;

async function plain(conn: DuckDBConnection, input: JsonInput, read: JsonRead): Promise<Counted> {
  const { source, skipped } = read;
  const rowCount = await withTypeRetry(async (extra) => {
    let columns: string[] = [];
    if (read.nestedAsText || read.exact.size > 0) {
      const cols = await describeRecords(conn, input, read, extra);
      columns = [`columns = ${columnsStruct(cols.map(([n, t]) => [n, readType(read, n, t)]))}`];
    }
    return copyToParquet(conn, `SELECT * FROM ${readJsonSql(input, source, [...extra, ...columns])}`, input.outTmp);
  });
  const invalid = skipped
    ? await collectInvalidRows(conn, "sluice_invalid", { skipped, residual: null }, input.rejectsPath)
    : { invalidCount: 0, invalidRows: [] };
  return { rowCount, ...invalid };
}

async function staged(conn: DuckDBConnection, input: JsonInput, read: JsonRead, schema: FeedSchema): Promise<Counted> {
  const { source, skipped } = read;
  const stagePath = `${input.outTmp}.stage`;
  try {
    const inSchema = new Set(schema.columns.map((c) => c.name.toLowerCase()));
    const described = await withTypeRetry(async (extra) => ({
      extra,
      cols: await describeRecords(conn, input, read, extra),
    }));
    // Schema'd keys are read as their JSON text so the checks see what was written, not DuckDB's guess at a type.
    const columns = described.cols.map(
      ([n, t]) => [n, inSchema.has(n.toLowerCase()) ? "VARCHAR" : readType(read, n, t)] as [string, string],
    );
    const bound = bindSchema(
      schema,
      columns.map(([n]) => n),
      null,
    );
    const sql = readJsonSql(input, source, [...described.extra, `columns = ${columnsStruct(columns)}`]);
    await copyToParquet(conn, `SELECT ${stageSelectSql(bound.layout, bound.schema)} FROM ${sql}`, stagePath, "snappy");
    const outcome = await finishStaged(conn, {
      stagePath,
      layout: bound.layout,
      schema: bound.schema,
      skipped,
      delim: ",",
      outTmp: input.outTmp,
      ...(input.rejectsPath ? { rejectsPath: input.rejectsPath } : {}),
    });
    return outcome;
  } finally {
    await rm(stagePath, { force: true });
  }
}

/**
 * DuckDB's columns and types for the records. Where nested keys defeat its STRUCT detection (keys equal but for
 * case: "Duplicate name", BUG 17), every column is described as JSON instead (maximum_depth 1): each value is then
 * kept as its JSON text.
 */
async function describeRecords(
  conn: DuckDBConnection,
  input: JsonInput,
  read: JsonRead,
  extra: string[],
): Promise<[string, string][]> {
  try {
    return await describeColumns(conn, readJsonSql(input, read.source, extra));
  } catch (err) {
    if (!read.nestedAsText || !isContentError(err)) throw err;
    return describeColumns(conn, readJsonSql(input, read.source, [...extra, "maximum_depth = 1"]));
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
 * A nested type (STRUCT, MAP, LIST) becomes JSON text. Used when a nested object has a key DuckDB cannot make a
 * STRUCT field of: an empty key gives an unnamed STRUCT it cannot parse back as a type (BUG 12) nor read back
 * from the Parquet it wrote (BUG 16); keys equal but for case are a "Duplicate name" (BUG 17); NUL ends a name.
 * As JSON the value is kept as written.
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
