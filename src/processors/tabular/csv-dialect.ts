import { type CsvDialect, type CsvRecord, parseRecords } from "./csv-records.js";

/** The delimiters sniffed for, in the order a tie is settled (after the one the file's extension names). */
const DELIMITERS = [",", "\t", ";", "|", " "];
/** The sniff reads at most this much of the file (and this many records): a bounded cost, whatever the size. */
const SNIFF_CHARS = 64 * 1024;
const SNIFF_RECORDS = 1000;

/** A field holding another delimiter candidate is a sign of a wrong split, unless it is a (decimal-comma) number. */
const OTHER_DELIMITER = /[,;\t|]/;
const NUMBER = /^\s*[-+]?(\d+([.,]\d+)?|\d{1,3}([.,]\d{3})+([.,]\d+)?|[.,]\d+)([eE][-+]?\d+)?\s*$/;

/** The width most records have (ties: `prefer` if it is one of them, else the wider), and how many have it. */
export function modalWidth(records: readonly CsvRecord[], prefer = -1): { width: number; count: number } {
  const counts = new Map<number, number>();
  for (const r of records) if (!r.blank) counts.set(r.fields.length, (counts.get(r.fields.length) ?? 0) + 1);
  let width = 0;
  let count = 0;
  for (const [w, c] of counts) {
    if (c > count || (c === count && width !== prefer && (w > width || w === prefer))) {
      width = w;
      count = c;
    }
  }
  return { width, count };
}

/**
 * How well a dialect explains the sample, in [0, 1]: the share of records of the modal width, times the share
 * of fields that hold no other delimiter candidate, times one less the quote faults per record. A dialect that
 * finds only one column, or whose modal width fewer than half the records have, scores 0: it explains nothing.
 */
function score(records: readonly CsvRecord[], d: CsvDialect, preferred: string): number {
  const rows = records.filter((r) => !r.blank);
  if (rows.length === 0) return 0;
  const { width, count } = modalWidth(rows);
  if (width < 2 || count * 2 < rows.length) return 0;
  // Spaces are in most text: a space-separated table has to be regular. And a delimiter the file's name does not
  // announce has to split the first line too (a one-column file of phrases is no table of words), unless that
  // line is a title set off by a blank line.
  if (d.delimiter === " " && count < rows.length * 0.9) return 0;
  if (d.delimiter !== preferred && (rows[0] as CsvRecord).fields.length < 2 && !titled(records, width)) return 0;
  let cells = 0;
  let clean = 0;
  let dirty = 0;
  for (const r of rows) {
    dirty += r.dirty;
    r.fields.forEach((f, i) => {
      cells++;
      if (r.quoted[i] || !OTHER_DELIMITER.test(f) || NUMBER.test(f)) clean++;
    });
  }
  return (count / rows.length) * (clean / cells) * Math.max(0, 1 - dirty / rows.length);
}

/** The first width-`width` record comes after a blank line: the lines before it are a preamble, not the table. */
function titled(records: readonly CsvRecord[], width: number): boolean {
  const at = records.findIndex((r) => !r.blank && r.fields.length === width);
  return at > 0 && (records[at - 1] as CsvRecord).blank;
}

/**
 * The dialect that best explains the start of the file: each delimiter (`,` tab `;` `|` space) with each quote
 * (`"`, `'`) and escape (doubling, backslash) that occurs in the sample is tried, and the best score wins.
 * Ties go to the file's own convention (the extension's delimiter, `"` doubled), so a file that any dialect
 * reads the same way is read the way its name says.
 */
export function sniffDialect(text: string, from: number, complete: boolean, preferred: string): CsvDialect {
  const sample = text.slice(from, from + SNIFF_CHARS);
  const whole = complete && from + SNIFF_CHARS >= text.length;
  const delimiters = [preferred, ...DELIMITERS.filter((d) => d !== preferred && sample.includes(d))];
  const backslash = sample.includes("\\");
  const quotes: [string, string][] = [['"', '"']];
  if (backslash) quotes.push(['"', "\\"]);
  if (sample.includes("'")) {
    quotes.push(["'", "'"]);
    if (backslash) quotes.push(["'", "\\"]);
  }
  let best: CsvDialect = { delimiter: preferred, quote: '"', escape: '"' };
  let bestScore = -1;
  for (const [quote, esc] of quotes) {
    for (const delimiter of delimiters) {
      const d = { delimiter, quote, escape: esc };
      const s = score(parseRecords(sample, d, 0, SNIFF_RECORDS, whole).records, d, preferred);
      // Strictly better only: the order above is the order of preference.
      if (s > bestScore + 1e-9) {
        best = d;
        bestScore = s;
      }
    }
  }
  return best;
}
