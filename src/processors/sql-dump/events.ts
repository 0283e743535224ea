import { type CopyHead, decodeCopyFields, splitCopyLine } from "./copy-block.js";
import { parseCreateTable } from "./create-table.js";
import type { Settings } from "./dump-settings.js";
import { parseInsert } from "./insert.js";
import type { LexerFlags } from "./lexer.js";
import type { SplitItem } from "./splitter.js";
import { BATCH_ROWS, type SqlEvent, type SqlValue } from "./types.js";

interface CopyState {
  head: CopyHead;
  table: string;
  /** Fields per line: the column list, else the CREATE TABLE, else the block's first line. */
  expected: number | null;
  rows: SqlValue[][];
  lines: number[];
  /** Line of the COPY statement. */
  line: number;
}

/** Turns the splitter's statements and COPY lines into {@link SqlEvent}s. */
export class EventBuilder {
  /** Null outside COPY blocks and inside blocks whose rows cannot be read (their lines are dropped). */
  private copy: CopyState | null = null;
  /** Tables announced so far, with their CREATE TABLE column count (null when none was seen). */
  private readonly known = new Map<string, number | null>();

  /** The settings last announced; the defaults are never announced. */
  private settings: Settings = { dialect: "generic", charset: "utf8" };

  handle(item: SplitItem, out: SqlEvent[]): void {
    if (item.type === "statement") {
      this.announceSettings(item.settings, out);
      this.statement(item.text, item.line, item.flags, out);
    } else if (item.type === "copy-start") {
      this.announceSettings(item.settings, out);
      this.copyStart(item.head, item.line, out);
    } else if (item.type === "copy-line") this.copyLine(item.text, item.line, out);
    else if (item.type === "error")
      out.push({ kind: "error", table: tableOf(item.head), line: item.line, message: item.message });
    else this.copyEnd(item.type === "copy-eof", item.line, out);
  }

  private announceSettings(now: Settings, out: SqlEvent[]): void {
    const was = this.settings;
    if (now.dialect === was.dialect && now.charset === was.charset && now.timeZone === was.timeZone) return;
    this.settings = now;
    out.push({ kind: "settings", ...now });
  }

  private statement(text: string, line: number, flags: LexerFlags, out: SqlEvent[]): void {
    // COPY … FROM 'file' names data outside the dump: nothing to read here.
    if (/^copy\b/i.test(text)) return;
    if (/^create\b/i.test(text)) {
      const created = parseCreateTable(text, line, flags);
      if (!created) return;
      if (!created.ok) {
        out.push({ kind: "error", table: created.table, line, message: `CREATE TABLE: ${created.message}` });
        return;
      }
      this.known.set(created.table, created.columns.length);
      out.push({ kind: "table", table: created.table, columns: created.columns });
      return;
    }
    const parsed = parseInsert(text, line, flags);
    if (!parsed.ok) {
      out.push({ kind: "error", table: parsed.table, line, message: `INSERT: ${parsed.message}` });
      return;
    }
    this.announce(parsed.table, out);
    for (let i = 0; i < parsed.rows.length; i += BATCH_ROWS) {
      const rows = parsed.rows.slice(i, i + BATCH_ROWS);
      const lines = parsed.lines.slice(i, i + BATCH_ROWS);
      out.push({
        kind: "rows",
        table: parsed.table,
        columns: parsed.columns,
        rows,
        firstLine: lines[0] ?? line,
        lines,
      });
    }
  }

  private announce(table: string, out: SqlEvent[]): void {
    if (this.known.has(table)) return;
    this.known.set(table, null);
    out.push({ kind: "table", table, columns: null });
  }

  private copyStart(head: CopyHead, line: number, out: SqlEvent[]): void {
    if (head.problem !== null || head.table === null) {
      const message = head.problem ?? "COPY statement without a table";
      out.push({ kind: "error", table: head.table, line, message: `${message}; its data lines are skipped` });
      return;
    }
    this.announce(head.table, out);
    const expected = head.columns?.length ?? this.known.get(head.table) ?? null;
    this.copy = { head, table: head.table, expected, rows: [], lines: [], line };
  }

  private copyLine(text: string, line: number, out: SqlEvent[]): void {
    const copy = this.copy;
    if (!copy) return;
    const fields = splitCopyLine(text, copy.head.delimiter);
    copy.expected ??= fields.length;
    if (fields.length !== copy.expected) {
      // Rows already read go out first, so events stay in file order.
      this.flushCopy(copy, out);
      const message = `expected ${copy.expected} fields, got ${fields.length}`;
      out.push({ kind: "error", table: copy.table, line, message });
      return;
    }
    copy.rows.push(decodeCopyFields(fields, copy.head.nullText));
    copy.lines.push(line);
    if (copy.rows.length >= BATCH_ROWS) this.flushCopy(copy, out);
  }

  private copyEnd(unterminated: boolean, line: number, out: SqlEvent[]): void {
    const copy = this.copy;
    this.copy = null;
    if (copy) this.flushCopy(copy, out);
    if (unterminated) {
      const message = `COPY data not terminated by a "\\." line: end of input reached at line ${line}`;
      out.push({ kind: "error", table: copy?.table ?? null, line: copy?.line ?? line, message });
    }
  }

  private flushCopy(copy: CopyState, out: SqlEvent[]): void {
    if (copy.rows.length === 0) return;
    const { rows, lines } = copy;
    out.push({
      kind: "rows",
      table: copy.table,
      columns: copy.head.columns,
      rows,
      firstLine: lines[0] as number,
      lines,
    });
    copy.rows = [];
    copy.lines = [];
  }
}

/** The table a statement that could not be split was about, when its start says so. */
function tableOf(head: string): string | null {
  const flags = { mysql: false, backslash: false };
  if (/^(?:insert|replace)\b/i.test(head)) return parseInsert(head, 0, flags).table;
  const created = /^create\b/i.test(head) ? parseCreateTable(head, 0, flags) : null;
  return created ? created.table : null;
}
