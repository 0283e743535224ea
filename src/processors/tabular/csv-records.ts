/**
 * A small CSV record reader for the start (and end) of a file: what the dialect sniffer and the header logic
 * look at before DuckDB reads the whole file. It reads the way DuckDB's reader does (a quote opens a field only
 * at its start; inside, the escape character before a quote or itself makes it literal; CR, LF and CRLF end a
 * record), but never fails: what DuckDB would refuse is counted as `dirty` instead, which is what tells a wrong
 * dialect from a right one.
 */

export interface CsvDialect {
  /** One of `,` `;` tab `|` space. */
  delimiter: string;
  /** `"` or `'`. */
  quote: string;
  /** The quote itself (RFC 4180 doubling, `""`) or a backslash (`\"`). */
  escape: string;
}

export interface CsvRecord {
  fields: string[];
  /** Per field: it was quoted (a quoted `""` is an empty string, an unquoted empty field a missing value). */
  quoted: boolean[];
  /** Nothing but spaces and tabs on the line (or nothing): not a record for DuckDB. */
  blank: boolean;
  /** Line breaks the record spans, its own end included (0 for a last line without one). */
  lines: number;
  /**
   * Quote characters where the dialect does not allow them: text after a closing quote, a quote inside an
   * unquoted field, a quote never closed.
   */
  dirty: number;
  /** A quoted field runs to the end of the (complete) text. */
  unclosed: boolean;
}

export interface ParsedRecords {
  records: CsvRecord[];
  /** Characters read: where the next record would start. */
  end: number;
}

const LF = 10;
const CR = 13;
/** A space or tab that is not the delimiter. */
const isPad = (c: number, delim: number) => (c === 32 || c === 9) && c !== delim;

/**
 * Records from `text[from…]`, at most `max`. With `complete` false the text is a prefix of the file, so a
 * record that runs into its end is left out (it may go on).
 */
export function parseRecords(text: string, d: CsvDialect, from: number, max: number, complete: boolean): ParsedRecords {
  const records: CsvRecord[] = [];
  const delim = d.delimiter.charCodeAt(0);
  const quote = d.quote.charCodeAt(0);
  const esc = d.escape.charCodeAt(0);
  const n = text.length;
  let i = from;
  while (i < n && records.length < max) {
    const start = i;
    const fields: string[] = [];
    const quoted: boolean[] = [];
    let dirty = 0;
    let lines = 0;
    let ended = false;
    let unclosed = false;
    while (!ended) {
      let value = "";
      // Spaces around a quoted field are no part of it (as DuckDB reads a header: ` "b c" ` is `b c`).
      let q = i;
      while (q < n && isPad(text.charCodeAt(q), delim)) q++;
      const isQuoted = text.charCodeAt(q) === quote;
      if (isQuoted) {
        let j = q + 1;
        let closed = false;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === esc && esc !== quote && (text.charCodeAt(j + 1) === quote || text.charCodeAt(j + 1) === esc)) {
            value += text[j + 1];
            j += 2;
          } else if (c === quote) {
            if (esc === quote && text.charCodeAt(j + 1) === quote) {
              value += text[j];
              j += 2;
            } else {
              j++;
              closed = true;
              break;
            }
          } else {
            if (c === LF || (c === CR && text.charCodeAt(j + 1) !== LF)) lines++;
            value += text[j];
            j++;
          }
        }
        if (!closed) {
          if (!complete) return { records, end: start };
          dirty++;
          unclosed = true;
        }
        i = j;
      }
      // Unquoted text, or what follows a closing quote before the next delimiter (dirty: DuckDB refuses it).
      if (isQuoted) while (i < n && isPad(text.charCodeAt(i), delim)) i++;
      let k = i;
      while (k < n) {
        const c = text.charCodeAt(k);
        if (c === delim || c === LF || c === CR) break;
        if (c === quote || isQuoted) dirty++;
        k++;
      }
      value += text.slice(i, k);
      fields.push(value);
      quoted.push(isQuoted);
      i = k;
      const c = text.charCodeAt(i);
      if (c === delim) {
        i++;
        continue;
      }
      ended = true;
      if (i >= n) {
        if (!complete) return { records, end: start };
      } else {
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        lines++;
      }
    }
    // A line of spaces is blank whatever the delimiter; with a space delimiter it reads as several empty fields.
    const blank =
      !quoted.includes(true) &&
      (fields.length === 1
        ? /^[ \t]*$/.test(fields[0] as string)
        : d.delimiter === " " && fields.every((f) => f === ""));
    records.push({ fields, quoted, blank, lines, dirty, unclosed });
  }
  return { records, end: i };
}
