import {
  asText,
  BYTES,
  type Canon,
  DATE_DAYS,
  decimal,
  float,
  floatText,
  JSON_TEXT,
  micros,
  str,
  VARCHAR_TEXT,
} from "./canonical.js";

/**
 * The MariaDB/MySQL side of the canons: the same DuckDB side as canonical.ts, the source side computed by the
 * server (integers, days, microseconds) or read exactly through mysql2's binary protocol (doubles as their 8 bytes,
 * binary columns as Buffers). mysql-source.ts queries with `execute`, so these are the values the server holds,
 * never a text form that could round.
 */

function onSource(canon: Canon, sourceSql: (c: string) => string, sourceCanon = str): Canon {
  return { ...canon, sourceSql, sourceCanon };
}

/** Integers of every width, BIT, YEAR and ZEROFILL columns: `+ 0` gives the number, not the padded display text. */
export const myInt = (duckType: RegExp): Canon => onSource(asText(duckType), (c) => `CAST(${c} + 0 AS CHAR)`);

/** DECIMAL(p,s): the server's exact text, scale kept (`1.50000`); past 38 digits sluice keeps that text. */
export function myDecimal(p: number, s: number): Canon {
  const canon = p <= 38 ? decimal(p, s) : VARCHAR_TEXT;
  return onSource(canon, (c) => `CAST(${c} AS CHAR)`);
}

/**
 * FLOAT: MariaDB prints a FLOAT with 6 significant digits (FLT_MAX as `3.40282e38`), to mysqldump as to every
 * text client, so a dump holds no more than that text; the source side is the float32 nearest the server's text.
 * How many stored FLOAT values that text does not give back exactly is counted and printed by the test
 * ({@link floatsRoundedByServer}), so the loss is seen, not hidden.
 */
export const MY_FLOAT = onSource(
  float(4),
  (c) => `CAST(${c} AS CHAR)`,
  (v) => (v === null ? null : floatText(Math.fround(Number(v)))),
);

/** DOUBLE: the exact 8 bytes the binary protocol sends, against the Parquet double. */
export const MY_DOUBLE = onSource(
  float(8),
  (c) => c,
  (v) => (v === null ? null : floatText(v as number)),
);

/** Text columns (any charset: the server converts to the connection's utf8mb4), ENUM, SET. */
export const MY_TEXT = onSource(VARCHAR_TEXT, (c) => c);

/** JSON: MariaDB declares it `longtext` with a json_valid check, so the Parquet column is VARCHAR. */
export const MY_JSON = onSource(
  { ...JSON_TEXT, duckType: /^VARCHAR$/ },
  // CAST: mysql2 would parse a column MariaDB marks as JSON; its text is what the dump holds.
  (c) => `CAST(${c} AS CHAR)`,
);

/** Types kept as the server's own text: TIME (a duration up to ±838:59:59), INET4, INET6. */
export const MY_SERVER_TEXT = onSource(VARCHAR_TEXT, (c) => `CAST(${c} AS CHAR)`);

/** BINARY (padded as stored), VARBINARY, BLOBs, BIT-free bytes and GEOMETRY's internal form: as Buffers. */
export const MY_BYTES = onSource(
  BYTES,
  (c) => c,
  (v) => (v === null ? null : Buffer.from(v as Buffer).toString("hex")),
);

/** Days since 1970-01-01, computed by the server. */
export const MY_DATE = onSource(DATE_DAYS, (c) => `DATEDIFF(${c}, '1970-01-01')`);

/** DATETIME: the wall clock as µs since 1970-01-01 00:00, computed by the server. */
export const MY_DATETIME = onSource(
  micros(false),
  (c) => `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${c}) AS CHAR)`,
);

/** TIMESTAMP: the instant, from UNIX_TIMESTAMP (whatever the session's time zone), in µs. */
export const MY_TIMESTAMP = onSource(
  micros(true),
  (c) => `CAST(UNIX_TIMESTAMP(${c}) AS CHAR)`,
  (v) => {
    if (v === null) return null;
    const [s, frac = ""] = String(v).split(".");
    return (BigInt(s as string) * 1_000_000n + BigInt(frac.padEnd(6, "0").slice(0, 6))).toString();
  },
);

/**
 * TIMESTAMP in a dump that declares no time zone (--skip-tz-utc): the wall clock mysqldump's session showed, in the
 * server's default zone, which the comparison's session (mysql-source.ts) also has.
 */
export const MY_TIMESTAMP_WALL = onSource(
  micros(false),
  (c) => `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${c}) AS CHAR)`,
);

export const MY_UUID = onSource(asText(/^UUID$/), (c) => `CAST(${c} AS CHAR)`);
