import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { TableProfile } from "../../core/profile.js";
import { type DuckOptions, openDuck, profileParquet, sqlIdent, sqlString } from "../tabular/duckdb-session.js";
import { type Charset, charsetFor, DEFAULT_CHARSET } from "./charset.js";
import { readSqlDump } from "./reader.js";
import { StemAllocator } from "./safe-name.js";
import { affinityOf, SQLITE_INTERNAL_TABLES, SqliteColumn } from "./sqlite-affinity.js";
import { type SinkColumn, sqliteColumn, TableSink, typedColumn } from "./table-sink.js";
import { codecFor } from "./type-map.js";
import type { DeclaredColumn, Dialect, SqlEvent } from "./types.js";

/** Errors kept in a result; the rest are only counted, so a garbage file cannot grow memory with its size. */
export const MAX_LISTED_ERRORS = 1000;

export interface SqlDumpResult {
  /** One entry per table that got at least one row, in order of first appearance. */
  tables: { table: string; parquetPath: string; profile: TableProfile }[];
  /** Unreadable statements and skipped rows, in file order (the first {@link MAX_LISTED_ERRORS}). */
  errors: { table: string | null; line: number; message: string }[];
  /** All errors, including those beyond the listed ones. */
  errorCount: number;
  rowCount: number;
}

type RowsEvent = Extract<SqlEvent, { kind: "rows" }>;

/**
 * Writes one ZSTD Parquet per table into outDir as `${safeName(table)}.parquet`
 * (the table as the dump qualifies it: `public.film.parquet`), via
 * `${…}.parquet.tmp` then rename (plain files: the pipeline makes what a
 * processor wrote durable before it records it).
 *
 * Rows stream into DuckDB tables through appenders (bounded by the session's
 * memory_limit, spilling to its temp directory), never into JS arrays for the
 * whole file. Column types come from CREATE TABLE per docs/types.md (see
 * {@link codecFor}; SQLite's after the data, see sqlite-affinity.ts); a table
 * without one is VARCHAR. A value that does not fit its column makes its row
 * invalid. Columns are named by CREATE TABLE, else by the first INSERT/COPY
 * column list, else c1..cN.
 * Throws only for I/O or DuckDB failures; unreadable input becomes `errors`.
 */
export async function sqlDumpToParquet(input: Readable, outDir: string, opts: DuckOptions): Promise<SqlDumpResult> {
  await mkdir(outDir, { recursive: true });
  const session = await openDuck(opts);
  const result: SqlDumpResult = { tables: [], errors: [], errorCount: 0, rowCount: 0 };
  const report = (table: string | null, line: number, message: string): void => {
    result.errorCount++;
    if (result.errors.length < MAX_LISTED_ERRORS) result.errors.push({ table, line, message });
  };
  const tmpFiles = new Set<string>();
  const sinks = new Map<string, TableSink>();
  try {
    await load(session.conn, input, sinks, report);
    const stems = new StemAllocator();
    for (const sink of sinks.values()) {
      sink.closeAppender();
      if (sink.rowCount > 0) {
        const parquetPath = join(outDir, `${stems.allocate(sink.table)}.parquet`);
        const profile = await writeParquet(session.conn, sink.selectSql(), parquetPath, tmpFiles);
        result.tables.push({ table: sink.table, parquetPath, profile: { ...profile, table: sink.table } });
        result.rowCount += sink.rowCount;
      }
      await session.conn.run(`DROP TABLE ${sqlIdent(sink.duckName)}`);
    }
    return result;
  } finally {
    // Appenders left open by a failure must go before the connection they belong to.
    for (const sink of sinks.values()) {
      try {
        sink.closeAppender();
      } catch {
        // Already failing: the first error is the one to report.
      }
    }
    session.close();
    await Promise.all([...tmpFiles].map((f) => rm(f, { force: true })));
  }
}

interface Declared {
  columns: DeclaredColumn[];
  dialect: Dialect;
  /** MySQL's declared time zone when the table was created (see mysqlTimestampCodec). */
  timeZone?: string;
}

/** Streams the dump into DuckDB tables, one per dump table that has rows (into `sinks`, in order of appearance). */
async function load(
  conn: DuckDBConnection,
  input: Readable,
  sinks: Map<string, TableSink>,
  report: (table: string | null, line: number, message: string) => void,
): Promise<void> {
  const declared = new Map<string, Declared>();
  let dialect: Dialect = "generic";
  let charset: Charset = DEFAULT_CHARSET;
  let timeZone: string | undefined;
  let active: TableSink | null = null;
  for await (const ev of readSqlDump(input)) {
    if (ev.kind === "error") report(ev.table, ev.line, ev.message);
    else if (ev.kind === "settings") {
      dialect = ev.dialect;
      charset = charsetFor(ev.charset, dialect === "mysql");
      timeZone = ev.timeZone;
    } else if (ev.kind === "table") {
      // A CREATE TABLE after rows arrived cannot reshape a table already loaded: the first one wins.
      if (ev.columns && ev.columns.length > 0 && !sinks.has(ev.table))
        declared.set(ev.table, { columns: ev.columns, dialect, timeZone });
    } else {
      let sink = sinks.get(ev.table);
      if (!sink) {
        const internal = dialect === "sqlite" ? SQLITE_INTERNAL_TABLES.get(ev.table) : undefined;
        const decl = declared.get(ev.table) ?? (internal && { columns: internal, dialect, timeZone });
        const created = await createSink(conn, ev, decl, dialect, sinks.size);
        if (!created) {
          report(ev.table, ev.firstLine, `rows without any value; ${ev.rows.length} row(s) skipped`);
          continue;
        }
        sink = created;
        sinks.set(ev.table, sink);
      }
      // One open appender at a time: dumps load table after table, and each appender holds a buffer.
      if (active !== sink) active?.closeAppender();
      active = sink;
      await sink.append(ev.columns, ev.rows, ev.lines, charset, (line, message) => report(ev.table, line, message));
    }
  }
}

async function createSink(
  conn: DuckDBConnection,
  ev: RowsEvent,
  declared: Declared | undefined,
  dialect: Dialect,
  index: number,
): Promise<TableSink | null> {
  let decl: DeclaredColumn[];
  const timeZone = declared?.timeZone;
  if (declared) {
    decl = declared.columns;
    dialect = declared.dialect;
  } else {
    const width = ev.rows[0]?.length ?? 0;
    decl = (ev.columns ?? Array.from({ length: width }, (_, i) => `c${i + 1}`)).map((name) => ({ name, type: null }));
  }
  const names = decl.map((c) => c.name);
  // Generated columns are left out where the dump holds no values for them: pg_dump (out of COPY lists, DEFAULT in
  // --inserts), sqlite3 .dump, SSMS scripts; computing them would mean evaluating SQL. mysqldump writes them.
  const columns: (SinkColumn | null)[] = decl.map((c) =>
    c.generated && dialect !== "mysql"
      ? null
      : dialect === "sqlite"
        ? sqliteColumn(new SqliteColumn(affinityOf(c.type)))
        : typedColumn(codecFor(c.type, dialect, timeZone), c.charset ? charsetFor(c.charset, true) : null),
  );
  if (columns.every((c) => c === null)) return null;
  return TableSink.create(conn, ev.table, `t${index}`, names, columns);
}

async function writeParquet(
  conn: DuckDBConnection,
  select: string,
  parquetPath: string,
  tmpFiles: Set<string>,
): Promise<TableProfile> {
  const tmp = `${parquetPath}.tmp`;
  tmpFiles.add(tmp);
  await conn.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
  // Profiled before it is published, so a file that does not read back is never renamed into place.
  const profile = await profileParquet(conn, tmp);
  await rename(tmp, parquetPath);
  tmpFiles.delete(tmp);
  return profile;
}
