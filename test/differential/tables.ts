import type { Canon } from "./canonical.js";

/**
 * What every differential test (pg_dump, mysqldump, sqlite3 .dump) describes: tables of a source database, each
 * column with its declared type and how its cells are compared (canonical.ts), the rows to put in, and the rows
 * sluice must refuse by design.
 */

/** A value put into the source: input text, bytes, a number, or an SQL expression (mysql2's `toSqlString`). */
export type DiffValue = string | Buffer | number | bigint | null | { toSqlString(): string };

export interface DiffColumn {
  /** As written in SQL: quoted when it must be (`"unique"`, `` `key` ``). */
  name: string;
  /** The declared type, as in CREATE TABLE. */
  type: string;
  canon: Canon;
  /** A generated column: the source computes it, so no value is inserted (the dump may still carry it). */
  generated?: boolean;
}

export interface DiffTable {
  /** As sluice names the output: schema-qualified when the dump qualifies it (`public.film`), else bare. */
  name: string;
  /** The table as written in the source's SQL, when that differs from `name` (a quoted name). */
  sql?: string;
  columns: DiffColumn[];
  /** Table items after the columns: keys, indexes, checks (as the source's CREATE TABLE writes them). */
  constraints?: string[];
  /** Table options after the column list (MySQL: `DEFAULT CHARSET=latin1`). */
  options?: string;
  /** Values of every column but `id` (added first, 1..n) and the generated ones. */
  rows: DiffValue[][];
  /** The column rows are matched by (unique; not compared itself): `id` unless said. */
  key?: string;
  /** The `id` column's declaration, where the source's default does not do (SQLite's AUTOINCREMENT). */
  idType?: string;
  /** Rows sluice must refuse by design (docs/types.md), by id, with a pattern their reason matches. */
  invalid?: Record<number, RegExp>;
}

/** An SQL expression (or literal) as a value, written into the source's SQL as it is. */
export const raw = (sql: string) => ({ toSqlString: () => sql });

export const col = (name: string, type: string, canon: Canon): DiffColumn => ({ name, type, canon });

/** A column's name as written in SQL (quoted ones keep their quotes). */
export function sqlName(c: DiffColumn): string {
  return c.name;
}

/** The name as it reads back: quotes (`"…"`, `` `…` ``, `[…]`) removed, doubled quotes undone. */
export function bareName(c: DiffColumn): string {
  const m = /^"(.*)"$|^`(.*)`$|^\[(.*)\]$/s.exec(c.name);
  if (!m) return c.name;
  if (m[1] !== undefined) return m[1].replaceAll('""', '"');
  if (m[2] !== undefined) return m[2].replaceAll("``", "`");
  return m[3] as string;
}
