import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { sqlIdent } from "../tabular/duckdb-session.js";
import type { Charset } from "./charset.js";
import { type ColumnCodec, Invalid, shownValue } from "./codec.js";
import { SqliteColumn } from "./sqlite-affinity.js";
import { DEFAULT, type SqlValue } from "./types.js";

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

/** A DEFAULT where the output holds a column: the value is the database's to compute, not in the dump. */
const DEFAULT_INVALID = new Invalid("is DEFAULT: the dump holds no value for it");

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
    /** Every declared name as the dump spells it, for matching INSERT column lists. */
    private readonly names: string[],
    /** Declared column → its output column, or -1 for one left out of the output. */
    private readonly slots: number[],
    /** Output columns' names as the dump spells them (messages), and as written (unique, no control chars). */
    private readonly keptNames: string[],
    private readonly outNames: string[],
    private readonly columns: SinkColumn[],
  ) {}

  /**
   * Creates the staging table. `columns` follows `names`; null leaves a declared column out of the output (a
   * generated column whose values the dump does not hold): its values, if a row carries them, are skipped.
   * Output column names are made unique (DuckDB compares them ignoring case) and control chars become `_` (DuckDB's
   * parser stops at NUL, and they have no business in a Parquet schema).
   */
  static async create(
    conn: DuckDBConnection,
    table: string,
    duckName: string,
    names: string[],
    columns: (SinkColumn | null)[],
  ): Promise<TableSink> {
    const slots: number[] = [];
    const keptNames: string[] = [];
    const kept: SinkColumn[] = [];
    columns.forEach((c, i) => {
      slots.push(c ? kept.length : -1);
      if (c) {
        kept.push(c);
        keptNames.push(names[i] as string);
      }
    });
    const taken = new Set<string>();
    const outNames = keptNames.map((name, i) => {
      const base = name === "" ? `c${i + 1}` : name.replace(/[\x00-\x1f\x7f]/g, "_");
      let unique = base;
      for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${base}_${n}`;
      taken.add(unique.toLowerCase());
      return unique;
    });
    const defs = kept.flatMap((c, i) => c.staged.map((type, k) => `${sqlIdent(`s${i}_${k}`)} ${type}`));
    await conn.run(`CREATE TABLE ${sqlIdent(duckName)} (${defs.join(", ")})`);
    return new TableSink(conn, table, duckName, names, slots, keptNames, outNames, kept);
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
   * A row without a column list holds either every declared column (pg_dump --inserts writes DEFAULT for a
   * generated one, mysqldump its value) or only the output ones (sqlite3 .dump leaves generated ones out).
   */
  async append(
    columns: string[] | null,
    rows: SqlValue[][],
    lines: number[],
    cs: Charset,
    report: RowErrorSink,
  ): Promise<void> {
    const listed = columns ? this.positions(columns) : null;
    if (typeof listed === "string") {
      report(lines[0] ?? 0, `${listed}; ${rows.length} row(s) skipped`);
      return;
    }
    const kept = this.columns.length;
    const all = this.names.length;
    const cells: unknown[] = new Array(kept).fill(null);
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as SqlValue[];
      const line = lines[k] ?? 0;
      const n = row.length;
      const positions = listed ?? (n === kept ? null : n === all ? this.slots : undefined);
      if (positions === undefined || (listed && n !== listed.length)) {
        const want = listed ? listed.length : kept === all ? all : `${all} or ${kept}`;
        report(line, `expected ${want} fields, got ${n}`);
        continue;
      }
      if (positions) cells.fill(null);
      const bad = this.convertRow(row, positions, cells, cs);
      if (bad >= 0) {
        const col = positions ? (positions[bad] as number) : bad;
        const reason = (cells[col] as Invalid).reason;
        report(line, `column "${this.keptNames[col]}": ${shownValue(row[bad] as SqlValue, cs)} ${reason}; row skipped`);
        continue;
      }
      this.appender ??= await this.conn.createAppender(this.duckName);
      const appender = this.appender;
      for (let col = 0; col < kept; col++) (this.columns[col] as SinkColumn).append(appender, cells[col]);
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

  /**
   * Converts into `cells` (values of columns left out of the output are skipped); returns the index (in `row`) of
   * the first value that does not fit (its Invalid in cells), or -1.
   */
  private convertRow(row: SqlValue[], positions: number[] | null, cells: unknown[], cs: Charset): number {
    for (let j = 0; j < row.length; j++) {
      const col = positions ? (positions[j] as number) : j;
      if (col < 0) continue;
      const v = row[j] as SqlValue;
      const cell = v === DEFAULT ? DEFAULT_INVALID : (this.columns[col] as SinkColumn).convert(v, cs);
      cells[col] = cell;
      if (cell instanceof Invalid) return j;
    }
    return -1;
  }

  /**
   * Output column of each listed column (-1 for one left out of the output), or a message naming the first one
   * the table lacks.
   */
  private positions(columns: string[]): number[] | string {
    const key = columns.join("\u0000");
    let found = this.positionCache.get(key);
    if (found === undefined) {
      const lower = this.names.map((n) => n.toLowerCase());
      const seen: number[] = [];
      for (const c of columns) {
        let at = this.names.indexOf(c);
        if (at < 0) at = lower.indexOf(c.toLowerCase());
        if (at < 0 || seen.includes(at)) {
          found = `column "${c}" is not a column of table "${this.table}" (or is listed twice)`;
          break;
        }
        seen.push(at);
      }
      found ??= seen.map((at) => this.slots[at] as number);
      // Dumps repeat one or two column lists; a file with endless variants must not grow the cache with it.
      if (this.positionCache.size >= 64) this.positionCache.clear();
      this.positionCache.set(key, found);
    }
    return found;
  }
}
