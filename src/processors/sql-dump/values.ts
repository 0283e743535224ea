import { type Lexer, SqlSyntaxError, type Token } from "./lexer.js";
import { describe, isPunct, isWord } from "./names.js";
import { codePointAsLatin1, hexBytes, latin1Bytes } from "./text.js";
import { DEFAULT, NumberText, type SqlValue } from "./types.js";

/**
 * Reads one value of a VALUES tuple: a literal, optionally signed or cast
 * (`'…'::type`), or one of the few pure functions dump tools write (SQLite's
 * `replace(…, char(10))`, `CAST(… AS …)`, MySQL `UNHEX`). Nothing is executed;
 * anything else is a syntax error, so the statement is reported, not guessed.
 * Quoted literals stay raw bytes (see {@link SqlValue}): the column decides.
 */
export function readValue(lx: Lexer): SqlValue {
  let t = lx.next();
  let negative = false;
  let signed = false;
  while (t.kind === "punct" && (t.text === "-" || t.text === "+")) {
    if (t.text === "-") negative = !negative;
    signed = true;
    t = lx.next();
  }
  if (signed && t.kind !== "num") throw unexpected(t, "a number after the sign");
  let value: SqlValue;
  switch (t.kind) {
    case "num":
      value = numberValue(t.text, negative);
      break;
    case "str":
    case "dq": // a value position: MySQL's double-quoted string
      value = t.text;
      break;
    case "bytes":
      value = t.bytes;
      break;
    case "bits":
      // MySQL's b'101' is a number; PostgreSQL's B'101' is bit-string text.
      value = lx.mysql ? bitsValue(t.text) : t.text;
      break;
    case "word":
      value = wordValue(t, lx);
      break;
    case "punct":
      if (!isBackslashN(t, lx)) throw unexpected(t, "a value");
      lx.next();
      value = null;
      break;
    default:
      throw unexpected(t, "a value");
  }
  while (lx.atPunct("::")) {
    lx.next();
    skipType(lx);
  }
  return value;
}

/** MySQL reads an unquoted `\N` as NULL (the LOAD DATA notation, accepted in statements too). */
function isBackslashN(t: Token, lx: Lexer): boolean {
  if (t.text !== "\\" || !lx.mysql) return false;
  const n = lx.peek();
  return n.kind === "word" && n.text === "N" && n.start === t.end;
}

/** Safe integers as numbers, larger ones as bigint; anything with a point or exponent keeps its exact text. */
export function numberValue(raw: string, negative: boolean): number | bigint | NumberText {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return negative ? -n : n;
    const big = BigInt(raw);
    return negative ? -big : big;
  }
  if (raw === "" || raw === "." || Number.isNaN(Number(raw)))
    throw new SqlSyntaxError(`invalid number ${JSON.stringify(raw)}`, 0);
  return new NumberText(negative ? `-${raw}` : raw);
}

function bitsValue(bits: string): number | bigint {
  if (bits === "") return 0;
  const big = BigInt(`0b${bits}`);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function wordValue(t: Token, lx: Lexer): SqlValue {
  const word = t.text.toUpperCase();
  if (word === "NULL") return null;
  if (word === "TRUE") return true;
  if (word === "FALSE") return false;
  if (word === "DEFAULT") return DEFAULT;
  const next = lx.peek();
  // MySQL charset introducers: _binary '…' is bytes whatever the column; _utf8mb4 '…' is text (raw until decoded).
  if (word.startsWith("_") && (next.kind === "str" || next.kind === "bytes" || next.kind === "dq")) {
    lx.next();
    if (word === "_BINARY") return next.bytes ?? latin1Bytes(next.text);
    return next.bytes ? Buffer.from(next.bytes).toString("latin1") : next.text;
  }
  if (isPunct(next, "(")) {
    lx.next();
    return call(word, t, lx);
  }
  throw unexpected(t, "a value");
}

function call(name: string, at: Token, lx: Lexer): SqlValue {
  if (name === "CAST") {
    const value = readValue(lx);
    if (!isWord(lx.next(), "AS")) throw unexpected(at, "CAST(value AS type)");
    skipType(lx);
    expectClose(lx);
    return value;
  }
  const args: SqlValue[] = [];
  if (lx.atPunct(")")) lx.next();
  else {
    for (;;) {
      args.push(readValue(lx));
      const sep = lx.next();
      if (isPunct(sep, ")")) break;
      if (!isPunct(sep, ",")) throw unexpected(sep, '"," or ")" in function arguments');
    }
  }
  const [a, b, c] = args;
  if (
    name === "REPLACE" &&
    args.length === 3 &&
    typeof a === "string" &&
    typeof b === "string" &&
    typeof c === "string"
  ) {
    // Byte strings: UTF-8 never matches inside another character's bytes, so this is the textual replace.
    return b === "" ? a : a.replaceAll(b, c);
  }
  if ((name === "CHAR" || name === "CHR") && args.every((x) => typeof x === "number")) {
    const chars = (args as number[]).map(codePointAsLatin1);
    if (chars.every((x) => x !== null)) return chars.join("");
  }
  if (name === "UNHEX" && args.length === 1 && typeof a === "string") {
    const bytes = hexBytes(a);
    if (bytes) return bytes;
  }
  throw new SqlSyntaxError(`unsupported expression ${name}(…) at line ${at.line}`, at.line);
}

function expectClose(lx: Lexer): void {
  const t = lx.next();
  if (!isPunct(t, ")")) throw unexpected(t, '")"');
}

/** Skips a type name: `integer`, `character varying(20)`, `public.mpaa_rating`, `text[]`. */
function skipType(lx: Lexer): void {
  let depth = 0;
  for (;;) {
    const t = lx.peek();
    if (t.kind === "eof") return;
    const p = t.kind === "punct" ? t.text : "";
    if (depth === 0 && (p === "," || p === ")" || p === ";" || p === "::")) return;
    lx.next();
    if (p === "(") depth++;
    else if (p === ")") depth--;
  }
}

/** A syntax error naming what was found where something else was expected. */
export function unexpected(t: Token, expected: string): SqlSyntaxError {
  return new SqlSyntaxError(`expected ${expected} at line ${t.line}, found ${describe(t)}`, t.line);
}
