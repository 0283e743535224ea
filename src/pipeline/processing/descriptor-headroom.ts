import { readdirSync, readFileSync } from "node:fs";

/**
 * Descriptors a conversion must find free before DuckDB is started: its input, its output, its spill files
 * and the files it opens on its own threads. Measured need is well under this; the rest is margin.
 */
export const DUCKDB_DESCRIPTORS = 64;

/**
 * Throws an EMFILE error unless `needed` descriptors are free under the process's soft limit, as read now
 * (an operator may lower it on a running process). DuckDB does not report a full descriptor table as an
 * error: it aborts the whole process ("Attempted to dereference unique_ptr that is NULL!", measured with
 * the table full), so it must never be started without room. The error takes the path every exhausted
 * resource takes (processWithRetry waits and runs the conversion again). Where /proc is missing nothing can
 * be told, and nothing is refused.
 */
export function ensureDescriptors(needed: number): void {
  let free: number;
  try {
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    if (limit === undefined) return; // unlimited
    free = Number(limit) - readdirSync("/proc/self/fd").length;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EMFILE" || code === "ENFILE") throw err;
    return;
  }
  if (free >= needed) return;
  throw Object.assign(
    new Error(`EMFILE: too many open files (${free} descriptors free, a conversion needs ${needed})`),
    {
      code: "EMFILE",
    },
  );
}
