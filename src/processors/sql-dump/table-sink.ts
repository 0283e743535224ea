import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { sqlIdent } from "../tabular/duckdb-session.js";
import { type ColumnCodec, codecFor, type DuckType, INVALID, toText } from "./column-types.js";
import type { SqlValue } from "./types.js";

/** Where a sink reports rows it had to skip. */
export type RowErrorSink = (line: number, message: string) => void;

/** Appender rows between flushes: keeps the appender's own buffer small while rows stream in. */
const FLUSH_ROWS = 100_000;

/** One dump table being loaded into a DuckDB table through an appender. */
export class TableSink {
  rowCount = 0;
  private appender: DuckDBAppender | null = null;
  private sinceFlush = 0;
  private readonly codecs: ColumnCodec[];
  private readonly positionCache = new Map<string, number[] | string>();

  private constructor(
    private readonly conn: DuckDBConnection,
    readonly table: string,
    readonly duckName: string,
    /** Names as the dump spells them, for matching INSERT column lists. */
    private readonly names: string[],
    types: DuckType[],
  ) {
    this.codecs = types.map(codecFor);
  }

  /**
   * Creates the DuckDB table. Output column names are made unique (DuckDB
   * compares them ignoring case) and control chars become `_` (DuckDB's parser
   * stops at NUL, and they have no business in a Parquet schema).
   */
  static async create(
    conn: DuckDBConnection,
    table: string,
    duckName: string,
    names: string[],
    types: DuckType[],
  ): Promise<TableSink> {
    const taken = new Set<string>();
    const defs = names.map((name, i) => {
      const base = name === "" ? `c${i + 1}` : name.replace(/[\x00-\x1f\x7f]/g, "_");
      let unique = base;
      for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${base}_${n}`;
      taken.add(unique.toLowerCase());
      return `${sqlIdent(unique)} ${types[i]}`;
    });
    await conn.run(`CREATE TABLE ${sqlIdent(duckName)} (${defs.join(", ")})`);
    return new TableSink(conn, table, duckName, names, types);
  }

  /**
   * Appends a batch. A row is appended whole or not at all: every value is
   * converted before the first is handed to the appender, which cannot undo.
   */
  async append(columns: string[] | null, rows: SqlValue[][], lines: number[], report: RowErrorSink): Promise<void> {
    const positions = columns ? this.positions(columns) : null;
    if (typeof positions === "string") {
      report(lines[0] ?? 0, `${positions}; ${rows.length} row(s) skipped`);
      return;
    }
    const width = positions ? positions.length : this.names.length;
    const cells: (SqlValue | typeof INVALID)[] = new Array(this.names.length).fill(null);
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as SqlValue[];
      const line = lines[k] ?? 0;
      if (row.length !== width) {
        report(line, `expected ${width} fields, got ${row.length}`);
        continue;
      }
      if (positions) cells.fill(null);
      const bad = this.convertRow(row, positions, cells);
      if (bad >= 0) {
        const col = positions ? (positions[bad] as number) : bad;
        const shown = JSON.stringify((toText(row[bad] as SqlValue) ?? "").slice(0, 40));
        const codec = this.codecs[col] as ColumnCodec;
        report(line, `column "${this.names[col]}": ${shown} is not a valid ${codec.type}; row skipped`);
        continue;
      }
      this.appender ??= await this.conn.createAppender(this.duckName);
      this.appendCells(this.appender, cells);
      this.rowCount++;
      if (++this.sinceFlush >= FLUSH_ROWS) {
        this.appender.flushSync();
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

  /** Converts into `cells`; returns the index (in `row`) of the first value that does not fit, or -1. */
  private convertRow(row: SqlValue[], positions: number[] | null, cells: (SqlValue | typeof INVALID)[]): number {
    for (let j = 0; j < row.length; j++) {
      const col = positions ? (positions[j] as number) : j;
      const cell = (this.codecs[col] as ColumnCodec).convert(row[j] as SqlValue);
      if (cell === INVALID) return j;
      cells[col] = cell;
    }
    return -1;
  }

  private appendCells(appender: DuckDBAppender, cells: (SqlValue | typeof INVALID)[]): void {
    for (let col = 0; col < cells.length; col++) {
      const cell = cells[col];
      if (cell === null || cell === INVALID || cell === undefined) appender.appendNull();
      else (this.codecs[col] as ColumnCodec).append(appender, cell);
    }
    appender.endRow();
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
