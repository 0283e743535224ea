import type { DuckDBAppender } from "@duckdb/node-api";
import type { Charset } from "./charset.js";
import { NumberText, type SqlValue } from "./types.js";

/** Why a value does not fit its column: the row is reported with this and skipped. */
export class Invalid {
  constructor(readonly reason: string) {}
}

/** A converted value, ready for the appender (its exact JS type depends on the codec). */
export type Cell = unknown;

/** How one column's values are checked, converted and appended. */
export interface ColumnCodec {
  /** The DuckDB column type, as written in CREATE TABLE (`DECIMAL(20,5)`, `INTEGER[]`). */
  readonly sql: string;
  /**
   * The cell for a value, null for NULL, or why it does not fit. Never a value the dump did not hold: a text that
   * is not valid in `cs`, a number out of range, a date that does not exist are all {@link Invalid}.
   */
  convert(v: SqlValue, cs: Charset): Cell | Invalid;
  /** Appends a non-null cell that `convert` returned (to the staged column when {@link staged} is set). */
  append(a: DuckDBAppender, cell: Cell): void;
  /**
   * When the column is staged in another DuckDB type than `sql` because appending that is much faster, the
   * staged type and the exact SQL that turns the staged column (`col`, quoted) into `sql`.
   */
  readonly staged?: { type: string; select(col: string): string };
}

/** The text of a value read where only text makes sense (numbers, dates): null when its bytes are not text. */
export function asText(v: SqlValue, cs: Charset): string | null {
  if (typeof v === "string") return cs.decode(v);
  if (typeof v === "number" || typeof v === "bigint" || v instanceof NumberText) return String(v);
  if (v instanceof Uint8Array) return cs.decode(Buffer.from(v).toString("latin1"));
  return v === null ? null : String(v);
}

/** The usual reason: the value is not of the column's type. */
export function notA(sql: string): Invalid {
  return new Invalid(`is not a valid ${sql}`);
}

/** A value as shown in a message: its text when it is text, else its first bytes in hex. */
export function shownValue(v: SqlValue, cs: Charset): string {
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.subarray(0, 20)).toString("hex")}`;
  const text = typeof v === "string" ? cs.decode(v) : String(v);
  if (text === null) return `\\x${Buffer.from((v as string).slice(0, 20), "latin1").toString("hex")}`;
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
