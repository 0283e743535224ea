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
      const constraint = first.kind === "word" && startsTableConstraint(first.text.toUpperCase(), lx);
      const type = constraint ? null : readType(lx, text);
      const { end, charset, generated } = skipToItemEnd(lx);
      if (!constraint)
        columns.push({ name, type, ...(charset ? { charset } : {}), ...(generated ? { generated } : {}) });
      if (isPunct(end, ")")) break;
    }
    if (lx.mysql) applyTableCharset(columns, tableCharset(lx));
    return { ok: true, table, columns };
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

/** What the clauses after a column's type say (see {@link readClauses}). */
interface Clauses {
  /** The `,` or `)` that ends the item; null when reading table options to the end. */
  end: Token | null;
  charset: string | null;
  generated: boolean;
}

/**
 * Skips the rest of a column or constraint definition; returns the `,` or `)` that ends it, the charset a MySQL
 * column declares there (`CHARACTER SET latin1`, `CHARSET latin1`, or its `COLLATE latin1_swedish_ci`), and
 * whether the column is generated.
 */
function skipToItemEnd(lx: Lexer): Clauses & { end: Token } {
  const clauses = readClauses(lx, false);
  const end = clauses.end as Token;
  if (end.kind === "eof") throw unexpected(end, '")" closing the column list');
  return { ...clauses, end, charset: lx.mysql ? clauses.charset : null };
}

/**
 * Reads to the end of an item (`,` or `)` at depth 0; with `toEof`, the table options after the column list):
 * - the charset its MySQL clauses name: `CHARACTER SET x`, `CHARSET[=]x`, `DEFAULT CHARSET=x`, else the charset a
 *   `COLLATE[=]x_…` collation belongs to (`utf8mb4_bin` → utf8mb4; `binary` is binary);
 * - whether it is a generated (computed) column: `[GENERATED ALWAYS] AS (expr)`, in PostgreSQL, MySQL, SQLite and
 *   SQL Server alike (`GENERATED … AS IDENTITY` is not: its values are in the dump).
 */
function readClauses(lx: Lexer, toEof: boolean): Clauses {
  let depth = 0;
  let charset: string | null = null;
  let collation: string | null = null;
  let generated = false;
  const done = (end: Token | null): Clauses => ({ end, charset: charset ?? collation, generated });
  for (;;) {
    const t = lx.next();
    if (t.kind === "eof") return done(toEof ? null : t);
    if (isPunct(t, "(")) depth++;
    else if (isPunct(t, ")")) {
      if (depth === 0 && !toEof) return done(t);
      depth--;
    } else if (depth > 0) continue;
    else if (!toEof && isPunct(t, ",")) return done(t);
    else if (isWord(t, "AS") && isPunct(lx.peek(), "(")) generated = true;
    else if (isWord(t, "CHARSET") || (isWord(t, "CHARACTER") && isWord(lx.peek(), "SET"))) {
      if (isWord(t, "CHARACTER")) lx.next();
      charset = optionValue(lx) ?? charset;
    } else if (isWord(t, "COLLATE")) {
      const name = optionValue(lx);
      if (name) collation = name.toLowerCase() === "binary" ? "binary" : (name.split("_")[0] as string);
    }
  }
}

/** The value of `NAME [=] value`, after NAME: a word, a quoted name or a string. */
function optionValue(lx: Lexer): string | null {
  if (isPunct(lx.peek(), "=")) lx.next();
  const t = lx.peek();
  const name = t.kind === "str" ? fromLatin1(t.text) : identName(t);
  if (name !== null) lx.next();
  return name;
}

/** The table options' charset; options that do not lex are not the columns' business: then none. */
function tableCharset(lx: Lexer): string | null {
  try {
    return readClauses(lx, true).charset;
  } catch (err) {
    if (err instanceof SqlSyntaxError) return null;
    throw err;
  }
}

/** Text types: the ones a table's default charset applies to (a DATE or an INT has no charset). */
const TEXT_TYPE =
  /^(?:national |n)?(?:var)?char\b|^character\b|^(?:tiny|medium|long)?text\b|^long(?: varchar)?$|^(?:enum|set)\s*\(/i;

/** A MySQL table's `DEFAULT CHARSET` is the charset of its text columns that declare none of their own. */
function applyTableCharset(columns: DeclaredColumn[], charset: string | null): void {
  if (charset === null) return;
  for (const c of columns)
    if (c.charset === undefined && c.type !== null && TEXT_TYPE.test(c.type)) c.charset = charset;
}

/**
 * Whether an item starting with the unquoted `word` is a table constraint or index, told by its whole shape:
 * pg_dump writes columns named `fulltext`, `key`, `index`, `period`… unquoted, and `fulltext tsvector` is a column
 * where `FULLTEXT KEY ft (title)` is an index. The lexer is left where it was.
 */
function startsTableConstraint(word: string, lx: Lexer): boolean {
  const saved = lx.save();
  try {
    const a = lx.next();
    switch (word) {
      case "PRIMARY":
      case "FOREIGN":
        return isWord(a, "KEY");
      case "CHECK":
        return isPunct(a, "(");
      case "EXCLUDE":
        return isPunct(a, "(") || isWord(a, "USING");
      case "PERIOD":
        return isWord(a, "FOR");
      case "LIKE":
        // Reserved everywhere: an unquoted LIKE is PostgreSQL's `LIKE other_table`, never a column.
        return true;
      case "CONSTRAINT":
        // `CONSTRAINT [name] PRIMARY KEY|UNIQUE|CHECK|FOREIGN KEY|EXCLUDE …` (MySQL lets the name out).
        return isConstraintKind(a) || (identName(a) !== null && isConstraintKind(lx.next()));
      case "UNIQUE":
      case "FULLTEXT":
      case "SPATIAL":
        if (isWord(a, "KEY", "INDEX") || (word === "UNIQUE" && isWord(a, "NULLS"))) return true;
        return indexShape(a, lx);
      case "KEY":
      case "INDEX":
        return indexShape(a, lx);
      default:
        return false;
    }
  } finally {
    lx.restore(saved);
  }
}

function isConstraintKind(t: Token): boolean {
  return isWord(t, "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE");
}

/**
 * `KEY [name] [USING …] (col, …)` versus a column `key type`: an index lists names (or expressions) in its
 * parentheses, a type lists numbers (`int(11)`, `decimal(10,2)`) or strings (`enum('a')`).
 */
function indexShape(a: Token, lx: Lexer): boolean {
  if (isWord(a, "USING")) return true;
  let open = a;
  if (!isPunct(a, "(")) {
    if (identName(a) === null) return false;
    open = lx.next();
    if (isWord(open, "USING")) return true;
    if (!isPunct(open, "(")) return false;
  }
  const inside = lx.next();
  return identName(inside) !== null || isPunct(inside, "(");
}
