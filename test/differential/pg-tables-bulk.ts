import { rng } from "../fixtures/rng.js";
import { asText, BYTES, float, list, micros, VARCHAR_TEXT } from "./canonical.js";
import { HOSTILE_TEXT } from "./pg-tables-scalar.js";
import { col, type DiffTable } from "./tables.js";

/**
 * Many seeded random rows, so the comparison also covers batches (2,048 rows per event), appender flushes and
 * values no one thought of: doubles from random bit patterns (subnormals, NaN, -0), random decimals at full
 * precision, random bytes, instants across years 1–9999 with microseconds, text mixing every script.
 */

const ROWS = 5000;

const PIECES = [...HOSTILE_TEXT.filter((s) => s.length < 100), "\u00e9", "\u{10FFFF}", "\u0627", "\u3042", "\\N"];

function randomDouble(r: ReturnType<typeof rng>): string {
  const b = r.bytes(8);
  const x = b.readDoubleBE(0);
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return Object.is(x, -0) ? "-0" : String(x);
}

function randomDecimal(r: ReturnType<typeof rng>, p: number, s: number): string {
  const digits = Array.from({ length: r.int(1, p) }, () => r.int(0, 9)).join("");
  const padded = digits.padStart(s + 1, "0");
  const text = s === 0 ? padded : `${padded.slice(0, -s)}.${padded.slice(-s)}`;
  return r.next() < 0.5 ? `-${text}` : text;
}

function randomInstant(r: ReturnType<typeof rng>): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const us = r.int(0, 999_999);
  const off = r.pick(["+00", "-03:30", "+05:45", "+14", "-12"]);
  return `${pad(r.int(1, 9999), 4)}-${pad(r.int(1, 12))}-${pad(r.int(1, 28))} ${pad(r.int(0, 23))}:${pad(r.int(0, 59))}:${pad(r.int(0, 59))}.${pad(us, 6)}${off}`;
}

export function bulk(): DiffTable {
  const r = rng(0x5eed16);
  const rows: (string | Buffer | null)[][] = [];
  for (let i = 0; i < ROWS; i++) {
    const maybe = <T>(v: T): T | null => (r.next() < 0.1 ? null : v);
    rows.push([
      maybe(String(r.int(-2147483648, 2147483647))),
      maybe(randomDecimal(r, 18, 6)),
      maybe(randomDecimal(r, 38, 20)),
      maybe(randomDouble(r)),
      maybe(Array.from({ length: r.int(0, 6) }, () => r.pick(PIECES)).join("")),
      maybe(r.bytes(r.int(0, 64))),
      maybe(randomInstant(r)),
      maybe(
        `{${Array.from({ length: r.int(0, 4) }, () => (r.next() < 0.2 ? "NULL" : String(r.int(-99, 99)))).join(",")}}`,
      ),
    ]);
  }
  return {
    name: "public.bulk",
    columns: [
      col("c_int", "integer", asText(/^INTEGER$/)),
      col("c_num", "numeric(18,6)", asText(/^DECIMAL\(18,6\)$/)),
      col("c_num38", "numeric(38,20)", asText(/^DECIMAL\(38,20\)$/)),
      col("c_f8", "double precision", float(8)),
      col("c_text", "text", VARCHAR_TEXT),
      col("c_bytes", "bytea", BYTES),
      col("c_tstz", "timestamptz", micros(true)),
      col("c_ints", "smallint[]", list(asText(/./), /^SMALLINT\[\]$/)),
    ],
    rows,
  };
}
