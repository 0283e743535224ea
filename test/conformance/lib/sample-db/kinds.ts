/**
 * How a column of the restored database is compared with sluice's Parquet. Each source column gets a kind, and
 * both sides are turned into the kind's canonical text (docs/conformance.md lists the same forms):
 *
 * | kind | canonical text |
 * |---|---|
 * | int | the integer in decimal: `-12` |
 * | numeric | the exact decimal as the server prints it, scale kept: `4.99`, `0.50` (a float in the Parquet is written as its exact binary value, so a DOUBLE never passes for a decimal) |
 * | float4, float8 | shortest round-trip text of the float (float4 rounded to float32 first); `-0`, `NaN`, `Infinity` |
 * | bool | `true` / `false` |
 * | text | the exact string (a `char(n)` with its padding) |
 * | bytes | lowercase hex of the bytes |
 * | date | `YYYY-MM-DD` |
 * | timestamp | `YYYY-MM-DDTHH:MM:SS.ffffff` (wall clock, no zone) |
 * | timestamptz | `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the UTC instant) |
 * | array | JSON array of the elements' canonical texts (`null` for a NULL element) |
 *
 * Also here: the Parquet (DuckDB) type docs/types.md promises for each source type, checked column by column.
 */
export type Kind =
  | "int"
  | "numeric"
  | "float4"
  | "float8"
  | "bool"
  | "text"
  | "bytes"
  | "date"
  | "timestamp"
  | "timestamptz"
  | "array";

export interface SourceColumn {
  name: string;
  /** The type as the server's catalog states it, e.g. `numeric(5,2)`, `smallint(5) unsigned`. */
  declared: string;
  kind: Kind;
  /** Arrays: the kind of the elements. */
  element?: Kind;
  /** The DuckDB type docs/types.md says the Parquet column is, as DuckDB's DESCRIBE names it. */
  contract: string;
  /** SQL on the source server giving the canonical text (arrays: PostgreSQL's array text, split in JS). */
  select: string;
}

const TS = "TIMESTAMP WITH TIME ZONE";

/** `numeric(p,s)` / `decimal(p,s)` up to 38 digits is DECIMAL(p,s); beyond, unbounded or an odd scale: exact text. */
function decimalContract(declared: string): string {
  const m = /\((\d+)\s*(?:,\s*(\d+))?\)/.exec(declared);
  if (!m) return "VARCHAR";
  const p = Number(m[1]);
  const scale = Number(m[2] ?? 0);
  return p <= 38 && scale <= p ? `DECIMAL(${p},${scale})` : "VARCHAR";
}

// ---------- PostgreSQL ----------

/** A PostgreSQL base type by `pg_type.typname`: its kind and what docs/types.md maps it to. */
function pgBase(typname: string, declared: string): { kind: Kind; contract: string } {
  switch (typname) {
    case "int2":
      return { kind: "int", contract: "SMALLINT" };
    case "int4":
      return { kind: "int", contract: "INTEGER" };
    case "int8":
      return { kind: "int", contract: "BIGINT" };
    case "numeric":
      return { kind: "numeric", contract: decimalContract(declared) };
    case "float4":
      return { kind: "float4", contract: "FLOAT" };
    case "float8":
      return { kind: "float8", contract: "DOUBLE" };
    case "bool":
      return { kind: "bool", contract: "BOOLEAN" };
    case "bytea":
      return { kind: "bytes", contract: "BLOB" };
    case "date":
      return { kind: "date", contract: "DATE" };
    case "timestamp":
      return { kind: "timestamp", contract: "TIMESTAMP" };
    case "timestamptz":
      return { kind: "timestamptz", contract: TS };
    case "time":
      return { kind: "text", contract: "TIME" };
    case "uuid":
      return { kind: "text", contract: "UUID" };
    case "json":
    case "jsonb":
      return { kind: "text", contract: "JSON" };
    default:
      // text, varchar, bpchar, name, citext, timetz, interval, tsvector, inet, money, …: the exact text.
      return { kind: "text", contract: "VARCHAR" };
  }
}

export interface PgAttribute {
  name: string;
  /** format_type(): `numeric(4,2)`, `text[]`, `public.mpaa_rating`, `character(20)`. */
  declared: string;
  typname: string;
  /** pg_type.typtype: b base, d domain, e enum, … */
  typtype: string;
  /** Arrays: the element's typname. */
  elem: string | null;
}

export function pgColumn(a: PgAttribute): SourceColumn {
  const q = `"${a.name.replaceAll('"', '""')}"`;
  const base = { name: a.name, declared: a.declared };
  // Enums, domains and every type with no lossless Parquet type are their exact text (docs/types.md).
  if (a.typtype === "d" || a.typtype === "e")
    return { ...base, kind: "text", contract: "VARCHAR", select: `${q}::text` };
  if (a.elem) {
    const el = pgBase(a.elem, "");
    // JSON is a string in Parquet too: a json[] stays PostgreSQL's array text, like text[].
    const contract = el.contract === "VARCHAR" || el.contract === "JSON" ? "VARCHAR" : `${el.contract}[]`;
    return { ...base, kind: "array", element: el.kind, contract, select: `${q}::text` };
  }
  const { kind, contract } = pgBase(a.typname, a.declared);
  const select: Record<Kind, string> = {
    int: `${q}::text`,
    numeric: `${q}::text`,
    float4: `${q}::text`,
    float8: `${q}::text`,
    bool: `${q}::text`,
    // A cast of char(n) to text drops its padding; the column itself comes back padded, as pg_dump wrote it.
    text: a.typname === "bpchar" ? q : `${q}::text`,
    bytes: `encode(${q}, 'hex')`,
    date: `to_char(${q}, 'YYYY-MM-DD')`,
    timestamp: `to_char(${q}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`,
    timestamptz: `to_char(${q} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    array: `${q}::text`,
  };
  return { ...base, kind, contract, select: select[kind] };
}

// ---------- MySQL / MariaDB ----------

const GEOMETRY = new Set([
  "geometry",
  "point",
  "linestring",
  "polygon",
  "multipoint",
  "multilinestring",
  "multipolygon",
  "geometrycollection",
]);

/** `information_schema.COLUMNS`: DATA_TYPE (`smallint`) and COLUMN_TYPE (`smallint(5) unsigned`). */
export function mysqlColumn(name: string, dataType: string, columnType: string): SourceColumn {
  const q = `\`${name.replaceAll("`", "``")}\``;
  const t = dataType.toLowerCase();
  const unsigned = /\bunsigned\b/i.test(columnType);
  const base = { name, declared: columnType };
  const ints: Record<string, [string, string]> = {
    tinyint: ["TINYINT", "UTINYINT"],
    smallint: ["SMALLINT", "USMALLINT"],
    mediumint: ["INTEGER", "UINTEGER"],
    int: ["INTEGER", "UINTEGER"],
    bigint: ["BIGINT", "UBIGINT"],
  };
  const int = ints[t];
  if (int) return { ...base, kind: "int", contract: unsigned ? int[1] : int[0], select: `CAST(${q} AS CHAR)` };
  if (t === "year") return { ...base, kind: "int", contract: "SMALLINT", select: `CAST(${q} AS CHAR)` };
  if (t === "bit") return { ...base, kind: "int", contract: "UBIGINT", select: `CAST(${q} + 0 AS CHAR)` };
  if (t === "decimal") {
    return { ...base, kind: "numeric", contract: decimalContract(columnType), select: `CAST(${q} AS CHAR)` };
  }
  if (t === "float") return { ...base, kind: "float4", contract: "FLOAT", select: `CAST(${q} AS CHAR)` };
  if (t === "double") return { ...base, kind: "float8", contract: "DOUBLE", select: `CAST(${q} AS CHAR)` };
  if (/^(?:var)?binary$|blob$/.test(t) || GEOMETRY.has(t)) {
    // GEOMETRY: MySQL's internal form (SRID + WKB), the bytes mysqldump writes.
    return { ...base, kind: "bytes", contract: "BLOB", select: `LOWER(HEX(${q}))` };
  }
  if (t === "date") return { ...base, kind: "date", contract: "DATE", select: `DATE_FORMAT(${q}, '%Y-%m-%d')` };
  if (t === "datetime") {
    return { ...base, kind: "timestamp", contract: "TIMESTAMP", select: `DATE_FORMAT(${q}, '%Y-%m-%dT%H:%i:%s.%f')` };
  }
  if (t === "timestamp") {
    // The session's time_zone is +00:00 (see sources.ts), so this is the UTC instant.
    return { ...base, kind: "timestamptz", contract: TS, select: `DATE_FORMAT(${q}, '%Y-%m-%dT%H:%i:%s.%fZ')` };
  }
  // MariaDB declares JSON as longtext, so only MySQL's own JSON type is JSON; MariaDB's UUID is UUID.
  const contract = t === "json" ? "JSON" : t === "uuid" ? "UUID" : "VARCHAR";
  // char, varchar, *text, enum, set, time: the exact text.
  return { ...base, kind: "text", contract, select: `CAST(${q} AS CHAR)` };
}

// ---------- canonical texts computed in JS ----------

export function parseFloatText(s: string): number | null {
  const t = s.trim();
  const special = /^([+-]?)(inf|infinity)$/i.exec(t);
  if (special) return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(t) ? Number(t) : null;
}

export function canonicalFloat(x: number, kind: Kind): string {
  const v = kind === "float4" ? Math.fround(x) : x;
  return Object.is(v, -0) ? "-0" : String(v);
}

/** The exact decimal value of a float64 (every binary fraction has a finite decimal one). */
export function exactDouble(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Object.is(x, -0)) return "-0";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? "-" : "";
  const exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let e = -1074;
  if (exponent !== 0) {
    mantissa |= 1n << 52n;
    e = exponent - 1075;
  }
  if (e >= 0) return sign + (mantissa << BigInt(e)).toString();
  const k = -e;
  const digits = (mantissa * 5n ** BigInt(k)).toString().padStart(k + 1, "0");
  const text = `${digits.slice(0, -k)}.${digits.slice(-k)}`.replace(/0+$/, "").replace(/\.$/, "");
  return sign + text;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff` (+ `Z` for an instant) from microseconds since 1970-01-01 00:00. */
export function isoFromMicros(us: bigint, instant: boolean): string {
  let ms = us / 1000n;
  let rest = us % 1000n;
  if (rest < 0n) {
    ms -= 1n;
    rest += 1000n;
  }
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, "0")}${instant ? "Z" : ""}`;
}

/** One element's canonical text from its text form (PostgreSQL's, or a JSON scalar's). */
export function canonicalElement(kind: Kind, text: string | null): string | null {
  if (text === null) return null;
  if (kind === "bool") return /^(t|true)$/i.test(text) ? "true" : /^(f|false)$/i.test(text) ? "false" : text;
  if (kind === "float4" || kind === "float8") {
    const x = parseFloatText(text);
    return x === null ? text : canonicalFloat(x, kind);
  }
  return text;
}

/**
 * The canonical text of a value as the source server gave it: most selects already give it (see `select`); floats
 * are normalised to JS's shortest form, and a PostgreSQL array's text is split into its elements.
 */
export function sourceCanonical(c: SourceColumn, value: string | null): string | null {
  if (value === null) return null;
  if (c.kind === "float4" || c.kind === "float8") {
    const x = parseFloatText(value);
    return x === null ? value : canonicalFloat(x, c.kind);
  }
  if (c.kind !== "array") return value;
  const elements = pgArrayElements(value);
  if (elements === null) throw new Error(`${c.name}: the server's array text ${value} is not a one-dimensional array`);
  return JSON.stringify(elements.map((e) => canonicalElement(c.element ?? "text", e)));
}

/**
 * The elements of a one-dimensional PostgreSQL array literal (`{a,"b c",NULL,"say \"hi\""}`), or null when the
 * text is not one (a multi-dimensional array, or no array at all).
 */
export function pgArrayElements(text: string): (string | null)[] | null {
  const s = text.replace(/^\[[^\]]*\]=/, "");
  if (!s.startsWith("{") || !s.endsWith("}")) return null;
  const out: (string | null)[] = [];
  const body = s.slice(1, -1);
  if (body === "") return out;
  let i = 0;
  for (;;) {
    if (body[i] === "{") return null;
    let item = "";
    if (body[i] === '"') {
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === "\\") i++;
        item += body[i++] ?? "";
      }
      i++;
      out.push(item);
    } else {
      while (i < body.length && body[i] !== ",") item += body[i++];
      out.push(item.trim() === "NULL" ? null : item.trim());
    }
    if (i >= body.length) return out;
    if (body[i] !== ",") return null;
    i++;
  }
}
