import { Lexer, type LexerFlags, SqlSyntaxError, type Token } from "./lexer.js";
import { identName, isPunct, isWord, readTableName } from "./names.js";
import { fromLatin1 } from "./text.js";
import type { DeclaredColumn } from "./types.js";
import { unexpected } from "./values.js";

/** The columns read, or why they could not be (null: a CREATE TABLE without a column list). */
export type CreateTableResult =
  | { ok: true; table: string; columns: DeclaredColumn[] }
  | { ok: false; table: string | null; message: string }
  | null;

/** Unquoted words that start a table constraint rather than a column. */
const TABLE_CONSTRAINTS = new Set([
  "CONSTRAINT",
  "PRIMARY",
  "UNIQUE",
  "KEY",
  "INDEX",
  "FOREIGN",
  "CHECK",
  "FULLTEXT",
  "SPATIAL",
  "EXCLUDE",
  "LIKE",
  "PERIOD",
]);

/** Unquoted words that end a column's type and start its constraints or options. */
const TYPE_END = new Set([
  "NOT",
  "NULL",
  "DEFAULT",
  "PRIMARY",
  "REFERENCES",
  "UNIQUE",
  "CHECK",
  "CONSTRAINT",
  "COLLATE",
  "AUTO_INCREMENT",
  "AUTOINCREMENT",
  "IDENTITY",
  "GENERATED",
  "COMMENT",
  "ON",
  "AS",
  "CHARSET",
  "KEY",
  "STORAGE",
  "COMPRESSION",
  "INVISIBLE",
  "VISIBLE",
  "SRID",
  "ROWGUIDCOL",
  "SPARSE",
  "FILESTREAM",
  "MASKED",
  "COLUMN_FORMAT",
  "ENCODE",
]);

/**
 * Reads the column names and declared types of `CREATE … TABLE [IF NOT EXISTS] t (…)`.
 * Null for forms without a column list (`AS SELECT`, `PARTITION OF`), which carry no usable schema.
 */
export function parseCreateTable(text: string, line: number, flags: LexerFlags): CreateTableResult {
  const lx = new Lexer(text, line, flags);
  let table: string | null = null;
  try {
    // CREATE [OR REPLACE] [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE
    for (let t = lx.next(); !isWord(t, "TABLE"); t = lx.next()) if (t.kind === "eof") return null;
    if (isWord(lx.peek(), "IF")) {
      lx.next();
      lx.next();
      lx.next();
    }
    table = readTableName(lx);
    if (!isPunct(lx.next(), "(")) return null;
    const columns: DeclaredColumn[] = [];
    for (;;) {
      const first = lx.next();
      if (first.kind === "eof") throw unexpected(first, '")" closing the column list');
      const name = identName(first);
      if (name === null) throw unexpected(first, "a column definition");
      const definesColumn = !(first.kind === "word" && TABLE_CONSTRAINTS.has(first.text.toUpperCase()));
      const type = readType(lx, text);
      if (definesColumn) columns.push({ name, type });
      const end = skipToItemEnd(lx);
      if (isPunct(end, ")")) return { ok: true, table, columns };
    }
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    return { ok: false, table, message: err.message };
  }
}

/** The declared type as written (whitespace collapsed), up to the first constraint keyword. */
function readType(lx: Lexer, text: string): string | null {
  let start = -1;
  let end = -1;
  let depth = 0;
  for (;;) {
    const t = lx.peek();
    if (t.kind === "eof") break;
    if (depth === 0 && (isPunct(t, ",") || isPunct(t, ")") || endsType(t, lx))) break;
    lx.next();
    if (isPunct(t, "(")) depth++;
    else if (isPunct(t, ")")) depth--;
    if (start < 0) start = t.start;
    end = t.end;
  }
  return start < 0 ? null : fromLatin1(text.slice(start, end)).replace(/\s+/g, " ");
}

function endsType(t: Token, lx: Lexer): boolean {
  if (t.kind !== "word") return false;
  const word = t.text.toUpperCase();
  if (TYPE_END.has(word)) return true;
  if (word !== "CHARACTER") return false;
  // `CHARACTER SET utf8` ends a MySQL type, `character varying(20)` is one.
  const saved = lx.save();
  lx.next();
  const isSet = isWord(lx.peek(), "SET");
  lx.restore(saved);
  return isSet;
}

/** Skips the rest of a column or constraint definition; returns the `,` or `)` that ends it. */
function skipToItemEnd(lx: Lexer): Token {
  let depth = 0;
  for (;;) {
    const t = lx.next();
    if (t.kind === "eof") throw unexpected(t, '")" closing the column list');
    if (isPunct(t, "(")) depth++;
    else if (isPunct(t, ")")) {
      if (depth === 0) return t;
      depth--;
    } else if (depth === 0 && isPunct(t, ",")) return t;
  }
}
