import { DuckDBUUIDValue } from "@duckdb/node-api";
import { asText, type ColumnCodec, Invalid, notA } from "./codec.js";
import { scaledDecimal } from "./decimal.js";
import { asciiTrim, latin1Bytes } from "./text.js";
import { NumberText, type SqlValue } from "./types.js";

/** Codecs of numbers, booleans, text, UUIDs and bytes. Values arrive raw (see SqlValue); each codec decides. */

const INTEGER_TEXT = /^[ \t\n\r]*[+-]?\d+[ \t\n\r]*$/;

function integerOf(v: SqlValue): bigint | null {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : null;
  if (typeof v === "bigint") return v;
  // MySQL's TRUE and FALSE are 1 and 0.
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string" && INTEGER_TEXT.test(v)) return BigInt(asciiTrim(v));
  return null;
}

type IntAppend = "appendTinyInt" | "appendSmallInt" | "appendInteger" | "appendUTinyInt" | "appendUSmallInt";

/** An integer column of `bits` width; 64-bit ones append bigint, the others numbers. */
function integerCodec(
  sql: string,
  min: bigint,
  max: bigint,
  method: IntAppend | "appendUInteger" | "big",
): ColumnCodec {
  const invalid = notA(sql);
  const outOfRange = new Invalid(`is out of range for ${sql}`);
  if (method === "big") {
    const append = min < 0n ? "appendBigInt" : "appendUBigInt";
    return {
      sql,
      convert(v) {
        if (v === null) return null;
        const b = integerOf(v);
        if (b === null) return invalid;
        return b >= min && b <= max ? b : outOfRange;
      },
      append: (a, cell) => a[append](cell as bigint),
    };
  }
  const lo = Number(min);
  const hi = Number(max);
  return {
    sql,
    convert(v) {
      if (v === null) return null;
      // The common case, a safe integer literal, needs no bigint.
      const n = typeof v === "number" ? v : typeof v === "string" && INTEGER_TEXT.test(v) ? Number(v) : null;
      if (n !== null) return Number.isInteger(n) ? (n >= lo && n <= hi ? n : outOfRange) : invalid;
      const b = integerOf(v);
      if (b === null) return invalid;
      return b >= min && b <= max ? Number(b) : outOfRange;
    },
    append: (a, cell) => a[method](cell as number),
  };
}

export const INTEGER_CODECS: Record<string, ColumnCodec> = {
  TINYINT: integerCodec("TINYINT", -128n, 127n, "appendTinyInt"),
  SMALLINT: integerCodec("SMALLINT", -32768n, 32767n, "appendSmallInt"),
  INTEGER: integerCodec("INTEGER", -(2n ** 31n), 2n ** 31n - 1n, "appendInteger"),
  BIGINT: integerCodec("BIGINT", -(2n ** 63n), 2n ** 63n - 1n, "big"),
  UTINYINT: integerCodec("UTINYINT", 0n, 255n, "appendUTinyInt"),
  USMALLINT: integerCodec("USMALLINT", 0n, 65535n, "appendUSmallInt"),
  UINTEGER: integerCodec("UINTEGER", 0n, 2n ** 32n - 1n, "appendUInteger"),
  UBIGINT: integerCodec("UBIGINT", 0n, 2n ** 64n - 1n, "big"),
};

const FLOAT_TEXT = /^[ \t\n\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?[ \t\n\r]*$/i;
const FLOAT_SPECIAL = /^[ \t\n\r]*([+-]?)(inf|infinity|nan)[ \t\n\r]*$/i;

function floatOf(v: SqlValue): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof NumberText) return Number(v.text);
  if (typeof v !== "string") return null;
  // Number() of decimal text is correctly rounded: the double the dump's shortest digits stand for.
  if (FLOAT_TEXT.test(v)) return Number(v);
  // PostgreSQL writes these for float columns.
  const special = FLOAT_SPECIAL.exec(v);
  if (!special) return null;
  if ((special[2] as string).toLowerCase() === "nan") return Number.NaN;
  return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

function floatCodec(single: boolean): ColumnCodec {
  const sql = single ? "FLOAT" : "DOUBLE";
  const invalid = notA(sql);
  const outOfRange = new Invalid(`is out of range for ${sql}`);
  return {
    sql,
    convert(v) {
      if (v === null) return null;
      const f = floatOf(v);
      if (f === null) return invalid;
      // A finite value that only an infinity would hold is not the source's value.
      if (Number.isFinite(f) && !Number.isFinite(single ? Math.fround(f) : f)) return outOfRange;
      return f;
    },
    append: single ? (a, cell) => a.appendFloat(cell as number) : (a, cell) => a.appendDouble(cell as number),
  };
}

export const FLOAT = floatCodec(true);
export const DOUBLE = floatCodec(false);

/**
 * DECIMAL(p,s), p ≤ 38: the exact digits, or the row is invalid (PostgreSQL's NaN included). Staged as the
 * unscaled HUGEINT and multiplied by 10^-s when written: appending DuckDB decimal values one by one costs ten
 * times more (measured: 1.5 s against 0.15 s for 300,000 values), and DECIMAL(38,0) × DECIMAL(s,s) is exact.
 */
export function decimalCodec(precision: number, scale: number): ColumnCodec {
  const sql = `DECIMAL(${precision},${scale})`;
  const invalid = notA(sql);
  const unit = scale === 0 ? "" : ` * CAST('0.${"0".repeat(scale - 1)}1' AS DECIMAL(${scale},${scale}))`;
  return {
    sql,
    staged: { type: "HUGEINT", select: (col) => `CAST(CAST(${col} AS DECIMAL(38,0))${unit} AS ${sql})` },
    convert(v, cs) {
      if (v === null) return null;
      if (typeof v === "boolean" || v instanceof Uint8Array) return invalid;
      const text = typeof v === "string" ? cs.decode(v) : String(v);
      if (text === null) return invalid;
      const scaled = scaledDecimal(text, precision, scale);
      if (scaled === null) return invalid;
      return typeof scaled === "string" ? new Invalid(`${scaled}: not a valid ${sql}`) : scaled;
    },
    append: (a, cell) => a.appendHugeInt(cell as bigint),
  };
}

const TRUE_TEXT = new Set(["t", "true", "y", "yes", "on", "1"]);
const FALSE_TEXT = new Set(["f", "false", "n", "no", "off", "0"]);
const BOOLEAN_INVALID = notA("BOOLEAN");

export const BOOLEAN: ColumnCodec = {
  sql: "BOOLEAN",
  convert(v) {
    if (v === null || typeof v === "boolean") return v;
    if (typeof v === "number" || typeof v === "bigint")
      return v === 0 || v === 0n ? false : v === 1 || v === 1n ? true : BOOLEAN_INVALID;
    if (typeof v !== "string") return BOOLEAN_INVALID;
    const s = asciiTrim(v).toLowerCase();
    return TRUE_TEXT.has(s) ? true : FALSE_TEXT.has(s) ? false : BOOLEAN_INVALID;
  },
  append: (a, cell) => a.appendBoolean(cell as boolean),
};

/** Text in the dump's charset; `untyped` columns (no CREATE TABLE) show binary literals as `\x` hex instead. */
function textCodec(sql: "VARCHAR" | "JSON", untyped: boolean): ColumnCodec {
  return {
    sql,
    convert(v, cs) {
      if (v === null) return null;
      if (untyped && v instanceof Uint8Array) return `\\x${Buffer.from(v).toString("hex")}`;
      const text = asText(v, cs);
      return text === null ? new Invalid(`is not valid ${cs.name} text`) : text;
    },
    append: (a, cell) => a.appendVarchar(cell as string),
  };
}

export const VARCHAR = textCodec("VARCHAR", false);
export const UNTYPED = textCodec("VARCHAR", true);
export const JSON_TEXT = textCodec("JSON", false);

const UUID_INVALID = notA("UUID");

/** PostgreSQL's UUID input: 32 hex digits, hyphens between groups of four, optional braces. */
export const UUID: ColumnCodec = {
  sql: "UUID",
  convert(v) {
    if (v === null) return null;
    if (typeof v !== "string") return UUID_INVALID;
    const m = /^[ \t\n\r]*(\{?)((?:[0-9a-f]{4}-?){7}[0-9a-f]{4})(\}?)[ \t\n\r]*$/i.exec(v);
    if (!m || (m[1] as string).length !== (m[3] as string).length) return UUID_INVALID;
    const hex = (m[2] as string).replaceAll("-", "");
    return hex.length === 32 ? BigInt(`0x${hex}`) : UUID_INVALID;
  },
  append: (a, cell) => a.appendUUID(DuckDBUUIDValue.fromUint128(cell as bigint)),
};

const BLOB_INVALID = notA("BLOB");

/** The bytes exactly: raw inside quotes (mysqldump's default), `_binary '…'`, `0x…`, `X'…'`. */
export const BLOB: ColumnCodec = {
  sql: "BLOB",
  convert(v) {
    if (v === null || v instanceof Uint8Array) return v;
    if (typeof v === "string") return latin1Bytes(v);
    // MySQL stores a number put in a binary column as its digits.
    if (typeof v === "number" || typeof v === "bigint" || v instanceof NumberText) return latin1Bytes(String(v));
    return BLOB_INVALID;
  },
  append: (a, cell) => a.appendBlob(cell as Uint8Array),
};

/** PostgreSQL bytea: its text form, hex (`\x0a1b`) or escape (`a\\000b`, `\\\\`), as COPY and --inserts write it. */
export const BYTEA: ColumnCodec = {
  sql: "BLOB",
  convert(v) {
    if (v === null || v instanceof Uint8Array) return v;
    if (typeof v !== "string") return BLOB_INVALID;
    const bytes = byteaBytes(v);
    return bytes ?? new Invalid("is not valid bytea text (hex or escape format)");
  },
  append: (a, cell) => a.appendBlob(cell as Uint8Array),
};

export function byteaBytes(raw: string): Uint8Array | null {
  if (raw.startsWith("\\x")) {
    // PostgreSQL allows whitespace between the digit pairs.
    const hex = raw.slice(2).replace(/[ \t\n\r]+/g, "");
    return /^(?:[0-9a-fA-F]{2})*$/.test(hex) ? new Uint8Array(Buffer.from(hex, "hex")) : null;
  }
  if (!raw.includes("\\")) return latin1Bytes(raw);
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 92) {
      out.push(c);
      continue;
    }
    if (raw.charCodeAt(i + 1) === 92) {
      out.push(92);
      i++;
      continue;
    }
    const oct = /^[0-3][0-7]{2}/.exec(raw.slice(i + 1, i + 4));
    if (!oct) return null;
    out.push(Number.parseInt(oct[0], 8));
    i += 3;
  }
  return new Uint8Array(out);
}

const BIT_INVALID = notA("BIT value");

/** MySQL BIT(n): the big-endian bytes mysqldump writes (raw, `_binary`, `0x…`) or `b'…'`, as an unsigned integer. */
export const BIT: ColumnCodec = {
  sql: "UBIGINT",
  convert(v) {
    if (v === null) return null;
    if (typeof v === "number" || typeof v === "bigint") {
      const b = BigInt(v);
      return b >= 0n && b < 2n ** 64n ? b : BIT_INVALID;
    }
    const bytes = typeof v === "string" ? latin1Bytes(v) : v instanceof Uint8Array ? v : null;
    if (bytes === null || bytes.length > 8) return BIT_INVALID;
    let b = 0n;
    for (const x of bytes) b = (b << 8n) | BigInt(x);
    return b;
  },
  append: (a, cell) => a.appendUBigInt(cell as bigint),
};
