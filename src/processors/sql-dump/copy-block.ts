import { decodeCopyField } from "./escapes.js";
import { Lexer, type LexerFlags, SqlSyntaxError, type Token } from "./lexer.js";
import { isPunct, isWord, readNameList, readTableName } from "./names.js";

/** A `COPY … FROM stdin` statement: the lines after it, up to `\.`, are its rows. */
export interface CopyHead {
  /** Null when the statement could not be read (its data lines are still consumed, never run as SQL). */
  table: string | null;
  columns: string[] | null;
  delimiter: string;
  nullText: string;
  /** Why the block's rows cannot be read (CSV or binary format, unreadable options); null when they can. */
  problem: string | null;
}

/**
 * Reads a COPY statement. Returns null unless it copies FROM STDIN: only then
 * do data lines follow it in the dump.
 */
export function parseCopyHead(text: string, line: number, flags: LexerFlags): CopyHead | null {
  if (!/\bfrom\s+stdin\b/i.test(text)) return null;
  const head: CopyHead = { table: null, columns: null, delimiter: "\t", nullText: "\\N", problem: null };
  const lx = new Lexer(text, line, flags);
  try {
    lx.next();
    if (isPunct(lx.peek(), "(")) return null;
    head.table = readTableName(lx);
    let t = lx.next();
    if (isPunct(t, "(")) {
      head.columns = readNameList(lx);
      t = lx.next();
    }
    if (!isWord(t, "FROM") || !isWord(lx.next(), "STDIN")) return null;
    readOptions(lx, head);
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    head.problem = `unreadable COPY statement: ${err.message}`;
  }
  return head;
}

/** Both the `WITH (FORMAT text, DELIMITER '|')` and the pre-9.0 `WITH DELIMITER '|' NULL ''` forms. */
function readOptions(lx: Lexer, head: CopyHead): void {
  for (let t = lx.next(); t.kind !== "eof" && !isPunct(t, ";"); t = lx.next()) {
    if (t.kind !== "word") continue;
    const word = t.text.toUpperCase();
    if (word === "CSV" || word === "BINARY") head.problem = `COPY format ${word.toLowerCase()} is not supported`;
    else if (word === "FORMAT") {
      const format = lx.next().text.toLowerCase();
      if (format !== "text") head.problem = `COPY format ${format} is not supported`;
    } else if (word === "DELIMITER" || word === "NULL") {
      const value = stringOption(lx);
      if (word === "NULL") head.nullText = value;
      else if (value.length === 1) head.delimiter = value;
      else head.problem = `COPY delimiter ${JSON.stringify(value)} is not a single character`;
    }
  }
}

function stringOption(lx: Lexer): string {
  let t: Token = lx.next();
  if (isWord(t, "AS")) t = lx.next();
  if (t.kind !== "str") throw new SqlSyntaxError(`expected a string in COPY options at line ${t.line}`, t.line);
  return t.text;
}

/** Splits a COPY text-format line into fields; a delimiter after a backslash is data, not a separator. */
export function splitCopyLine(text: string, delimiter: string): string[] {
  if (!text.includes("\\")) return text.split(delimiter);
  const fields: string[] = [];
  const d = delimiter.charCodeAt(0);
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === d) {
      fields.push(text.slice(start, i));
      start = i + 1;
    }
  }
  fields.push(text.slice(start));
  return fields;
}

/** The values of one COPY line: raw bytes or null (COPY text format carries no types; the column decodes). */
export function decodeCopyFields(fields: string[], nullText: string): (string | null)[] {
  const out: (string | null)[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as string;
    out[i] = f === nullText ? null : decodeCopyField(f);
  }
  return out;
}
