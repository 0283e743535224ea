import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { sqlIdent } from "../tabular/duckdb-session.js";
import type { Charset } from "./charset.js";
import { type ColumnCodec, Invalid, shownValue } from "./codec.js";
import { SqliteColumn } from "./sqlite-affinity.js";
import type { SqlValue } from "./types.js";

/** Where a sink reports rows it had to skip. */
export type RowErrorSink = (line: number, message: string) => void;

/** Appender rows between flushes: keeps the appender's own buffer small while rows stream in. */
const FLUSH_ROWS = 100_000;

/**
 * One output column: staged as one or more DuckDB columns while rows stream in, then selected into its final
 * type when the Parquet is written (a typed column is staged as itself; a SQLite column in several forms).
 */
export interface SinkColumn {
  /** DuckDB types of the staged columns. */
  readonly staged: readonly string[];
  convert(v: SqlValue, cs: Charset): unknown;
  /** Appends a cell `convert` returned (null included) to the staged columns. */
  append(a: DuckDBAppender, cell: unknown): void;
  /** The final column's SQL over the staged columns' quoted names. */
  select(staged: string[]): string;
}

/**
 * A column whose type the declaration decides. `own` is the charset the column declares (MySQL), used instead of
 * the dump's only when the dump's says each column is in its own (`SET NAMES binary`, see Charset.perColumn).
 */
export function typedColumn(codec: ColumnCodec, own: Charset | null = null): SinkColumn {
  const staged = codec.staged;
  return {
    staged: [staged ? staged.type : codec.sql],
    convert: own ? (v, cs) => codec.convert(v, cs.perColumn ? own : cs) : (v, cs) => codec.convert(v, cs),
    append: (a, cell) => (cell === null ? a.appendNull() : codec.append(a, cell)),
    select: ([name]) => (staged ? staged.select(name as string) : (name as string)),
  };
}

/** A SQLite column, typed after its data (sqlite-affinity.ts). */
export function sqliteColumn(column: SqliteColumn): SinkColumn {
  return {
    staged: SqliteColumn.STAGED,
    convert: (v, cs) => column.convert(v, cs),
    append: (a, cell) => column.append(a, cell as Parameters<SqliteColumn["append"]>[1]),
    select: (staged) => column.select(staged),
  };
}

/** One dump table being loaded into a DuckDB table through an appender. */
export class TableSink {
  rowCount = 0;
  private appender: DuckDBAppender | null = null;
  private sinceFlush = 0;
  private readonly positionCache = new Map<string, number[] | string>();

  private constructor(
    private readonly conn: DuckDBConnection,
    readonly table: string,
    readonly duckName: string,
    /** Names as the dump spells them, for matching INSERT column lists. */
    private readonly names: string[],
    /** Output names: unique, without control chars. */
    private readonly outNames: string[],
    private readonly columns: SinkColumn[],
  ) {}

  /**
   * Creates the staging table. Output column names are made unique (DuckDB
   * compares them ignoring case) and control chars become `_` (DuckDB's parser
   * stops at NUL, and they have no business in a Parquet schema).
   */
  static async create(
    conn: DuckDBConnection,
    table: string,
    duckName: string,
    names: string[],
    columns: SinkColumn[],
  ): Promise<TableSink> {
    const taken = new Set<string>();
    const outNames = names.map((name, i) => {
      const base = name === "" ? `c${i + 1}` : name.replace(/[\x00-\x1f\x7f]/g, "_");
      let unique = base;
      for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${base}_${n}`;
      taken.add(unique.toLowerCase());
      return unique;
    });
    const defs = columns.flatMap((c, i) => c.staged.map((type, k) => `${sqlIdent(`s${i}_${k}`)} ${type}`));
    await conn.run(`CREATE TABLE ${sqlIdent(duckName)} (${defs.join(", ")})`);
    return new TableSink(conn, table, duckName, names, outNames, columns);
  }

  /** The query that gives the final columns, for the Parquet writer. */
  selectSql(): string {
    const exprs = this.columns.map((c, i) => {
      const staged = c.staged.map((_, k) => sqlIdent(`s${i}_${k}`));
      return `${c.select(staged)} AS ${sqlIdent(this.outNames[i] as string)}`;
    });
    return `SELECT ${exprs.join(", ")} FROM ${sqlIdent(this.duckName)}`;
  }

  /**
   * Appends a batch. A row is appended whole or not at all: every value is
   * converted before the first is handed to the appender, which cannot undo.
   */
  async append(
    columns: string[] | null,
    rows: SqlValue[][],
    lines: number[],
    cs: Charset,
    report: RowErrorSink,
  ): Promise<void> {
    const positions = columns ? this.positions(columns) : null;
    if (typeof positions === "string") {
      report(lines[0] ?? 0, `${positions}; ${rows.length} row(s) skipped`);
      return;
    }
    const width = positions ? positions.length : this.names.length;
    const cells: unknown[] = new Array(this.names.length).fill(null);
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as SqlValue[];
      const line = lines[k] ?? 0;
      if (row.length !== width) {
        report(line, `expected ${width} fields, got ${row.length}`);
        continue;
      }
      if (positions) cells.fill(null);
      const bad = this.convertRow(row, positions, cells, cs);
      if (bad >= 0) {
        const col = positions ? (positions[bad] as number) : bad;
        const reason = (cells[col] as Invalid).reason;
        report(line, `column "${this.names[col]}": ${shownValue(row[bad] as SqlValue, cs)} ${reason}; row skipped`);
        continue;
      }
      this.appender ??= await this.conn.createAppender(this.duckName);
      const appender = this.appender;
      for (let col = 0; col < cells.length; col++) (this.columns[col] as SinkColumn).append(appender, cells[col]);
      appender.endRow();
      this.rowCount++;
      if (++this.sinceFlush >= FLUSH_ROWS) {
        appender.flushSync();
        this.sinceFlush = 0;
      }
    }
  }

  /** Closes the appender (flushing it); a later batch opens a new one. */
  closeAppender(): void {
    this.appender?.closeSync();
    this.appender = null;
    this.sinceFlush = 0;
  }

  /** Converts into `cells`; returns the index (in `row`) of the first value that does not fit (its Invalid in cells), or -1. */
  private convertRow(row: SqlValue[], positions: number[] | null, cells: unknown[], cs: Charset): number {
    for (let j = 0; j < row.length; j++) {
      const col = positions ? (positions[j] as number) : j;
      const cell = (this.columns[col] as SinkColumn).convert(row[j] as SqlValue, cs);
      cells[col] = cell;
      if (cell instanceof Invalid) return j;
    }
    return -1;
  }

  /** Table column index of each listed column, or a message naming the first one the table lacks. */
  private positions(columns: string[]): number[] | string {
    const key = columns.join("\u0000");
    let found = this.positionCache.get(key);
    if (found === undefined) {
      const lower = this.names.map((n) => n.toLowerCase());
      const out: number[] = [];
      for (const c of columns) {
        let at = this.names.indexOf(c);
        if (at < 0) at = lower.indexOf(c.toLowerCase());
        if (at < 0 || out.includes(at)) {
          found = `column "${c}" is not a column of table "${this.table}" (or is listed twice)`;
          break;
        }
        out.push(at);
      }
      found ??= out;
      // Dumps repeat one or two column lists; a file with endless variants must not grow the cache with it.
      if (this.positionCache.size >= 64) this.positionCache.clear();
      this.positionCache.set(key, found);
    }
    return found;
  }
}
