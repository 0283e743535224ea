import type { LexerFlags } from "./lexer.js";

/** A statement longer than this is skipped with an error: its rows would not fit in memory beside it. */
export const MAX_STATEMENT_CHARS = 64 * 1024 * 1024;
/** Enough of a statement to classify it; the rest of a statement that carries no data is not kept. */
const HEAD_CHARS = 256;

/** Statements that can carry rows or a table's columns; every other statement is skipped. */
export const DATA_HEAD =
  /^(?:(?:insert|replace|copy)\b|create\s+(?:(?:or\s+replace|global|local|temp|temporary|unlogged)\s+)*table\b)/i;

/**
 * The text of the statement being split, gathered as slices of the chunks it
 * spans and joined once at its end (no re-concatenation per chunk). Once its
 * head shows it carries no data, the rest is not kept.
 */
export class StatementText {
  started = false;
  line = 0;
  /** First char code, enough to spot `DELIMITER` and psql `\` commands cheaply. */
  firstCode = 0;
  flags: LexerFlags = { mysql: false, backslash: false };
  tooLarge = false;
  private parts: string[] = [];
  private length = 0;
  private segStart = 0;
  private decided = false;
  private discard = false;

  begin(at: number, code: number, line: number, flags: LexerFlags): void {
    this.started = true;
    this.line = line;
    this.firstCode = code;
    this.segStart = at;
    this.flags = flags;
  }

  /** A new buffer starts: the statement continues from `from`. */
  resume(from: number): void {
    this.segStart = from;
  }

  /** Takes `s[segStart, end)` into the statement. */
  flush(s: string, end: number): void {
    if (!this.started || this.discard || end <= this.segStart) return;
    this.parts.push(s.slice(this.segStart, end));
    this.length += end - this.segStart;
    this.segStart = end;
    if (!this.decided && this.length >= HEAD_CHARS) {
      this.decided = true;
      if (!DATA_HEAD.test(this.head())) this.discard = true;
    }
    if (this.length > MAX_STATEMENT_CHARS) this.tooLarge = this.discard = true;
    if (this.discard) this.parts = [this.head()];
  }

  head(): string {
    let h = "";
    for (const p of this.parts) {
      h += p;
      if (h.length >= HEAD_CHARS) break;
    }
    return h.slice(0, HEAD_CHARS);
  }

  /** The whole text (only the head if it was not kept); the buffer is left empty. */
  take(): string {
    const text = this.parts.join("");
    this.reset();
    return text;
  }

  reset(): void {
    this.started = false;
    this.parts = [];
    this.length = 0;
    this.decided = false;
    this.discard = false;
    this.tooLarge = false;
  }
}
