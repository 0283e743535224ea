import { sqlIdent, sqlString } from "../tabular/duckdb-session.js";
import type { ColumnRule, ColumnType, FeedSchema } from "./schema.js";

/**
 * SQL for checking and typing rows whose schema'd fields are still text
 * (a "stage"): one CASE per row that yields the first problem as
 * `code: detail`, or NULL when the row is valid, and the typed select list.
 * The checks run in schema order, structural ones first, which is the order
 * the corpus' reference validator reports them in.
 */
export interface StageLayout {
  /**
   * Stage columns in output order; `rule` is null for columns the schema does not mention;
   * `outName` is the schema's spelling when the input's differs; `valueFrom` the stage column the output value
   * is taken from when it is not `name` (CSV text columns, whose empty fields the stage reads apart).
   */
  columns: { name: string; rule: ColumnRule | null; outName?: string; valueFrom?: string }[];
  /** Schema columns the input does not have at all. */
  absent: ColumnRule[];
  /**
   * CSV: a short row is padded with NULL from the right, so NULL in any of these means
   * "fewer fields than the header" (empty fields are '' because of the null sentinel).
   */
  paddedColumns: string[] | null;
  /**
   * CSV: a column past the header that catches one field too many (read as text, NULL on a row of the
   * right width). A value there makes the row invalid with `extra_column`, before any other check.
   */
  extraColumn?: string;
}

function extraColumnReason(layout: StageLayout): string {
  const width = layout.paddedColumns?.length ?? layout.columns.length;
  return sqlString(`extra_column: the row has more fields than the ${width} header columns`);
}

/** Whitespace that makes a field blank; a literal with the real characters (SQL literals take no escapes). */
const WS = sqlString(" \t\r\n");
const NAN_WORDS = ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"]
  .map(sqlString)
  .join(", ");
/** Epoch seconds: digits only, so "2024" or "20240301" never pass as ISO dates by accident of DuckDB's cast. */
const EPOCH_RE = sqlString("\\s*-?[0-9]{1,12}(\\.[0-9]+)?\\s*");
const INTEGER_RE = sqlString("\\s*[-+]?[0-9]+\\s*");

/** Whitespace only (or ''); the cheap tests first, because trimming allocates. */
export function blankSql(x: string): string {
  return `(${x} = '' OR (ascii(${x}) IN (9, 10, 13, 32) AND trim(${x}, ${WS}) = ''))`;
}

/**
 * ISO-8601 (DuckDB's TIMESTAMPTZ cast, session time zone UTC) or epoch
 * seconds; NULL when neither. The cast also takes "infinity", which is no
 * instant: finite values only.
 */
export function timestampSql(x: string): string {
  const cast = `TRY_CAST(${x} AS TIMESTAMPTZ)`;
  return `CASE WHEN isfinite(${cast}) THEN ${cast} WHEN regexp_full_match(${x}, ${EPOCH_RE}) THEN to_timestamp(TRY_CAST(${x} AS DOUBLE)) END`;
}

/** The DuckDB type a rule's column has in Parquet. */
export function duckTypeOf(type: ColumnType): string {
  switch (type) {
    case "string":
      return "VARCHAR";
    case "number":
      return "DOUBLE";
    case "integer":
      return "BIGINT";
    case "timestamp":
      return "TIMESTAMPTZ";
    case "boolean":
      return "BOOLEAN";
  }
}

/** Text → typed value; blank → NULL (only reachable for optional columns: required blanks are invalid). */
export function typedValueSql(x: string, type: ColumnType): string {
  switch (type) {
    case "string":
      return x;
    case "number":
      return `TRY_CAST(${x} AS DOUBLE)`;
    case "integer":
      return `TRY_CAST(trim(${x}, ${WS}) AS BIGINT)`;
    case "timestamp":
      return timestampSql(x);
    case "boolean":
      return `TRY_CAST(trim(${x}, ${WS}) AS BOOLEAN)`;
  }
}

/** Reason codes are identifiers: `empty_sensor_id`, never `empty_Sensor ID`. */
export function codeSuffix(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "") || "field"
  );
}

/** `value 'abc'`: the column name and at most 60 characters of what it held. */
function shown(name: string, x: string): string {
  return `${sqlString(`${name} '`)} || left(${x}, 60) || ''''`;
}

function whens(rule: ColumnRule, x: string, absent: boolean): string[] {
  const n = rule.name;
  const out: string[] = [];
  if (rule.required) {
    const why = absent ? `${n} is missing (no such column in the header)` : `${n} is missing`;
    out.push(`WHEN ${x} IS NULL THEN ${sqlString(`missing_field: ${why}`)}`);
  }
  if (absent) return out;
  const filled = `(${x} IS NOT NULL AND NOT ${blankSql(x)})`;
  const typedCode: Record<Exclude<ColumnType, "string">, string> = {
    number: "non_numeric_value",
    integer: "non_integer_value",
    timestamp: "bad_timestamp",
    boolean: "non_boolean_value",
  };
  if (rule.type === "string") {
    if (rule.nonEmpty) {
      out.push(`WHEN ${x} IS NOT NULL AND ${blankSql(x)} THEN ${sqlString(`empty_${codeSuffix(n)}: ${n} is empty`)}`);
    }
    return out;
  }
  const code = typedCode[rule.type];
  if (rule.required) out.push(`WHEN ${blankSql(x)} THEN ${sqlString(`${code}: ${n} is empty`)}`);
  switch (rule.type) {
    case "number":
      out.push(
        `WHEN ${filled} AND lower(trim(${x}, ${WS})) IN (${NAN_WORDS}) THEN 'nan_or_infinity: ' || ${shown(n, x)} || ' is not a finite number'`,
        `WHEN ${filled} AND TRY_CAST(${x} AS DOUBLE) IS NULL THEN 'non_numeric_value: ' || ${shown(n, x)} || ' is not a number'`,
        `WHEN ${filled} AND NOT isfinite(TRY_CAST(${x} AS DOUBLE)) THEN 'nan_or_infinity: ' || ${shown(n, x)} || ' is not a finite number'`,
      );
      break;
    case "integer":
      out.push(
        `WHEN ${filled} AND NOT (regexp_full_match(${x}, ${INTEGER_RE}) AND TRY_CAST(trim(${x}, ${WS}) AS BIGINT) IS NOT NULL) THEN 'non_integer_value: ' || ${shown(n, x)} || ' is not an integer'`,
      );
      break;
    case "timestamp":
      out.push(
        `WHEN ${filled} AND ${timestampSql(x)} IS NULL THEN 'bad_timestamp: ' || ${shown(n, x)} || ' is not an ISO-8601 timestamp or epoch seconds'`,
      );
      break;
    case "boolean":
      out.push(
        `WHEN ${filled} AND TRY_CAST(trim(${x}, ${WS}) AS BOOLEAN) IS NULL THEN 'non_boolean_value: ' || ${shown(n, x)} || ' is not a boolean'`,
      );
      break;
  }
  return out;
}

/** `CASE … END`: the row's first problem as `code: detail`, NULL when it is valid. */
export function reasonSql(layout: StageLayout, schema: FeedSchema): string {
  const parts: string[] = [];
  if (layout.extraColumn)
    parts.push(`WHEN ${sqlIdent(layout.extraColumn)} IS NOT NULL THEN ${extraColumnReason(layout)}`);
  const padded = layout.paddedColumns;
  if (padded && padded.length > 0) {
    const anyNull = padded.map((c) => `${sqlIdent(c)} IS NULL`).join(" OR ");
    const present = padded.map((c) => `(${sqlIdent(c)} IS NOT NULL)::INTEGER`).join(" + ");
    parts.push(
      `WHEN ${anyNull} THEN 'missing_field: the row has ' || (${present}) || ${sqlString(` fields, the header has ${padded.length}`)}`,
    );
  }
  const present = new Set(layout.columns.map((c) => c.name));
  for (const rule of schema.columns) {
    const absent = !present.has(rule.name);
    parts.push(...whens(rule, absent ? "CAST(NULL AS VARCHAR)" : sqlIdent(rule.name), absent));
  }
  return parts.length === 0 ? "CAST(NULL AS VARCHAR)" : `CASE ${parts.join(" ")} END`;
}

/** A value that passes the checks of its rule, as a cheap predicate (NULL counts as a failure). */
function cellOkSql(rule: ColumnRule, x: string): string {
  // A blank never passes a cast check, so a required typed cell needs no separate blank test.
  const filledOk = (check: string) => (rule.required ? check : `(${blankSql(x)} OR ${check})`);
  switch (rule.type) {
    case "string":
      return rule.nonEmpty ? `NOT ${blankSql(x)}` : "true";
    case "number":
      // No NaN/Infinity spelling casts to a finite double, so finiteness covers the word list of reasonSql.
      return filledOk(`isfinite(TRY_CAST(${x} AS DOUBLE))`);
    case "integer":
      return filledOk(`(regexp_full_match(${x}, ${INTEGER_RE}) AND TRY_CAST(trim(${x}, ${WS}) AS BIGINT) IS NOT NULL)`);
    case "timestamp":
      return filledOk(`${timestampSql(x)} IS NOT NULL`);
    case "boolean":
      return filledOk(`TRY_CAST(trim(${x}, ${WS}) AS BOOLEAN) IS NOT NULL`);
  }
}

/**
 * True exactly when {@link reasonSql} is NULL, but evaluated once per cell:
 * DuckDB walks a CASE branch by branch, so on the valid majority the CASE
 * costs several times this. The CASE then runs on the invalid rows only.
 */
export function validSql(layout: StageLayout, schema: FeedSchema): string {
  const parts = (layout.paddedColumns ?? []).map((c) => `${sqlIdent(c)} IS NOT NULL`);
  if (layout.extraColumn) parts.unshift(`${sqlIdent(layout.extraColumn)} IS NULL`);
  const present = new Set(layout.columns.map((c) => c.name));
  for (const rule of schema.columns) {
    if (!present.has(rule.name)) {
      if (rule.required) parts.push("false");
      continue;
    }
    const x = sqlIdent(rule.name);
    const ok = cellOkSql(rule, x);
    parts.push(rule.required ? `(${x} IS NOT NULL AND ${ok})` : `(${x} IS NULL OR ${ok})`);
  }
  return parts.length === 0 ? "true" : `coalesce(${parts.join(" AND ")}, false)`;
}

/** Select list of the typed output: stage columns in order, then absent optional schema columns as typed NULLs. */
export function typedSelectSql(layout: StageLayout): string {
  const cols = layout.columns.map((c) => {
    const id = sqlIdent(c.valueFrom ?? c.name);
    return `${c.rule ? typedValueSql(id, c.rule.type) : id} AS ${sqlIdent(c.outName ?? c.name)}`;
  });
  // Required ones too: no row can pass without them, but an empty output must still have every schema column
  // for the aggregations to read (a header-only file lacking one was BUG 5).
  for (const rule of layout.absent) cols.push(`CAST(NULL AS ${duckTypeOf(rule.type)}) AS ${sqlIdent(rule.name)}`);
  return cols.join(", ");
}

/** The row's fields joined with the delimiter, for the rejects file: close to the original line for simple rows. */
export function lineSql(layout: StageLayout, delim: string): string {
  if (layout.columns.length === 0) return "CAST(NULL AS VARCHAR)";
  const parts = layout.columns.map((c) => `CAST(${sqlIdent(c.name)} AS VARCHAR)`);
  // concat_ws skips NULLs: the extra field shows only on the rows that have one.
  if (layout.extraColumn) parts.push(sqlIdent(layout.extraColumn));
  return `left(concat_ws(${sqlString(delim)}, ${parts.join(", ")}), 1000)`;
}
