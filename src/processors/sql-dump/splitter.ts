import { type CopyHead, parseCopyHead } from "./copy-block.js";
import { DumpSettings, type Settings, TSQL_BODY_HEAD, TSQL_STATEMENT_START } from "./dump-settings.js";
import type { LexerFlags } from "./lexer.js";
import { CARRY, CLOSED, type Cursor, scanBlockComment, scanDollar, scanQuoted } from "./quoted-runs.js";
import { DATA_HEAD, MAX_STATEMENT_CHARS, StatementText } from "./statement-text.js";
import { dollarTagLength, isEPrefixed, isIdentCode, opensBracketIdent } from "./text.js";

/** What the splitter hands on; all text is in latin1 byte space (see text.ts). */
export type SplitItem =
  | { type: "statement"; text: string; line: number; flags: LexerFlags; settings: Settings }
  | { type: "copy-start"; head: CopyHead; line: number; settings: Settings }
  | { type: "copy-line"; text: string; line: number }
  | { type: "copy-end"; line: number }
  | { type: "copy-eof"; line: number }
  /** `head`: the start of the statement that could not be read, to name its table. */
  | { type: "error"; line: number; message: string; head: string };

// Scanner states; the four quoted ones index CLOSER and WHAT.
const NORMAL = 0;
const SQUOTE = 1;
const DQUOTE = 2;
const BACKTICK = 3;
const BRACKET = 4;
const LINE_COMMENT = 5;
const BLOCK_COMMENT = 6;
const DOLLAR = 7;
const COPY_SKIP = 8;
const COPY_DATA = 9;
const CLOSER = [0, 39, 34, 96, 93];
/** Chars of a `/*!…` comment looked at for `SET NAMES`. */
const CONDITIONAL_HEAD = 64;
const WHAT = ["", "string", "quoted text", "identifier", "identifier", "", "comment", "dollar-quoted text"];

/**
 * Cuts a dump into statements (and COPY data lines) as chunks arrive. State
 * survives chunk boundaries, so each char is looked at once whatever the chunk
 * size; only a few chars of look-ahead are ever carried over.
 */
export class StatementSplitter {
  /** Dialect facts and charset, learned as statements go by. */
  readonly cfg = new DumpSettings();
  private state = NORMAL;
  private line = 1;
  private keep = "";
  private keepFrom = 0;
  private readonly stmt = new StatementText();
  private escapes = false;
  private openLine = 0;
  private readonly cur: Cursor = { i: 0, line: 1, depth: 0 };
  private tag = "";
  private delimiter = ";";
  private goMatch = 0;
  private copyParts: string[] = [];

  constructor(private readonly emit: (item: SplitItem) => void) {}

  push(chunk: string): void {
    this.scan(this.keep + chunk, this.keepFrom, false);
  }

  end(): void {
    this.scan(this.keep, this.keepFrom, true);
    this.stmt.resume(0);
    const state = this.state;
    if (state === NORMAL || state === LINE_COMMENT) {
      this.endStatement("", 0, this.goMatch === 2 && !this.cfg.mysql);
    } else if (state === COPY_SKIP || state === COPY_DATA) {
      if (this.copyParts.length > 0) this.copyLine(this.copyParts.join(""));
      if (this.state !== NORMAL) this.emit({ type: "copy-eof", line: this.line });
    } else if (this.stmt.started) {
      const message = `unterminated ${WHAT[state]} opened at line ${this.openLine} (end of input reached)`;
      this.emit({ type: "error", line: this.stmt.line, message, head: this.stmt.head() });
    }
    this.stmt.reset();
    this.state = NORMAL;
  }

  private scan(s: string, from: number, final: boolean): void {
    const n = s.length;
    let i = from;
    let stop = n;
    this.stmt.resume(from);
    while (i < n) {
      const state = this.state;
      if (state === NORMAL) {
        const c = s.charCodeAt(i);
        if (c === 10) {
          // Repeatable up to the look-ahead below: a rescan after it finds the same state.
          this.newline(s, i);
          const breaks = this.cfg.tsql && this.stmt.started ? this.tsqlBreak(s, i, final) : 0;
          if (breaks < 0) {
            stop = i;
            break;
          }
          if (breaks > 0) this.endStatement(s, i, false);
          this.line++;
          i++;
          continue;
        }
        if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
          if (this.goMatch === 1) this.goMatch = -1;
          i++;
          continue;
        }
        if (c === this.delimiter.charCodeAt(0)) {
          const len = this.delimiter.length;
          if (len > 1 && i + len > n && !final) {
            stop = i;
            break;
          }
          if ((len === 1 || s.startsWith(this.delimiter, i)) && !this.onDelimiterLine(s, i)) {
            this.endStatement(s, i, false);
            i += len;
            continue;
          }
        }
        if (c === 45 || c === 47 || (c === 35 && this.cfg.mysql)) {
          if (i + 2 >= n && !final) {
            stop = i;
            break;
          }
          const d = s.charCodeAt(i + 1);
          if (c === 35 || (c === 45 && d === 45)) {
            this.state = LINE_COMMENT;
            this.goMatch = -1;
            i++;
            continue;
          }
          if (c === 47 && d === 42) {
            if (s.charCodeAt(i + 2) === 33) {
              // mysqldump's `/*!40101 SET NAMES utf8mb4 */` declares the charset of all the text after it.
              if (i + CONDITIONAL_HEAD > n && !final) {
                stop = i;
                break;
              }
              this.cfg.learnConditional(s.slice(i + 3, i + CONDITIONAL_HEAD));
            }
            this.state = BLOCK_COMMENT;
            this.cur.depth = 1;
            this.openLine = this.line;
            this.goMatch = -1;
            i += 2;
            continue;
          }
        }
        if (!this.stmt.started)
          this.stmt.begin(i, c, this.line, {
            mysql: this.cfg.mysql,
            backslash: this.cfg.backslash,
            sqlite: this.cfg.sqlite,
          });
        const g = c | 0x20;
        this.goMatch = this.goMatch === 0 && g === 103 ? 1 : this.goMatch === 1 && g === 111 ? 2 : -1;
        if (c === 39) {
          this.escapes = this.cfg.mysql || this.cfg.backslash || isEPrefixed(s, i);
          this.enter(SQUOTE);
        } else if (c === 34) {
          this.escapes = this.cfg.mysql;
          this.enter(DQUOTE);
        } else if (c === 96) {
          this.cfg.backtick();
          this.escapes = false;
          this.enter(BACKTICK);
        } else if (c === 91 && opensBracketIdent(s, i, this.cfg.mysql)) {
          this.escapes = false;
          this.enter(BRACKET);
        } else if (c === 36) {
          const t = dollarTagLength(s, i, this.cfg.mysql);
          if (t < 0 && !final) {
            stop = i;
            break;
          }
          if (t > 0) {
            this.tag = s.slice(i, i + t);
            this.enter(DOLLAR);
            i += t;
            continue;
          }
        }
        i++;
      } else if (state <= BRACKET || state === BLOCK_COMMENT || state === DOLLAR) {
        const cur = this.cur;
        cur.i = i;
        cur.line = this.line;
        const result =
          state === BLOCK_COMMENT
            ? scanBlockComment(s, cur, !this.cfg.mysql, final)
            : state === DOLLAR
              ? scanDollar(s, cur, this.tag, final)
              : scanQuoted(s, cur, CLOSER[state] as number, this.escapes, final);
        i = cur.i;
        this.line = cur.line;
        if (result === CLOSED) this.state = NORMAL;
        else if (result === CARRY) {
          stop = i;
          break;
        }
      } else if (state === LINE_COMMENT) {
        const nl = s.indexOf("\n", i);
        if (nl < 0) i = n;
        else {
          i = nl;
          this.state = NORMAL;
        }
      } else {
        const nl = s.indexOf("\n", i);
        if (nl < 0) {
          if (state === COPY_DATA) this.copyParts.push(s.slice(i));
          i = n;
        } else {
          if (state === COPY_SKIP) this.state = COPY_DATA;
          else this.copyLine(this.copyParts.length > 0 ? this.copyParts.join("") + s.slice(i, nl) : s.slice(i, nl));
          this.copyParts = [];
          this.line++;
          i = nl + 1;
        }
      }
    }
    this.stmt.flush(s, stop);
    // Two chars of look-behind let E'…', $tag$ and [ident] be recognised at the start of the next chunk.
    const ctx = Math.max(0, stop - 2);
    this.keep = s.slice(ctx);
    this.keepFrom = stop - ctx;
  }

  private enter(state: number): void {
    this.state = state;
    this.openLine = this.line;
    this.goMatch = -1;
  }

  /** `DELIMITER ;;` is a client command ending at the newline: its own `;` must not end it. */
  private onDelimiterLine(s: string, i: number): boolean {
    const stmt = this.stmt;
    if (!stmt.started || stmt.line !== this.line || (stmt.firstCode | 0x20) !== 100) return false;
    stmt.flush(s, i);
    return /^delimiter[ \t]/i.test(stmt.head());
  }

  private newline(s: string, i: number): void {
    const go = this.goMatch === 2 && !this.cfg.mysql;
    this.goMatch = 0;
    if (go) this.cfg.tsql = true;
    const stmt = this.stmt;
    if (!stmt.started) return;
    if (go) {
      this.endStatement(s, i, true);
      return;
    }
    if (stmt.line !== this.line) return;
    const first = stmt.firstCode | 0x20;
    if (!this.cfg.tsql && (first === 115 || first === 105)) {
      stmt.flush(s, i);
      this.cfg.learnFirstLine(stmt.head());
    }
    if (stmt.firstCode !== 92 && first !== 100) return;
    stmt.flush(s, i);
    const delimiter = /^delimiter[ \t]+(\S+)/i.exec(stmt.head());
    if (stmt.firstCode === 92) this.cfg.learnMeta(stmt.head());
    // psql meta-commands (\connect …) and DELIMITER end at the newline and carry no data.
    if (stmt.firstCode === 92 || delimiter) {
      if (delimiter) {
        this.delimiter = delimiter[1] as string;
        this.cfg.mysql = true;
      }
      stmt.reset();
    }
  }

  private endStatement(s: string, end: number, go: boolean): void {
    const stmt = this.stmt;
    if (!stmt.started) return;
    stmt.flush(s, end);
    const { line, flags, tooLarge } = stmt;
    let text = stmt.take();
    if (go) {
      const nl = text.lastIndexOf("\n");
      text = nl < 0 ? "" : text.slice(0, nl);
    }
    this.cfg.learn(text);
    if (!DATA_HEAD.test(text)) return;
    if (tooLarge) {
      const message = `statement larger than ${MAX_STATEMENT_CHARS / 1024 / 1024} MiB skipped`;
      this.emit({ type: "error", line, message, head: text });
      return;
    }
    const head = (text.charCodeAt(0) | 0x20) === 99 ? parseCopyHead(text, line, flags) : null;
    if (head) {
      // Data starts on the line after `COPY … FROM stdin;`; after a GO line that newline is already consumed.
      this.state = go ? COPY_DATA : COPY_SKIP;
      this.emit({ type: "copy-start", head, line, settings: this.cfg.snapshot() });
      return;
    }
    this.emit({ type: "statement", text, line, flags, settings: this.cfg.snapshot() });
  }

  /**
   * Whether the line after the newline at `i` starts a new T-SQL statement (SSMS writes one INSERT per line with
   * neither `;` nor GO between them): 1 yes, 0 no, -1 the chunk ends before it can be told.
   */
  private tsqlBreak(s: string, i: number, final: boolean): number {
    let j = i + 1;
    while (j < s.length && (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9 || s.charCodeAt(j) === 13)) j++;
    const start = j;
    while (j < s.length && j - start <= 10 && isIdentCode(s.charCodeAt(j))) j++;
    if (j >= s.length && !final) return -1;
    if (!TSQL_STATEMENT_START.test(s.slice(start, j))) return 0;
    // Inside a procedure, trigger or view the lines are its body, up to GO: not the dump's statements.
    this.stmt.flush(s, i);
    return TSQL_BODY_HEAD.test(this.stmt.head()) ? 0 : 1;
  }

  private copyLine(raw: string): void {
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (text === "\\.") {
      this.state = NORMAL;
      this.goMatch = 0;
      this.emit({ type: "copy-end", line: this.line });
      return;
    }
    this.emit({ type: "copy-line", text, line: this.line });
  }
}
