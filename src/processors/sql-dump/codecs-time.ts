import { DuckDBDateValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTimeValue } from "@duckdb/node-api";
import { type ColumnCodec, Invalid, notA } from "./codec.js";

/**
 * Dates, timestamps and times from the text dumps write: PostgreSQL (`2020-01-02 03:04:05.123456+05:30`, years
 * past 9999, ` BC`, `infinity`), MySQL (`2020-01-02 03:04:05`, zero dates), SQL Server (`2020-01-02T03:04:05.000`).
 * Computed exactly in days and microseconds (proleptic Gregorian, as PostgreSQL and DuckDB count), never through
 * a Date or a time zone database.
 */

/**
 * Year first, as every dump tool writes it; hand-written scripts (Chinook) also write `1962/2/18`, which MySQL,
 * PostgreSQL and SQL Server all read as that day, so `/` and one-digit months and days are accepted too.
 */
const DATE = /^(\d{4,})([-/])(\d\d?)\2(\d\d?)/y;
const TIME = /(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?/y;
const OFFSET = / ?(?:(Z)|([+-])(\d\d)(?::?(\d\d)(?::?(\d\d))?)?)/y;
const BC = / BC$/;
const US_PER_DAY = 86_400_000_000n;

const DATE_MIN = DuckDBDateValue.Min.days;
const DATE_MAX = DuckDBDateValue.Max.days;
const TS_MIN = DuckDBTimestampValue.Min.micros;
const TS_MAX = DuckDBTimestampValue.Max.micros;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0); null if no such day. */
export function daysFromCivil(year: number, month: number, day: number): number | null {
  if (month < 1 || month > 12 || day < 1) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const length = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (day > length) return null;
  // Howard Hinnant's days_from_civil.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

interface Parsed {
  days: number;
  /** Microseconds into the day; 0 for a bare date. */
  micros: bigint;
  /** Offset east of UTC in seconds; null when the text has none. */
  offset: number | null;
}

type Parts = "date" | "timestamp";

/** Parses `text` fully, or returns null. `parts` says whether a time of day must follow the date. */
function parse(text: string, parts: Parts): Parsed | null {
  const bc = BC.test(text);
  const s = bc ? text.slice(0, -3) : text;
  DATE.lastIndex = 0;
  const d = DATE.exec(s);
  if (!d) return null;
  let year = Number(d[1]);
  // Year 0 does not exist in PostgreSQL's text, and MySQL's zero dates are not days.
  if (year === 0) return null;
  if (bc) year = 1 - year;
  const days = daysFromCivil(year, Number(d[3]), Number(d[4]));
  if (days === null) return null;
  let at = DATE.lastIndex;
  // A date alone is its midnight, in a timestamp column as in the databases.
  if (at === s.length) return { days, micros: 0n, offset: null };
  if (parts === "date") return null;
  const sep = s[at];
  if (sep !== " " && sep !== "T") return null;
  const time = timeAt(s, at + 1);
  if (time === null) return null;
  at = time.end;
  let offset: number | null = null;
  if (at < s.length) {
    OFFSET.lastIndex = at;
    const o = OFFSET.exec(s);
    if (!o || OFFSET.lastIndex !== s.length) return null;
    offset = o[1] ? 0 : (o[2] === "-" ? -1 : 1) * (Number(o[3]) * 3600 + Number(o[4] ?? 0) * 60 + Number(o[5] ?? 0));
  }
  return { days, micros: time.micros, offset };
}

/** A time of day at `at`: 00:00:00 to 23:59:59.999999; digits past the microsecond only if they are zeros. */
function timeAt(s: string, at: number): { micros: bigint; end: number } | null {
  TIME.lastIndex = at;
  const t = TIME.exec(s);
  if (!t) return null;
  const h = Number(t[1]);
  const m = Number(t[2]);
  const sec = Number(t[3]);
  // 24:00:00 and leap seconds are accepted by PostgreSQL's input but name no instant a Parquet TIME holds.
  if (h > 23 || m > 59 || sec > 59) return null;
  const frac = t[4] ?? "";
  if (/[1-9]/.test(frac.slice(6))) return null;
  const us = Number(frac.slice(0, 6).padEnd(6, "0"));
  return { micros: BigInt(((h * 60 + m) * 60 + sec) * 1_000_000 + us), end: TIME.lastIndex };
}

const INFINITY = /^[ \t\n\r]*([+-]?)infinity[ \t\n\r]*$/i;

function timeCodec(
  sql: string,
  parts: Parts,
  make: (p: Parsed) => bigint | number | null,
  infinities: [unknown, unknown],
  append: ColumnCodec["append"],
): ColumnCodec {
  const invalid = notA(sql);
  const outOfRange = new Invalid(`is out of range for ${sql}`);
  return {
    sql,
    convert(v) {
      if (v === null) return null;
      if (typeof v !== "string") return invalid;
      const inf = INFINITY.exec(v);
      if (inf) return inf[1] === "-" ? infinities[0] : infinities[1];
      const p = parse(v, parts);
      if (p === null) return invalid;
      const value = make(p);
      return value === null ? outOfRange : value;
    },
    append,
  };
}

export const DATE_CODEC = timeCodec(
  "DATE",
  "date",
  (p) => (p.days >= DATE_MIN && p.days <= DATE_MAX ? p.days : null),
  [DuckDBDateValue.NegInf.days, DuckDBDateValue.PosInf.days],
  (a, cell) => a.appendDate(new DuckDBDateValue(cell as number)),
);

/**
 * µs since the epoch. `zone` is "none" for a timestamp without time zone (a text naming an offset is not a local
 * time), else the offset in seconds a text without one is in (mysqldump writes TIMESTAMP columns at the offset
 * its `SET TIME_ZONE` declares, `+00:00`).
 */
function instant(p: Parsed, zone: "none" | number): bigint | null {
  if (zone === "none" && p.offset !== null) return null;
  const offset = p.offset ?? (zone === "none" ? 0 : zone);
  const us = BigInt(p.days) * US_PER_DAY + p.micros - BigInt(offset) * 1_000_000n;
  return us >= TS_MIN && us <= TS_MAX ? us : null;
}

export const TIMESTAMP_CODEC = timeCodec(
  "TIMESTAMP",
  "timestamp",
  (p) => instant(p, "none"),
  [DuckDBTimestampValue.NegInf.micros, DuckDBTimestampValue.PosInf.micros],
  (a, cell) => a.appendTimestamp(new DuckDBTimestampValue(cell as bigint)),
);

/** TIMESTAMPTZ whose values without an offset are at `offset` seconds east of UTC. */
function timestamptzAt(offset: number): ColumnCodec {
  return timeCodec(
    "TIMESTAMPTZ",
    "timestamp",
    (p) => instant(p, offset),
    [DuckDBTimestampTZValue.NegInf.micros, DuckDBTimestampTZValue.PosInf.micros],
    (a, cell) => a.appendTimestampTZ(new DuckDBTimestampTZValue(cell as bigint)),
  );
}

/** Values without an offset are UTC. */
export const TIMESTAMPTZ_CODEC = timestamptzAt(0);

/**
 * MySQL's TIMESTAMP: an instant, written in the session's time zone. mysqldump declares it (`SET
 * TIME_ZONE='+00:00'`, its --tz-utc default): TIMESTAMPTZ at that offset. A dump that declares none
 * (--skip-tz-utc, hand-written scripts) or a named zone gives wall-clock times in a zone sluice cannot know:
 * TIMESTAMP, never an instant it would have to guess.
 */
export function mysqlTimestampCodec(timeZone: string | undefined): ColumnCodec {
  const m = /^([+-])(\d{1,2}):(\d\d)$/.exec(timeZone ?? "");
  const offset = m
    ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60)
    : /^utc$/i.test(timeZone ?? "")
      ? 0
      : null;
  if (offset === null) return TIMESTAMP_CODEC;
  return offset === 0 ? TIMESTAMPTZ_CODEC : timestamptzAt(offset);
}

const TIME_INVALID = notA("TIME");

/** A time of day without date or offset. */
export const TIME_CODEC: ColumnCodec = {
  sql: "TIME",
  convert(v) {
    if (v === null) return null;
    if (typeof v !== "string") return TIME_INVALID;
    const t = timeAt(v, 0);
    return t && t.end === v.length ? t.micros : TIME_INVALID;
  },
  append: (a, cell) => a.appendTime(new DuckDBTimeValue(cell as bigint)),
};
