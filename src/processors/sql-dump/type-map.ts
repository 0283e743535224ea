import {
  BIGINT,
  BLOB as BLOB_TYPE,
  BOOLEAN as BOOLEAN_TYPE,
  blobValue,
  DATE,
  DECIMAL,
  DOUBLE as DOUBLE_TYPE,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  type DuckDBType,
  FLOAT as FLOAT_TYPE,
  INTEGER,
  SMALLINT,
  TIME,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  UUID as UUID_TYPE,
  uuidValue,
} from "@duckdb/node-api";
import type { ColumnCodec } from "./codec.js";
import { listCodec } from "./codecs-list.js";
import {
  BIT,
  BLOB,
  BOOLEAN,
  BYTEA,
  DOUBLE,
  decimalCodec,
  FLOAT,
  INTEGER_CODECS,
  JSON_TEXT,
  UNTYPED,
  UUID,
  VARCHAR,
} from "./codecs-scalar.js";
import { DATE_CODEC, mysqlTimestampCodec, TIME_CODEC, TIMESTAMP_CODEC, TIMESTAMPTZ_CODEC } from "./codecs-time.js";
import type { Dialect } from "./types.js";

/**
 * The codec of a declared column type, per dialect: the closest lossless DuckDB/Parquet type (docs/types.md is
 * the table this implements). Anything unknown, and every type no Parquet type holds exactly, is VARCHAR with the
 * exact text. SQLite is not typed here: its columns are typed after their data (sqlite-affinity.ts).
 */
export function codecFor(declared: string | null, dialect: Dialect, timeZone?: string): ColumnCodec {
  if (declared === null) return UNTYPED;
  const t = normalize(declared);
  const array = /^(.*?)\s*(\[\d*\]|\barray(?:\[\d*\])?)$/.exec(t);
  if (array) {
    // One dimension only: PostgreSQL does not enforce a declared dimension, so int[][] may hold anything.
    // JSON and text elements stay in the array's own text (VARCHAR), as docs/types.md says.
    if (/\[\d*\]\s*$/.test(array[1] as string)) return VARCHAR;
    const element = scalarCodec(array[1] as string, dialect, timeZone);
    const entry = LIST_ELEMENTS.get(element) ?? decimalElement(element);
    return entry ? listCodec(element, entry[0], entry[1]) : VARCHAR;
  }
  return scalarCodec(t, dialect, timeZone);
}

/** `[int]` → `int` (SQL Server brackets), quotes and `pg_catalog.` dropped, spaces collapsed, lower case. */
export function normalize(declared: string): string {
  return declared
    .toLowerCase()
    .replace(/\[([a-z_][^\]]*)\]/g, "$1")
    .replaceAll('"', "")
    .replace(/^pg_catalog\./, "")
    .replace(/\s+/g, " ")
    .trim();
}

const INT_NAMES: Record<string, [string, string]> = {
  tinyint: ["TINYINT", "UTINYINT"],
  smallint: ["SMALLINT", "USMALLINT"],
  int2: ["SMALLINT", "USMALLINT"],
  smallserial: ["SMALLINT", "USMALLINT"],
  serial2: ["SMALLINT", "USMALLINT"],
  mediumint: ["INTEGER", "UINTEGER"],
  int: ["INTEGER", "UINTEGER"],
  integer: ["INTEGER", "UINTEGER"],
  int4: ["INTEGER", "UINTEGER"],
  serial: ["INTEGER", "UINTEGER"],
  serial4: ["INTEGER", "UINTEGER"],
  bigint: ["BIGINT", "UBIGINT"],
  int8: ["BIGINT", "UBIGINT"],
  bigserial: ["BIGINT", "UBIGINT"],
  serial8: ["BIGINT", "UBIGINT"],
};

const BINARY_NAMES = new Set(["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "image"]);
const GEOMETRY_NAMES = new Set([
  "geometry",
  "point",
  "linestring",
  "polygon",
  "multipoint",
  "multilinestring",
  "multipolygon",
  "geometrycollection",
  "geomcollection",
]);

/** A type name split into its words (parameters removed) and its first parameter list. */
function parts(t: string): { name: string; params: number[]; unsigned: boolean } {
  const open = t.indexOf("(");
  const close = t.indexOf(")", open);
  const params =
    open < 0 || close < 0
      ? []
      : t
          .slice(open + 1, close)
          .split(",")
          .map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : Number.NaN));
  const words = (open < 0 ? t : `${t.slice(0, open)} ${t.slice(close + 1)}`).split(" ").filter((w) => w !== "");
  const unsigned = words.includes("unsigned") || words.includes("zerofill");
  const name = words.filter((w) => w !== "unsigned" && w !== "signed" && w !== "zerofill").join(" ");
  return { name, params, unsigned };
}

function scalarCodec(t: string, d: Dialect, timeZone: string | undefined): ColumnCodec {
  const { name, params, unsigned } = parts(t);
  const p0 = params[0];
  const ints = INT_NAMES[name];
  if (ints) {
    // MySQL's SERIAL is BIGINT UNSIGNED; SQL Server's TINYINT is 0..255.
    if (d === "mysql" && name === "serial") return INTEGER_CODECS.UBIGINT as ColumnCodec;
    const unsignedNow = unsigned || (d === "sqlserver" && name === "tinyint");
    return INTEGER_CODECS[ints[unsignedNow ? 1 : 0]] as ColumnCodec;
  }
  switch (name) {
    case "numeric":
    case "decimal":
    case "dec":
    case "fixed":
      return decimal(params, d);
    case "money":
      // PostgreSQL writes money with its currency symbol and separators: only SQL Server's is a plain number.
      return d === "sqlserver" ? decimalCodec(19, 4) : VARCHAR;
    case "smallmoney":
      return decimalCodec(10, 4);
    case "real":
      return d === "mysql" ? DOUBLE : FLOAT;
    case "float4":
      return FLOAT;
    case "float8":
    case "double":
    case "double precision":
      return DOUBLE;
    case "float":
      // PostgreSQL and SQL Server: float is float8; MySQL: float is 4 bytes. float(p) by its bits, as all three do.
      if (p0 !== undefined && !Number.isNaN(p0) && params.length === 1) return p0 <= 24 ? FLOAT : DOUBLE;
      return d === "mysql" ? FLOAT : DOUBLE;
    case "bool":
    case "boolean":
      return d === "mysql" ? (INTEGER_CODECS.TINYINT as ColumnCodec) : BOOLEAN;
    case "bit":
      return d === "mysql" ? BIT : d === "sqlserver" ? BOOLEAN : VARCHAR;
    case "bytea":
      return BYTEA;
    case "date":
      return DATE_CODEC;
    case "datetime":
    case "smalldatetime":
      return TIMESTAMP_CODEC;
    case "datetime2":
      // SQL Server's default precision is 7 digits: one more than a Parquet timestamp holds.
      return p0 !== undefined && p0 <= 6 ? TIMESTAMP_CODEC : VARCHAR;
    case "datetimeoffset":
      return p0 !== undefined && p0 <= 6 ? TIMESTAMPTZ_CODEC : VARCHAR;
    case "timestamp":
    case "timestamp without time zone":
      if (d === "sqlserver") return BLOB; // rowversion
      return d === "mysql" ? mysqlTimestampCodec(timeZone) : TIMESTAMP_CODEC;
    case "timestamptz":
    case "timestamp with time zone":
      return TIMESTAMPTZ_CODEC;
    case "time":
    case "time without time zone":
      // MySQL's TIME is a duration (−838:59:59 … 838:59:59); SQL Server's default precision is 7 digits.
      if (d === "mysql") return VARCHAR;
      if (d === "sqlserver") return p0 !== undefined && p0 <= 6 ? TIME_CODEC : VARCHAR;
      return TIME_CODEC;
    case "year":
      return d === "mysql" ? (INTEGER_CODECS.SMALLINT as ColumnCodec) : VARCHAR;
    case "uuid":
    case "uniqueidentifier":
      return UUID;
    case "json":
    case "jsonb":
      return JSON_TEXT;
    case "rowversion":
      return BLOB;
  }
  if (BINARY_NAMES.has(name) || name === "long varbinary") return BLOB;
  if (d === "mysql" && GEOMETRY_NAMES.has(name)) return BLOB;
  // char, varchar, text, nvarchar, citext, enum, set, interval, inet, domains… and anything unknown: exact text.
  return VARCHAR;
}

/** DECIMAL(p,s) up to 38 digits (the most a Parquet DECIMAL holds); beyond, or unbounded, exact text. */
function decimal(params: number[], d: Dialect): ColumnCodec {
  let [p, s] = params;
  if (p === undefined) {
    // Without precision: PostgreSQL's numeric is unbounded; MySQL's DECIMAL is (10,0), SQL Server's (18,0).
    if (d === "mysql") [p, s] = [10, 0];
    else if (d === "sqlserver") [p, s] = [18, 0];
    else return VARCHAR;
  }
  s ??= 0;
  if (Number.isNaN(p) || Number.isNaN(s) || p < 1 || p > 38 || s < 0 || s > p) return VARCHAR;
  return decimalCodec(p, s);
}

type Element = [DuckDBType, (cell: unknown) => unknown];
const same = (cell: unknown) => cell;

/** DuckDB element type and value maker of each codec a LIST may hold. */
const LIST_ELEMENTS = new Map<ColumnCodec, Element>([
  [INTEGER_CODECS.TINYINT as ColumnCodec, [TINYINT, same]],
  [INTEGER_CODECS.SMALLINT as ColumnCodec, [SMALLINT, same]],
  [INTEGER_CODECS.INTEGER as ColumnCodec, [INTEGER, same]],
  [INTEGER_CODECS.BIGINT as ColumnCodec, [BIGINT, same]],
  [INTEGER_CODECS.UTINYINT as ColumnCodec, [UTINYINT, same]],
  [INTEGER_CODECS.USMALLINT as ColumnCodec, [USMALLINT, same]],
  [INTEGER_CODECS.UINTEGER as ColumnCodec, [UINTEGER, same]],
  [INTEGER_CODECS.UBIGINT as ColumnCodec, [UBIGINT, same]],
  [FLOAT, [FLOAT_TYPE, same]],
  [DOUBLE, [DOUBLE_TYPE, same]],
  [BOOLEAN, [BOOLEAN_TYPE, same]],
  [BYTEA, [BLOB_TYPE, (c) => blobValue(c as Uint8Array)]],
  [UUID, [UUID_TYPE, (c) => uuidValue(c as bigint)]],
  [DATE_CODEC, [DATE, (c) => new DuckDBDateValue(c as number)]],
  [TIME_CODEC, [TIME, (c) => new DuckDBTimeValue(c as bigint)]],
  [TIMESTAMP_CODEC, [TIMESTAMP, (c) => new DuckDBTimestampValue(c as bigint)]],
  [TIMESTAMPTZ_CODEC, [TIMESTAMPTZ, (c) => new DuckDBTimestampTZValue(c as bigint)]],
]);

function decimalElement(codec: ColumnCodec): Element | undefined {
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(codec.sql);
  if (!m) return undefined;
  const [p, s] = [Number(m[1]), Number(m[2])];
  return [DECIMAL(p, s), (c) => new DuckDBDecimalValue(c as bigint, p, s)];
}
