import { rng } from "../fixtures/rng.js";
import { MY_BYTES, MY_DATETIME, MY_DOUBLE, MY_TEXT, MY_TIMESTAMP, myDecimal, myInt } from "./mysql-canonical.js";
import { HOSTILE_TEXT } from "./pg-tables-scalar.js";
import { col, type DiffTable, type DiffValue } from "./tables.js";

/**
 * Many seeded random rows, so the comparison also covers mysqldump's extended INSERTs (one statement per ~1 MB),
 * sluice's batches and values no one thought of: doubles from random bit patterns (subnormals included), full
 * 38-digit decimals, 64-bit unsigned integers, random bytes, instants with microseconds, text mixing every script.
 */

const ROWS = 4000;
const PIECES = [...HOSTILE_TEXT.filter((s) => s.length < 100), "\0", "\u00e9", "\u{10FFFF}", "\u3042", "\\N", "'"];
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** A finite double from random bits (MariaDB has no NaN or infinity), as its shortest text. */
function randomDouble(r: ReturnType<typeof rng>): string {
  for (;;) {
    const x = r.bytes(8).readDoubleBE(0);
    if (Number.isFinite(x)) return String(x);
  }
}

function randomDecimal(r: ReturnType<typeof rng>, p: number, s: number): string {
  const digits = Array.from({ length: r.int(1, p) }, () => r.int(0, 9)).join("");
  const padded = digits.padStart(s + 1, "0");
  const text = `${padded.slice(0, -s)}.${padded.slice(-s)}`;
  return r.next() < 0.5 ? `-${text}` : text;
}

function randomDatetime(r: ReturnType<typeof rng>, from: number, to: number): string {
  const date = `${pad(r.int(from, to), 4)}-${pad(r.int(1, 12))}-${pad(r.int(1, 28))}`;
  return `${date} ${pad(r.int(0, 23))}:${pad(r.int(0, 59))}:${pad(r.int(0, 59))}.${pad(r.int(0, 999_999), 6)}`;
}

export function bulk(): DiffTable {
  const r = rng(0x5eed17);
  const rows: DiffValue[][] = [];
  for (let i = 0; i < ROWS; i++) {
    const maybe = <T>(v: T): T | null => (r.next() < 0.1 ? null : v);
    const u64 = r.bytes(8).readBigUInt64BE(0);
    rows.push([
      maybe(String(r.int(-2147483648, 2147483647))),
      maybe(u64.toString()),
      maybe(randomDecimal(r, 38, 10)),
      maybe(randomDouble(r)),
      maybe(Array.from({ length: r.int(0, 6) }, () => r.pick(PIECES)).join("")),
      maybe(r.bytes(r.int(0, 64))),
      maybe(randomDatetime(r, 1000, 9999)),
      // In the insert session's +05:30, from 1971 to 2037: inside TIMESTAMP's range whatever the offset.
      maybe(randomDatetime(r, 1971, 2037)),
    ]);
  }
  return {
    name: "bulk",
    columns: [
      col("c_int", "INT", myInt(/^INTEGER$/)),
      col("c_ubigint", "BIGINT UNSIGNED", myInt(/^UBIGINT$/)),
      col("c_dec", "DECIMAL(38,10)", myDecimal(38, 10)),
      col("c_double", "DOUBLE", MY_DOUBLE),
      col("c_text", "TEXT", MY_TEXT),
      col("c_blob", "BLOB", MY_BYTES),
      col("c_datetime", "DATETIME(6)", MY_DATETIME),
      col("c_ts", "TIMESTAMP(6) NULL DEFAULT NULL", MY_TIMESTAMP),
    ],
    rows,
  };
}
