import { type Lexer, SqlSyntaxError, type Token } from "./lexer.js";
import { fromLatin1 } from "./text.js";

/** The name an identifier token stands for, or null if the token is not an identifier. */
export function identName(t: Token): string | null {
  return t.kind === "word" || t.kind === "ident" || t.kind === "dq" ? fromLatin1(t.text) : null;
}

/** Whether a token is the punctuation `p` (not a string that happens to hold it). */
export function isPunct(t: Token, p: string): boolean {
  return t.kind === "punct" && t.text === p;
}

/** Case-insensitive keyword test on an unquoted word. */
export function isWord(t: Token, ...words: string[]): boolean {
  if (t.kind !== "word") return false;
  const upper = t.text.toUpperCase();
  return words.includes(upper);
}

/**
 * Reads `t`, `s.t`, `[db].[dbo].[t]`, `"s"."t"`: the name as the dump qualifies it, so `public.users` and
 * `app.users` stay two tables (see {@link qualifiedName}).
 */
export function readTableName(lx: Lexer): string {
  let t = lx.next();
  let name = identName(t);
  if (name === null) throw new SqlSyntaxError(`expected a table name at line ${t.line}, found ${describe(t)}`, t.line);
  const parts = [name];
  for (;;) {
    const dot = lx.peek();
    if (!isPunct(dot, ".")) return qualifiedName(parts);
    lx.next();
    t = lx.next();
    name = identName(t);
    if (name === null)
      throw new SqlSyntaxError(`expected a name after "." at line ${t.line}, found ${describe(t)}`, t.line);
    parts.push(name);
  }
}

/**
 * The parts of a table name joined with `.`; a part that itself holds `.` or `"` is double-quoted (SQL style),
 * so the quoted single name `"a.b"` never reads as table b of schema a.
 */
export function qualifiedName(parts: string[]): string {
  return parts.map((p) => (/[."]/.test(p) ? `"${p.replaceAll('"', '""')}"` : p)).join(".");
}

/** Reads `(a, b, c)` after the opening parenthesis has been consumed. */
export function readNameList(lx: Lexer): string[] {
  const names: string[] = [];
  for (;;) {
    const t = lx.next();
    const name = identName(t);
    if (name === null)
      throw new SqlSyntaxError(`expected a column name at line ${t.line}, found ${describe(t)}`, t.line);
    names.push(name);
    const sep = lx.next();
    if (isPunct(sep, ")")) return names;
    if (!isPunct(sep, ",")) {
      throw new SqlSyntaxError(
        `expected "," or ")" in column list at line ${sep.line}, found ${describe(sep)}`,
        sep.line,
      );
    }
  }
}

/** A token as quoted in error messages: short, and on one line. */
export function describe(t: Token): string {
  if (t.kind === "eof") return "end of statement";
  const text = fromLatin1(t.kind === "str" || t.kind === "dq" ? `'${t.text}'` : t.text);
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(short);
}
