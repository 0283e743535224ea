import type { DuckDBAppender } from "@duckdb/node-api";
import type { Charset } from "./charset.js";
import { Invalid } from "./codec.js";
import { type DeclaredColumn, NumberText, SqlDefault, type SqlValue } from "./types.js";

/**
 * SQLite columns. A declared type in SQLite is an affinity, not a constraint (https://www.sqlite.org/datatype3.html
 * 3.1): any column may hold any value, and `.dump` writes each value in its storage class (integer and real
 * literals, '…' text, X'…' blobs). So the type is chosen after the data: every value is staged in the forms it
 * may end up in, with the classes seen, and the column's final type is the affinity's type only when every value
 * fits it; otherwise VARCHAR with each value's exact text.
 */

export type Affinity = "INTEGER" | "TEXT" | "BLOB" | "REAL" | "NUMERIC";

/**
 * SQLite's own tables, which `.dump` fills without a CREATE TABLE (after `DELETE FROM sqlite_sequence;`,
 * `ANALYZE sqlite_schema;`): their columns as SQLite creates them (typeless), so they keep their names.
 */
export const SQLITE_INTERNAL_TABLES: ReadonlyMap<string, DeclaredColumn[]> = new Map(
  Object.entries({
    sqlite_sequence: ["name", "seq"],
    sqlite_stat1: ["tbl", "idx", "stat"],
    sqlite_stat4: ["tbl", "idx", "neq", "nlt", "ndlt", "sample"],
  }).map(([table, names]) => [table, names.map((name) => ({ name, type: null }))]),
);

/** SQLite's rules, in their order. */
export function affinityOf(declared: string | null): Affinity {
  const t = (declared ?? "").toUpperCase();
  if (t.includes("INT")) return "INTEGER";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "TEXT";
  if (t.includes("BLOB") || t.trim() === "") return "BLOB";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

const INT = 1;
const REAL = 2;
const TEXT = 4;
const BLOB = 8;
/** An integer a double does not hold exactly: the column cannot become DOUBLE. */
const WIDE_INT = 16;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A staged value: [text, blob, integer, double], each null where it does not apply. */
type Staged = [string | null, Uint8Array | null, bigint | null, number | null];

/**
 * A REAL's text in a VARCHAR column: the shortest text that reads back as the same double, written as DuckDB and
 * Python write a double (`0.1`, `1.0`, `1e+16`, `1.5e-07`, `-0.0`, `inf`). Not the literal: `.dump` writes 20
 * significant digits (`0.10000000000000000555`, and `12345678901234567167.0` for the double 12345678901234567168),
 * neither the value SQLite shows nor its exact decimal.
 */
export function realText(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without digits gives the shortest digits that name x.
  const [mantissa, e] = x.toExponential().split("e") as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  // Between 1e-4 and 1e16 JavaScript writes the same digits without an exponent.
  const fixed = String(x);
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/** Staged as four DuckDB columns (`v` text, `b` blob, `i` bigint, `d` double); see {@link SqliteColumn.select}. */
export class SqliteColumn {
  static readonly STAGED = ["VARCHAR", "BLOB", "BIGINT", "DOUBLE"] as const;
  private classes = 0;

  constructor(readonly affinity: Affinity) {}

  convert(v: SqlValue, cs: Charset): Staged | null | Invalid {
    if (v === null) return null;
    if (v instanceof Uint8Array) {
      this.classes |= BLOB;
      return [null, v, null, null];
    }
    if (typeof v === "string") {
      const text = cs.decode(v);
      if (text === null) return new Invalid(`is not valid ${cs.name} text`);
      this.classes |= TEXT;
      return [text, null, null, null];
    }
    if (v instanceof NumberText) {
      this.classes |= REAL;
      const x = Number(v.text);
      return [realText(x), null, null, x];
    }
    if (v instanceof SqlDefault) return new Invalid("is DEFAULT: the dump holds no value"); // the sink refuses it first
    const b = typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v);
    if (b < INT64_MIN || b > INT64_MAX) {
      // Beyond SQLite's 64-bit integers: the database itself held this as a REAL.
      this.classes |= REAL | WIDE_INT;
      return [realText(Number(b)), null, null, Number(b)];
    }
    this.classes |= INT | (b > MAX_SAFE || b < -MAX_SAFE ? WIDE_INT : 0);
    return [b.toString(), null, b, Number(b)];
  }

  append(a: DuckDBAppender, cell: Staged | null): void {
    if (cell === null) {
      for (let k = 0; k < 4; k++) a.appendNull();
      return;
    }
    const [text, blob, int, dbl] = cell;
    if (text === null) a.appendNull();
    else a.appendVarchar(text);
    if (blob === null) a.appendNull();
    else a.appendBlob(blob);
    if (int === null) a.appendNull();
    else a.appendBigInt(int);
    if (dbl === null) a.appendNull();
    else a.appendDouble(dbl);
  }

  /** The final DuckDB type, from the affinity and the classes of every value seen. */
  finalType(): "BIGINT" | "DOUBLE" | "VARCHAR" | "BLOB" {
    const c = this.classes;
    const only = (allowed: number) => (c & ~allowed) === 0;
    switch (this.affinity) {
      case "INTEGER":
        return only(INT | WIDE_INT) ? "BIGINT" : "VARCHAR";
      case "REAL":
        return only(INT | REAL) ? "DOUBLE" : "VARCHAR";
      case "NUMERIC":
        return only(INT | WIDE_INT) ? "BIGINT" : only(INT | REAL) ? "DOUBLE" : "VARCHAR";
      case "TEXT":
        return "VARCHAR";
      default:
        return c !== 0 && only(BLOB) ? "BLOB" : "VARCHAR";
    }
  }

  /** The SQL expression of the final column over its staged columns `[v, b, i, d]` (quoted names). */
  select([v, b, i, d]: string[]): string {
    switch (this.finalType()) {
      case "BIGINT":
        return i as string;
      case "DOUBLE":
        return d as string;
      case "BLOB":
        return b as string;
      default:
        // Blobs among text keep their bytes as `\x` hex, PostgreSQL's bytea notation.
        return `COALESCE(${v}, '\\x' || lower(hex(${b})))`;
    }
  }
}
