import {
  canonicalElement,
  canonicalFloat,
  exactDouble,
  isoFromMicros,
  type Kind,
  parseFloatText,
  pgArrayElements,
} from "./kinds.js";

/**
 * The Parquet side of the comparison: for a source column's kind and the DuckDB type sluice wrote, the SQL that
 * reads the column back and the JS that turns it into the kind's canonical text (see kinds.ts).
 *
 * Values are compared whatever the Parquet type, so that a column of the wrong type still shows whether its values
 * survived (a timestamp kept as its exact text in a VARCHAR is the same instant; a DOUBLE for a numeric(5,2) is
 * not the same decimal). Types are checked on their own against docs/types.md (compare.ts): a wrong type is
 * reported there, not passed here.
 */
export interface ParquetReader {
  /** Selects the value as `a<n>` and its DuckDB text as `r<n>` (shown when the text is no value of the kind). */
  sql(column: string, n: number): string;
  canonical(a: unknown, r: string | null): string | null;
}

const FLOATING = /^(?:FLOAT|DOUBLE)$/;

function hex(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex");
  return Buffer.from(String(v), "utf8").toString("hex");
}

function unreadable(r: string | null): string {
  return `(not a value of the column's kind: ${JSON.stringify(r)})`;
}

export function parquetReader(kind: Kind, duckType: string, element?: Kind): ParquetReader {
  const text = (column: string) => `${column}::VARCHAR`;
  // `r` is only read when `a` is NULL; a BLOB has no text to fall back on (and a cast of its bytes could fail).
  const pair = (value: string, column: string, n: number) =>
    `${value} AS a${n}, ${duckType === "BLOB" ? "NULL" : text(column)} AS r${n}`;
  switch (kind) {
    case "bytes":
      // A BLOB is its bytes; text (VARCHAR, or anything else) is the UTF-8 bytes of what DuckDB holds.
      return {
        sql: (c, n) => pair(duckType === "BLOB" ? c : text(c), c, n),
        canonical: (a) => (a === null ? null : hex(a)),
      };
    case "timestamp":
    case "timestamptz": {
      const instant = kind === "timestamptz";
      const cast = instant ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP";
      const value = (c: string) =>
        duckType.startsWith("TIMESTAMP") ? `epoch_us(${c})` : `epoch_us(TRY_CAST(${c} AS ${cast}))`;
      return {
        sql: (c, n) => pair(value(c), c, n),
        canonical: (a, r) =>
          a === null ? (r === null ? null : unreadable(r)) : isoFromMicros(BigInt(a as bigint), instant),
      };
    }
    case "date":
      return {
        sql: (c, n) => pair(duckType === "DATE" ? text(c) : `TRY_CAST(${c} AS DATE)::VARCHAR`, c, n),
        canonical: (a, r) => (a === null ? (r === null ? null : unreadable(r)) : String(a)),
      };
    case "bool":
      return {
        sql: (c, n) => pair(duckType === "VARCHAR" ? `TRY_CAST(${c} AS BOOLEAN)::VARCHAR` : text(c), c, n),
        canonical: (a, r) => (a === null ? (r === null ? null : unreadable(r)) : String(a)),
      };
    case "int":
    case "numeric":
      // A float holds a binary fraction: its exact decimal shows whether it is the source's number.
      return {
        sql: (c, n) => pair(FLOATING.test(duckType) ? c : text(c), c, n),
        canonical: (a) => (a === null ? null : typeof a === "number" ? exactDouble(a) : String(a)),
      };
    case "float4":
    case "float8":
      return {
        sql: (c, n) => pair(FLOATING.test(duckType) ? c : text(c), c, n),
        canonical: (a) => {
          if (a === null) return null;
          const x = typeof a === "number" ? a : parseFloatText(String(a));
          return x === null ? unreadable(String(a)) : canonicalFloat(x, kind);
        },
      };
    case "array":
      return {
        // A LIST as JSON keeps each element's type; a VARCHAR is PostgreSQL's array text, split the same way.
        sql: (c, n) => pair(duckType.endsWith("[]") ? `to_json(${c})::VARCHAR` : text(c), c, n),
        canonical: (a) => {
          if (a === null) return null;
          const elements = duckType.endsWith("[]") ? jsonElements(String(a)) : pgArrayElements(String(a));
          if (elements === null) return `(text that is not PostgreSQL's array form: ${JSON.stringify(a)})`;
          return JSON.stringify(elements.map((e) => canonicalElement(element ?? "text", e)));
        },
      };
    default:
      return { sql: (c, n) => pair(text(c), c, n), canonical: (a) => (a === null ? null : String(a)) };
  }
}

/** The elements of a JSON array as texts: strings as they are, numbers by their source digits. */
function jsonElements(json: string): (string | null)[] | null {
  const keep = (_k: string, v: unknown, ctx?: { source?: string }) => (typeof v === "number" ? ctx?.source : v);
  const parsed = JSON.parse(json, keep) as unknown;
  if (!Array.isArray(parsed)) return null;
  return parsed.map((e) => (e === null ? null : typeof e === "object" ? JSON.stringify(e) : String(e)));
}
