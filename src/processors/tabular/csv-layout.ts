import { modalWidth } from "./csv-dialect.js";
import type { CsvRecord } from "./csv-records.js";

/**
 * Where the table starts in the first records of a CSV (dialect already known): preamble lines, the header (or
 * none), and the names of the columns. The rules, in order:
 *
 * - The table's width is the number of fields most records have (in a tie, the first line's). It starts at the first record of that width;
 *   records before it are preamble.
 * - A header with one field too many just before it (a stray separator) is the header if dropping one of its
 *   empty fields leaves the right width ("repaired"), or if the record after it reads as data; its names are
 *   then unusable and the columns get generated names ("damaged"). A header with one field too few before data
 *   rows that read as data, or whose last field is always empty (a separator ending every line), is the header
 *   of all but the last column, which gets a generated name ("repaired").
 * - Otherwise the first record of the table is the header, unless it reads as data: every column whose values
 *   below are all numbers, all dates or all booleans holds one of those there too (or nothing), and there is such
 *   a column. A table of text only always has a header, as DuckDB's sniffer decides.
 * - With a schema, a first line naming one of its columns is the header, whatever the rest says: its width is
 *   the table's, and rows of another width are ragged (reported), as they always were.
 */
export type HeaderVerdict = "present" | "absent" | "repaired" | "damaged";

export interface TableStart {
  /** Index of the header record (present, repaired, damaged) or of the first data record (absent). */
  at: number;
  header: HeaderVerdict;
  width: number;
  /** The header's fields as the names of `width` columns ("" where a name is to be generated), or null. */
  names: string[] | null;
}

type Kind = "int" | "num" | "date" | "bool";
const INT = /^[-+]?\d+$/;
const NUM = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE =
  /^(\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{2}:\d{2}(:\d{2})?)$/;
const BOOL = /^(true|false)$/i;
/** Most specific first: a column of integers is "int", one mixing integers and decimals "num". */
const KINDS: [Kind, (v: string) => boolean][] = [
  ["int", (v) => INT.test(v)],
  ["num", (v) => NUM.test(v)],
  ["date", (v) => DATE.test(v)],
  ["bool", (v) => BOOL.test(v)],
];
const TESTS = new Map(KINDS);

function fits(value: string, kind: Kind): boolean {
  const v = value.trim();
  return v === "" || (TESTS.get(kind) as (v: string) => boolean)(v);
}

/** Per column, the kind all non-empty values of `rows` share (an int column also fits "num"), or null. */
function columnKinds(rows: readonly CsvRecord[], width: number): (Kind | null)[] {
  return Array.from({ length: width }, (_, c) => {
    const values = rows.map((r) => r.fields[c] ?? "").filter((v) => v.trim() !== "");
    if (values.length === 0) return null;
    for (const [kind] of KINDS) if (values.every((v) => fits(v, kind))) return kind;
    return null;
  });
}

/** The record reads as a data row of columns of these kinds (and some column has a kind: else nobody can tell). */
function readsAsData(r: CsvRecord, kinds: readonly (Kind | null)[]): boolean {
  if (!kinds.some((k) => k !== null)) return false;
  return kinds.every((k, c) => k === null || fits(r.fields[c] ?? "", k));
}

export function findTableStart(records: readonly CsvRecord[], schemaNames: readonly string[] = []): TableStart {
  const solid = records.flatMap((r, i) => (r.blank ? [] : [i]));
  const names = (r: CsvRecord) => r.fields.map((f, c) => (r.quoted[c] ? f : f.trim()));
  const wanted = new Set(schemaNames.map((n) => n.toLowerCase()));
  const named = (r: CsvRecord) => names(r).some((n) => wanted.has(n.toLowerCase()));
  // A first line naming a schema column is the header, and its width the table's: rows that differ are ragged.
  const top = records[solid[0] as number] as CsvRecord;
  if (named(top)) return { at: solid[0] as number, header: "present", width: top.fields.length, names: names(top) };
  // A tie (a header and one ragged row) goes to the first line's width: the header's, most of the time.
  const { width } = modalWidth(records, top.fields.length);
  const count = (k: number) => (records[solid[k] as number] as CsvRecord).fields.length;
  const first = solid.findIndex((_, k) => count(k) === width);
  const start = records[solid[first] as number] as CsvRecord;
  const data = solid
    .slice(first + 1)
    .map((i) => records[i] as CsvRecord)
    .filter((r) => r.fields.length === width);
  const kinds = columnKinds(data, width);

  const prevAt = first > 0 ? (solid[first - 1] as number) : -1;
  const prev = prevAt >= 0 ? (records[prevAt] as CsvRecord) : null;
  // A one-column table has no separators to damage: a wider line before it is preamble.
  if (prev && width >= 2 && !named(start)) {
    const firstIsData = readsAsData(start, kinds) || named(prev);
    if (prev.fields.length === width + 1) {
      const fields = names(prev);
      const empty = fields.lastIndexOf("");
      if (empty >= 0) {
        fields.splice(empty, 1);
        return { at: prevAt, header: "repaired", width, names: fields };
      }
      if (firstIsData) return { at: prevAt, header: "damaged", width, names: null };
    }
    const trailingSeparator = data.length > 0 && [start, ...data].every((r) => r.fields[width - 1] === "");
    if (prev.fields.length === width - 1 && (firstIsData || trailingSeparator)) {
      return { at: prevAt, header: "repaired", width, names: [...names(prev), ""] };
    }
  }
  const at = solid[first] as number;
  if (!named(start) && readsAsData(start, kinds)) return { at, header: "absent", width, names: null };
  return { at, header: "present", width, names: names(start) };
}

/** Lines after the table that are no part of it: a footnote, a total. */
export interface Footer {
  lines: number;
  /** Byte offset of its first line in the file. */
  fromByte: number;
}

const MAX_FOOTER_LINES = 5;

/**
 * A footer is a block of at most five lines at the very end of the file, separated from the table by a blank
 * line, none of them of the table's width and none holding the quote character (which could make it the end
 * of a quoted field that holds a blank line). A ragged last row without the blank line before it is a ragged
 * row, listed as invalid like any other. `tail` holds the file's last bytes, from `offset` on (UTF-8).
 */
export function findFooter(
  tail: Buffer,
  offset: number,
  width: number,
  split: (line: string) => number,
  quote: string,
): Footer | null {
  // Lines on raw bytes (CR and LF are single bytes in UTF-8, and no other byte of a character is either).
  const spans: [number, number][] = [];
  let from = 0;
  for (let i = 0; i < tail.length; i++) {
    const b = tail[i];
    if (b !== 0x0a && b !== 0x0d) continue;
    spans.push([from, i]);
    if (b === 0x0d && tail[i + 1] === 0x0a) i++;
    from = i + 1;
  }
  if (from < tail.length) spans.push([from, tail.length]);
  const text = spans.map(([a, b]) => tail.toString("utf8", a, b));
  const blank = (k: number) => (text[k] as string).trim() === "";
  let k = text.length - 1;
  while (k >= 0 && blank(k)) k--;
  const block: number[] = [];
  while (k >= 0 && !blank(k)) block.push(k--);
  if (block.length === 0 || block.length > MAX_FOOTER_LINES || k < 0) return null;
  // Blank line(s) between, and a line of the table above them.
  while (k >= 0 && blank(k)) k--;
  if (k < 0) return null;
  if (block.some((j) => (text[j] as string).includes(quote) || split(text[j] as string) === width)) return null;
  const first = block[block.length - 1] as number;
  return { lines: block.length, fromByte: offset + (spans[first] as [number, number])[0] };
}
