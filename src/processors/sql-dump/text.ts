/**
 * The dump is scanned as latin1 (one char per byte) so that every literal keeps
 * its exact bytes; values are decoded only by the column they land in
 * (charset.ts, codecs). Names, types and messages use {@link fromLatin1}.
 */

/**
 * Turns a latin1-decoded byte string into the UTF-8 text it encodes, for names,
 * declared types and messages only: invalid sequences become U+FFFD, which a
 * value must never do (values go through charset.ts).
 */
export function fromLatin1(s: string): string {
  // Most dumps are ASCII: skip the round trip through a Buffer when nothing is above 0x7f.
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s;
}

/**
 * Without leading and trailing ASCII blanks. String.prototype.trim would also take 0xA0 and 0x85, which in raw
 * bytes are pieces of UTF-8 characters, not spaces.
 */
export function asciiTrim(s: string): string {
  return s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "");
}

/** The bytes of a latin1-decoded byte string. */
export function latin1Bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

/** A code point as the latin1 chars of its UTF-8 bytes; null for what is not a Unicode scalar value. */
export function codePointAsLatin1(cp: number): string | null {
  if (cp > 0x10ffff || cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return Buffer.from(String.fromCodePoint(cp), "utf8").toString("latin1");
}

/** Hex digits to bytes; an odd count gets a leading zero, as MySQL does for `0xABC`. Null if not hex. */
export function hexBytes(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]*$/.test(hex)) return null;
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return new Uint8Array(Buffer.from(even, "hex"));
}

/** Letters, digits, `_`, `$` and anything non-ASCII: what may continue an unquoted identifier. */
export function isIdentCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c >= 0x80;
}

/** What may start an unquoted identifier or keyword. */
export function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}

/** ASCII 0-9. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Space, tab, CR, LF, VT, FF. */
export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Whether a `[` at `i` opens a bracketed identifier (SQL Server, SQLite) rather
 * than a subscript (`arr[1]`, `ARRAY[…]`): the splitter and the lexer must agree.
 */
export function opensBracketIdent(s: string, i: number, mysql: boolean): boolean {
  if (mysql) return false;
  const p = s.charCodeAt(i - 1);
  return !(isIdentCode(p) || p === 93 || p === 41);
}

/** Length of a dollar-quote tag (`$$`, `$body$`) at `i`, 0 if none, -1 if the text ends before it can be told. */
export function dollarTagLength(s: string, i: number, mysql: boolean): number {
  if (mysql || isIdentCode(s.charCodeAt(i - 1))) return 0;
  const first = s.charCodeAt(i + 1);
  if (Number.isNaN(first)) return -1;
  if (isDigit(first)) return 0;
  let j = i + 1;
  while (j < s.length && j - i <= 64 && isIdentCode(s.charCodeAt(j)) && s.charCodeAt(j) !== 36) j++;
  if (j >= s.length) return -1;
  return s.charCodeAt(j) === 36 ? j - i + 1 : 0;
}

/** Whether a `'` at `i` opens a PostgreSQL `E'…'` string (backslash escapes always on). */
export function isEPrefixed(s: string, i: number): boolean {
  const p = s.charCodeAt(i - 1);
  return (p === 69 || p === 101) && !isIdentCode(s.charCodeAt(i - 2));
}
