import type { DuckDBAppender } from "@duckdb/node-api";
import type { SqlValue } from "./types.js";

/** The DuckDB column types a dump's columns are written as. */
export type DuckType = "BIGINT" | "UBIGINT" | "DOUBLE" | "BOOLEAN" | "BLOB" | "VARCHAR";

/** Returned by a converter when a value does not fit its column: the row is reported and skipped. */
export const INVALID: unique symbol = Symbol("invalid");
type Cell = string | number | bigint | boolean | Uint8Array | null;

/** How one column's values are checked and appended. */
export interface ColumnCodec {
  type: DuckType;
  convert(v: SqlValue): Cell | typeof INVALID;
  /** Appends a non-null value that `convert` returned. */
  append(a: DuckDBAppender, v: Exclude<Cell, null>): void;
}

/**
 * The DuckDB type for a declared SQL type. Only types whose values convert
 * without guessing get a typed column; dates, times, enums, arrays and
 * anything unknown stay VARCHAR, because dumps write them in dialect-specific
 * text that would otherwise be rejected or silently reinterpreted.
 */
export function duckTypeFor(declared: string | null): DuckType {
  if (declared === null) return "VARCHAR";
  const t = declared.trim().toLowerCase();
  if (t.includes("[") || t.startsWith("array")) return "VARCHAR";
  if (/^(?:(?:tiny|small|medium|big)?int(?:eger)?|int[248]|(?:small|big)?serial|serial[248])\b/.test(t)) {
    // MySQL's BIGINT UNSIGNED exceeds BIGINT; Parquet has UINT64 (but no 128-bit integer).
    return /^(?:big ?int|int8)\b.*\bunsigned\b/.test(t) ? "UBIGINT" : "BIGINT";
  }
  if (/^(?:numeric|decimal|dec|real|float\d*|double|fixed|number)\b/.test(t)) return "DOUBLE";
  if (/^bool(?:ean)?\b/.test(t)) return "BOOLEAN";
  if (/^(?:bytea|blob|tinyblob|mediumblob|longblob|binary|varbinary|image)\b/.test(t)) return "BLOB";
  return "VARCHAR";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const TRUE_TEXT = new Set(["t", "true", "y", "yes", "on", "1"]);
const FALSE_TEXT = new Set(["f", "false", "n", "no", "off", "0"]);

function toInteger(v: SqlValue, min: bigint, max: bigint): bigint | null | typeof INVALID {
  let b: bigint;
  if (v === null) return null;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number") {
    if (!Number.isInteger(v)) return INVALID;
    b = BigInt(v);
  } else if (typeof v === "boolean") b = v ? 1n : 0n;
  else if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) b = BigInt(v.trim());
  else return INVALID;
  return b >= min && b <= max ? b : INVALID;
}

function toDouble(v: SqlValue): number | null | typeof INVALID {
  if (v === null || typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v !== "string") return INVALID;
  const s = v.trim();
  if (DECIMAL_TEXT.test(s)) return Number(s);
  // PostgreSQL writes these for float columns.
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (!special) return INVALID;
  if ((special[2] as string).toLowerCase() === "nan") return Number.NaN;
  return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

function toBoolean(v: SqlValue): boolean | null | typeof INVALID {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "number" || typeof v === "bigint")
    return v === 0 || v === 0n ? false : v === 1 || v === 1n ? true : INVALID;
  if (typeof v !== "string") return INVALID;
  const s = v.trim().toLowerCase();
  return TRUE_TEXT.has(s) ? true : FALSE_TEXT.has(s) ? false : INVALID;
}

function toBlob(v: SqlValue): Uint8Array | null {
  if (v === null || v instanceof Uint8Array) return v;
  // PostgreSQL's bytea hex output (\x…) as it appears in COPY data and --inserts dumps.
  if (typeof v === "string" && /^\\x(?:[0-9a-fA-F]{2})*$/.test(v))
    return new Uint8Array(Buffer.from(v.slice(2), "hex"));
  return new Uint8Array(Buffer.from(String(v), "utf8"));
}

/** Text for any value: bytes become `\x…` hex (PostgreSQL's bytea notation), so nothing is lost. */
export function toText(v: SqlValue): string | null {
  if (v === null || typeof v === "string") return v;
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
  return String(v);
}

const CODECS: Record<DuckType, ColumnCodec> = {
  VARCHAR: { type: "VARCHAR", convert: toText, append: (a, v) => a.appendVarchar(v as string) },
  BIGINT: {
    type: "BIGINT",
    convert: (v) => toInteger(v, INT64_MIN, INT64_MAX),
    append: (a, v) => a.appendBigInt(v as bigint),
  },
  UBIGINT: {
    type: "UBIGINT",
    convert: (v) => toInteger(v, 0n, UINT64_MAX),
    append: (a, v) => a.appendUBigInt(v as bigint),
  },
  DOUBLE: { type: "DOUBLE", convert: toDouble, append: (a, v) => a.appendDouble(v as number) },
  BOOLEAN: { type: "BOOLEAN", convert: toBoolean, append: (a, v) => a.appendBoolean(v as boolean) },
  BLOB: { type: "BLOB", convert: toBlob, append: (a, v) => a.appendBlob(v as Uint8Array) },
};

/** The shared, stateless codec of a column type. */
export function codecFor(type: DuckType): ColumnCodec {
  return CODECS[type];
}
