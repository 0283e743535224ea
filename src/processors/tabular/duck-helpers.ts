import { rm } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "./duckdb-session.js";

/** Runs `COPY (select) TO out` as Parquet and returns the number of rows written; a failed COPY leaves no file. */
export async function copyToParquet(
  conn: DuckDBConnection,
  select: string,
  out: string,
  compression: "zstd" | "snappy" = "zstd",
): Promise<number> {
  try {
    const r = await conn.runAndReadAll(
      `COPY (${select}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION ${compression})`,
    );
    return Number(r.getRows()[0]?.[0] ?? 0);
  } catch (err) {
    await rm(out, { force: true });
    throw err;
  }
}

/** DuckDB could not work out (or keep to) the file's CSV dialect: retry another way rather than fail. */
export function isDialectError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /Error when sniffing file|not possible to automatically detect|state machine reached an invalid state/i.test(
    m,
  );
}

/**
 * DuckDB's parallel CSV scanner gives up on null padding where a record spans lines: a newline inside quotes
 * (valid RFC 4180) or a quote left open. It says so as "Parameter Not Allowed", even when the message that
 * follows is a CSV error that the single-threaded scanner records as a rejected row instead.
 */
export function isParallelPaddingError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /^Parameter Not Allowed Error|parallel scanner does not support null_padding/i.test(m);
}

/**
 * DuckDB refused what the file holds (binding, parsing, converting, "not implemented" shapes): the file's
 * problem, not sluice's. Out-of-memory, I/O and internal DuckDB errors are not.
 */
export function isContentError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /^(Binder|Parser|Conversion|Invalid Input|Not implemented|Parameter Not Allowed) Error/.test(m);
}

/** DuckDB's message without its multi-line hints: the first line is the useful part. */
export function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split("\n")[0]?.trim() ?? m;
}

export interface Telling {
  /** Paths DuckDB was given for the file (the descriptor path, a normalized copy): each becomes `name`. */
  paths: string[];
  /** The name the user knows the file by; "the file" when unknown. */
  name?: string;
  /** DuckDB's number of a JSON record ("record/value N") → its 1-based data row. */
  record?: (duckRecord: number) => number;
}

/**
 * DuckDB's first line, told the user's way: the file by the name the user knows, never the descriptor path
 * (/proc/self/fd/N) DuckDB was given, and JSON records as 1-based data rows. DuckDB's own count is one too high
 * in its "Malformed JSON" errors ("record/value 2", or "line 2" for JSON Lines, for the first record) and right
 * in its others ("JSON transform error … in record/value 1").
 */
export function duckMessage(err: unknown, t: Telling): string {
  const name = JSON.stringify(t.name ?? "the file");
  let m = firstLine(err);
  for (const p of t.paths) m = m.replaceAll(`"${p}"`, name).replaceAll(`'${p}'`, name).replaceAll(p, name);
  m = m.replace(/"?\/proc\/self\/fd\/\d+"?/g, name);
  const high = m.includes("Malformed JSON") ? 1 : 0;
  return m.replace(/in (record\/value|line) (\d+)/g, (_, _what: string, n: string) => {
    const duck = Number(n) - high;
    return `in record ${t.record ? t.record(duck) : duck}`;
  });
}
