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

/** DuckDB's message without its multi-line hints: the first line is the useful part. */
export function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split("\n")[0]?.trim() ?? m;
}
