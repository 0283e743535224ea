import { Lexer, type LexerFlags, SqlSyntaxError } from "./lexer.js";
import { isPunct, isWord, readNameList, readTableName } from "./names.js";
import type { SqlValue } from "./types.js";
import { readValue, unexpected } from "./values.js";

/** The rows of an INSERT, or why there are none (`table` is set when the error came after the name). */
export type InsertResult =
  | { ok: true; table: string; columns: string[] | null; rows: SqlValue[][]; lines: number[] }
  | { ok: false; table: string | null; message: string };

const MODIFIERS = ["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"];

/**
 * Reads `INSERT|REPLACE [modifiers] [INTO] t [(cols)] VALUES (…), (…)`.
 * All or nothing: a statement with any unreadable part yields no rows, as the
 * database itself would have rejected the whole statement.
 */
export function parseInsert(text: string, line: number, flags: LexerFlags): InsertResult {
  const lx = new Lexer(text, line, flags);
  let table: string | null = null;
  try {
    lx.next();
    let t = lx.peek();
    while (isWord(t, ...MODIFIERS, "OR")) {
      lx.next();
      if (isWord(t, "OR")) lx.next(); // SQLite: INSERT OR REPLACE / OR IGNORE …
      t = lx.peek();
    }
    if (isWord(t, "INTO")) lx.next();
    table = readTableName(lx);
    let columns: string[] | null = null;
    t = lx.next();
    if (isPunct(t, "(")) {
      columns = readNameList(lx);
      t = lx.next();
    }
    if (isWord(t, "AS")) {
      lx.next();
      t = lx.next();
    }
    if (isWord(t, "OVERRIDING")) {
      lx.next();
      lx.next();
      t = lx.next();
    }
    if (!isWord(t, "VALUES", "VALUE")) {
      if (isWord(t, "SELECT", "WITH", "SET", "DEFAULT", "TABLE", "EXEC", "EXECUTE")) {
        throw new SqlSyntaxError(
          `INSERT … ${t.text.toUpperCase()} has no literal rows to read (line ${t.line})`,
          t.line,
        );
      }
      throw unexpected(t, "VALUES");
    }
    const { rows, lines } = readTuples(lx);
    return { ok: true, table, columns, rows, lines };
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    return { ok: false, table, message: err.message };
  }
}

function readTuples(lx: Lexer): { rows: SqlValue[][]; lines: number[] } {
  const rows: SqlValue[][] = [];
  const lines: number[] = [];
  for (;;) {
    const open = lx.next();
    if (!isPunct(open, "(")) throw unexpected(open, `"(" to start row ${rows.length + 1}`);
    const row: SqlValue[] = [];
    if (lx.atPunct(")")) lx.next();
    else {
      for (;;) {
        row.push(readValue(lx));
        const sep = lx.next();
        if (isPunct(sep, ")")) break;
        if (!isPunct(sep, ",")) throw unexpected(sep, `"," or ")" in row ${rows.length + 1}`);
      }
    }
    rows.push(row);
    lines.push(open.line);
    const after = lx.next();
    if (isPunct(after, ",")) continue;
    // Upsert and RETURNING clauses do not change which rows the dump carries.
    if (after.kind === "eof" || isPunct(after, ";") || isWord(after, "ON", "RETURNING", "AS")) return { rows, lines };
    throw unexpected(after, `"," or end of statement after row ${rows.length}`);
  }
}
