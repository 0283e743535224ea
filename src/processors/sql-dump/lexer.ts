import { decodeQuoted, type EscapeStyle } from "./escapes.js";
import { SqlSyntaxError } from "./syntax-error.js";
import { dollarTagLength, hexBytes, isDigit, isIdentCode, isIdentStart, isSpace, opensBracketIdent } from "./text.js";

/**
 * - `word`: unquoted identifier or keyword; `ident`: backtick/bracket-quoted identifier;
 * - `dq`: double-quoted, an identifier in standard SQL but a string in MySQL, so the parser decides;
 * - `str`: string literal, escapes decoded, as raw bytes (latin1 chars); `bytes`: `X'…'`/`0x…`; `bits`: `B'…'`/`0b…` digits;
 * - `num`: unsigned numeric literal as written.
 */
export type TokenKind = "word" | "ident" | "dq" | "str" | "bytes" | "bits" | "num" | "punct" | "eof";

/** One token; `start`/`end` are offsets in the statement text, `line` is where it starts. */
export interface Token {
  kind: TokenKind;
  text: string;
  bytes: Uint8Array | null;
  line: number;
  start: number;
  end: number;
}

/** Dialect facts the splitter had established when the statement began. */
export interface LexerFlags {
  /** MySQL rules: backslash escapes in quotes, `#` comments, no nested comments, no dollar quotes. */
  mysql: boolean;
  /** PostgreSQL with standard_conforming_strings off: backslash escapes in plain strings. */
  backslash: boolean;
  /** SQLite: a backtick quotes a name without making the statement MySQL's (see DumpSettings.backtick). */
  sqlite?: boolean;
}

// Sticky, module-level: numbers are the most frequent token in a dump.
const HEX_DIGITS = /[0-9a-fA-F]+/y;
const BIN_DIGITS = /[01]+/y;
const DECIMAL = /\d*(?:\.\d*)?(?:[eE][+-]?\d+)?/y;

export { SqlSyntaxError };

/** Tokenizer over one complete statement. Its quoting rules must match the splitter's, which found the statement's end. */
export class Lexer {
  pos = 0;
  line: number;
  mysql: boolean;
  private readonly backslash: boolean;
  private readonly sqlite: boolean;

  constructor(
    readonly s: string,
    line: number,
    flags: LexerFlags,
  ) {
    this.line = line;
    this.mysql = flags.mysql;
    this.backslash = flags.backslash;
    this.sqlite = flags.sqlite === true;
  }

  /** The token after the current one, without consuming it. */
  peek(): Token {
    const saved = this.save();
    const t = this.next();
    this.restore(saved);
    return t;
  }

  /**
   * Whether the next token is the punctuation `p`, checked on the raw text:
   * cheaper than {@link peek} on the per-value hot path. Only for punctuation
   * that cannot start a longer token (`(`, `)`, `::`, not `.`).
   */
  atPunct(p: string): boolean {
    this.skipBlank();
    return this.s.startsWith(p, this.pos);
  }

  /** A position to come back to with {@link restore}, for look-ahead beyond one token. */
  save(): [number, number, boolean] {
    return [this.pos, this.line, this.mysql];
  }

  /** Goes back to a position from {@link save}. */
  restore([pos, line, mysql]: [number, number, boolean]): void {
    this.pos = pos;
    this.line = line;
    this.mysql = mysql;
  }

  next(): Token {
    this.skipBlank();
    const s = this.s;
    const start = this.pos;
    const line = this.line;
    if (start >= s.length) return this.tok("eof", "", start, line);
    const c = s.charCodeAt(start);
    if (isIdentStart(c)) return this.word(start, line);
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(start + 1)))) return this.number(start, line);
    if (c === 39) return this.quoted("str", "'", this.plainStyle(), start, line);
    if (c === 34) return this.quoted("dq", '"', this.mysql ? "mysql" : "none", start, line);
    if (c === 96) {
      if (!this.sqlite) this.mysql = true;
      return this.quoted("ident", "`", "none", start, line);
    }
    if (c === 91 && opensBracketIdent(s, start, this.mysql)) return this.quoted("ident", "]", "none", start, line);
    if (c === 36) {
      const tag = dollarTagLength(s, start, this.mysql);
      if (tag > 0) return this.dollar(s.slice(start, start + tag), start, line);
    }
    if (c === 58 && s.charCodeAt(start + 1) === 58) {
      this.pos = start + 2;
      return this.tok("punct", "::", start, line);
    }
    this.pos = start + 1;
    return this.tok("punct", s[start] as string, start, line);
  }

  private plainStyle(): EscapeStyle {
    return this.mysql ? "mysql" : this.backslash ? "postgres" : "none";
  }

  private tok(kind: TokenKind, text: string, start: number, line: number, bytes: Uint8Array | null = null): Token {
    return { kind, text, bytes, line, start, end: this.pos };
  }

  private skipBlank(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 10) {
        this.line++;
        this.pos++;
      } else if (isSpace(c)) {
        this.pos++;
      } else if ((c === 45 && s.charCodeAt(this.pos + 1) === 45) || (c === 35 && this.mysql)) {
        const nl = s.indexOf("\n", this.pos);
        this.pos = nl < 0 ? s.length : nl;
      } else if (c === 47 && s.charCodeAt(this.pos + 1) === 42) {
        this.blockComment();
      } else {
        return;
      }
    }
  }

  private blockComment(): void {
    const s = this.s;
    const openLine = this.line;
    // A MySQL conditional comment (/*!40101 … */) is skipped like any other: its content is server-version dependent.
    if (s.charCodeAt(this.pos + 2) === 33) this.mysql = true;
    let depth = 1;
    let i = this.pos + 2;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 42 && s.charCodeAt(i + 1) === 47) {
        i += 2;
        if (--depth === 0) {
          this.pos = i;
          return;
        }
      } else if (c === 47 && s.charCodeAt(i + 1) === 42 && !this.mysql) {
        depth++;
        i += 2;
      } else {
        if (c === 10) this.line++;
        i++;
      }
    }
    throw new SqlSyntaxError(`unterminated comment opened at line ${openLine}`, openLine);
  }

  private word(start: number, line: number): Token {
    const s = this.s;
    let i = start + 1;
    while (i < s.length && isIdentCode(s.charCodeAt(i))) i++;
    this.pos = i;
    if (i === start + 1 && s.charCodeAt(i) === 39) {
      const p = s[start] as string;
      if (p === "N" || p === "n") return this.quoted("str", "'", this.plainStyle(), i, line);
      if (p === "E" || p === "e") return this.quoted("str", "'", "postgres", i, line);
      if (p === "X" || p === "x" || p === "B" || p === "b") {
        // Same boundary rules as any plain string, so the splitter and the lexer agree on where it ends.
        const t = this.quoted("str", "'", this.plainStyle(), i, line);
        return p === "X" || p === "x" ? this.hexToken(t.text, start, line) : this.bitsToken(t.text, start, line);
      }
    }
    return this.tok("word", s.slice(start, i), start, line);
  }

  private hexToken(hex: string, start: number, line: number): Token {
    const bytes = hexBytes(hex);
    if (!bytes) throw new SqlSyntaxError(`invalid hex literal at line ${line}`, line);
    return this.tok("bytes", hex, start, line, bytes);
  }

  private bitsToken(bits: string, start: number, line: number): Token {
    if (!/^[01]*$/.test(bits)) throw new SqlSyntaxError(`invalid bit literal at line ${line}`, line);
    return this.tok("bits", bits, start, line);
  }

  private number(start: number, line: number): Token {
    const s = this.s;
    const radix = s[start] === "0" ? s[start + 1] : undefined;
    if (radix === "x" || radix === "X" || radix === "b" || radix === "B") {
      const m = radix === "x" || radix === "X" ? HEX_DIGITS : BIN_DIGITS;
      m.lastIndex = start + 2;
      const found = m.exec(s);
      // SSMS writes an empty varbinary as a bare `0x`.
      if (!found && (radix === "x" || radix === "X") && !isIdentCode(s.charCodeAt(start + 2))) {
        this.pos = start + 2;
        return this.hexToken("", start, line);
      }
      if (found && !isIdentCode(s.charCodeAt(start + 2 + found[0].length))) {
        this.pos = start + 2 + found[0].length;
        return radix === "x" || radix === "X"
          ? this.hexToken(found[0], start, line)
          : this.bitsToken(found[0], start, line);
      }
    }
    DECIMAL.lastIndex = start;
    const found = DECIMAL.exec(s) as RegExpExecArray;
    this.pos = start + found[0].length;
    return this.tok("num", found[0], start, line);
  }

  private quoted(kind: TokenKind, close: string, style: EscapeStyle, start: number, line: number): Token {
    const s = this.s;
    const q = close.charCodeAt(0);
    const escapes = style !== "none";
    // this.pos is on the opening quote (after any N/E/X/B prefix).
    let i = this.pos + 1;
    const bodyStart = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === q) {
        if (s.charCodeAt(i + 1) !== q) break;
        i += 2;
      } else if (c === 92 && escapes) {
        if (s.charCodeAt(i + 1) === 10) this.line++;
        i += 2;
      } else {
        if (c === 10) this.line++;
        i++;
      }
    }
    if (i >= s.length) throw new SqlSyntaxError(`unterminated quoted text opened at line ${line}`, line);
    this.pos = i + 1;
    let text: string;
    try {
      text = decodeQuoted(s.slice(bodyStart, i), close, style);
    } catch (err) {
      if (!(err instanceof SqlSyntaxError)) throw err;
      throw new SqlSyntaxError(`${err.message} in the quoted text opened at line ${line}`, line);
    }
    return this.tok(kind, text, start, line);
  }

  private dollar(tag: string, start: number, line: number): Token {
    const s = this.s;
    const bodyStart = start + tag.length;
    const end = s.indexOf(tag, bodyStart);
    if (end < 0) throw new SqlSyntaxError(`unterminated dollar-quoted text opened at line ${line}`, line);
    for (let i = bodyStart; i < end; i++) if (s.charCodeAt(i) === 10) this.line++;
    this.pos = end + tag.length;
    return this.tok("str", s.slice(bodyStart, end), start, line);
  }
}
