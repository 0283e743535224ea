/**
 * How one column is compared between the source database and sluice's Parquet: each side gets an SQL expression
 * (the source database's and DuckDB's) and a function that turns what the query returned into one canonical text.
 * Equal texts mean equal values; nothing is compared through a lossy form (floats by their bits, instants in µs
 * UTC). The canons here have PostgreSQL's SQL on the source side; mysql-canonical.ts and sqlite-tables.ts give the
 * other sources theirs, with the same DuckDB side.
 */
export interface Canon {
  /** The Parquet column's DuckDB type this kind expects (checked too: a value kept as text is not a typed one). */
  duckType: RegExp;
  /** The source database's SQL giving what `sourceCanon` turns into the canonical text. */
  sourceSql(col: string): string;
  sourceCanon(v: unknown): string | null;
  duckSql(col: string): string;
  duckCanon(v: unknown): string | null;
}

export const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** A float as its exact shortest text; -0 and NaN kept apart from 0 and each other value. */
export function floatText(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

/** Values whose canonical text both databases print the same way (integers, DECIMAL, booleans, UUIDs). */
export function asText(duckType: RegExp): Canon {
  return {
    duckType,
    sourceSql: (c) => `${c}::text`,
    sourceCanon: str,
    duckSql: (c) => `CAST(${c} AS VARCHAR)`,
    duckCanon: str,
  };
}

/**
 * DECIMAL(p,s) as the source prints it, scale kept (`1.50`). DuckDB prints a DECIMAL(p,p) without its integer
 * digit (`.5`, `-.5`): the same value, so that digit is put back on its side.
 */
export function decimal(p: number, s: number): Canon {
  return {
    ...asText(new RegExp(`^DECIMAL\\(${p},${s}\\)$`)),
    duckCanon: (v) => (v === null ? null : String(v).replace(/^(-?)\./, "$10.")),
  };
}

/** Columns sluice keeps as VARCHAR: PostgreSQL's output function's text (char(n) with its padding). */
export const VARCHAR_TEXT: Canon = {
  duckType: /^VARCHAR$/,
  sourceSql: (c) => `CASE WHEN ${c} IS NULL THEN NULL ELSE format('%s', ${c}) END`,
  sourceCanon: str,
  // As UTF-8 bytes: DuckDB's Node client decodes VARCHAR with a TextDecoder that drops a leading U+FEFF.
  duckSql: (c) => `hex(encode(CAST(${c} AS VARCHAR)))`,
  duckCanon: (v) => (v === null ? null : Buffer.from(String(v), "hex").toString("utf8")),
};

export const JSON_TEXT: Canon = { ...VARCHAR_TEXT, duckType: /^JSON$/ };

/** float4/float8: the IEEE bits on PostgreSQL's side, the number DuckDB returns on the other. */
export function float(bits: 4 | 8): Canon {
  return {
    duckType: bits === 4 ? /^FLOAT$/ : /^DOUBLE$/,
    sourceSql: (c) => `encode(float${bits}send(${c}), 'hex')`,
    sourceCanon: (v) => {
      if (v === null) return null;
      const b = Buffer.from(String(v), "hex");
      return floatText(bits === 4 ? b.readFloatBE(0) : b.readDoubleBE(0));
    },
    duckSql: (c) => c,
    duckCanon: (v) => (v === null ? null : floatText(v as number)),
  };
}

export const BYTES: Canon = {
  duckType: /^BLOB$/,
  sourceSql: (c) => `encode(${c}, 'hex')`,
  sourceCanon: str,
  duckSql: (c) => `lower(hex(${c}))`,
  duckCanon: str,
};

/** Dates as days since 1970-01-01 (BC dates included), infinities by name. */
export const DATE_DAYS: Canon = {
  duckType: /^DATE$/,
  sourceSql: (c) => `CASE WHEN isfinite(${c}) THEN (${c} - DATE '1970-01-01')::text ELSE ${c}::text END`,
  sourceCanon: str,
  duckSql: (c) =>
    `CASE WHEN isfinite(${c}) THEN CAST(${c} - DATE '1970-01-01' AS VARCHAR) ELSE CAST(${c} AS VARCHAR) END`,
  duckCanon: str,
};

/** Timestamps (with or without time zone) as µs since the epoch: for timestamptz that is the instant in UTC. */
export function micros(tz: boolean): Canon {
  return {
    duckType: tz ? /^TIMESTAMP WITH TIME ZONE$/ : /^TIMESTAMP$/,
    sourceSql: (c) =>
      `CASE WHEN isfinite(${c}) THEN (extract(epoch FROM ${c}) * 1000000)::numeric(30,0)::text ELSE ${c}::text END`,
    sourceCanon: str,
    duckSql: (c) => `CASE WHEN isfinite(${c}) THEN CAST(epoch_us(${c}) AS VARCHAR) ELSE CAST(${c} AS VARCHAR) END`,
    duckCanon: str,
  };
}

/** A time of day as µs since midnight. */
export const TIME_MICROS: Canon = {
  duckType: /^TIME$/,
  sourceSql: (c) => `(extract(epoch FROM ${c}) * 1000000)::numeric(20,0)::text`,
  sourceCanon: str,
  duckSql: (c) => `CAST((hour(${c}) * 3600 + minute(${c}) * 60)::BIGINT * 1000000 + microsecond(${c}) AS VARCHAR)`,
  duckCanon: str,
};

/** A one-dimensional array as the list of its elements' canonical texts. */
export function list(element: Canon, duckType: RegExp): Canon {
  return {
    duckType,
    sourceSql: (c) =>
      `CASE WHEN ${c} IS NULL THEN NULL ELSE coalesce((SELECT json_agg(${element.sourceSql("e")} ORDER BY i) ` +
      `FROM unnest(${c}) WITH ORDINALITY AS u(e, i))::text, '[]') END`,
    sourceCanon: (v) =>
      v === null ? null : JSON.stringify((JSON.parse(String(v)) as unknown[]).map((e) => element.sourceCanon(e))),
    duckSql: (c) => `list_transform(${c}, lambda e: ${element.duckSql("e")})`,
    duckCanon: (v) => (v === null ? null : JSON.stringify((v as unknown[]).map((e) => element.duckCanon(e)))),
  };
}
