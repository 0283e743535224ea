import { open } from "node:fs/promises";
import { columnNames, renamedColumns } from "./column-names.js";
import { sniffDialect } from "./csv-dialect.js";
import { type Footer, findFooter, findTableStart, type HeaderVerdict } from "./csv-layout.js";
import { type CsvDialect, type CsvRecord, parseRecords } from "./csv-records.js";
import { TabularError } from "./errors.js";

/** What JS learns from the first (and last) bytes of a CSV/TSV before DuckDB reads it. */
export interface CsvHead {
  /** DuckDB's `encoding`: UTF-8 (BOM or not) or UTF-16LE with its BOM. */
  encoding: "utf-8" | "utf-16";
  /** Nothing but whitespace (or nothing at all): no header, no table. */
  blank: boolean;
  /** Delimiter, quote and escape, as detected (see csv-dialect.ts). */
  dialect: CsvDialect;
  /** The header as found (see csv-layout.ts). */
  verdict: HeaderVerdict;
  /** DuckDB's `header`: the first line it reads is the header (only a header that fits the columns is). */
  header: boolean;
  /** Lines DuckDB skips first: blank and preamble lines, and a header it is not to read. */
  skip: number;
  /** Lines before the header (or before the data, without one): blank lines and preamble. */
  preambleLines: number;
  /** Column names (see column-names.ts), given to DuckDB explicitly. */
  names: string[];
  /** Column name → the header's own name, where they differ. */
  sources: Map<string, string>;
  footer: Footer | null;
}

const HEAD_BYTES = 1 << 20;
const SAMPLE_BYTES = 128 << 10;
const TAIL_BYTES = 64 << 10;
/** Records the header logic looks at (the sniff itself reads less: see csv-dialect.ts). */
const LAYOUT_RECORDS = 500;
const BLANK = /^[ \t\r\n]*$/;

/**
 * Reads at most the first MiB (and the last 64 KiB) of the file, detects its dialect and where its table
 * starts, and names the columns; the rest of the file is left to DuckDB. Only an all-blank start makes it read
 * further, and then only until the first non-blank character. `preferred` is the delimiter the extension
 * names; `schemaNames` the columns of a schema that applies.
 */
export async function readCsvHead(
  path: string,
  preferred: string,
  schemaNames: readonly string[] = [],
): Promise<CsvHead> {
  const fh = await open(path, "r");
  try {
    const { buf, bytesRead } = await readStart(fh);
    const head = buf.subarray(0, bytesRead);
    if (head[0] === 0xfe && head[1] === 0xff) {
      throw new TabularError("SLUICE_ERR_ENCODING", "UTF-16 big-endian text is not supported: send UTF-8 or UTF-16LE", {
        line: 1,
      });
    }
    const utf16 = head[0] === 0xff && head[1] === 0xfe;
    const bomLength = utf16 ? 2 : head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    const encoding = utf16 ? "utf-16" : "utf-8";
    // Most headers and layouts show in the first 128 KiB: the whole MiB is decoded only when they do not.
    let end = Math.min(bytesRead, bomLength + SAMPLE_BYTES);
    let text = "";
    let complete = false;
    let dialect: CsvDialect = { delimiter: preferred, quote: '"', escape: '"' };
    let records: CsvRecord[] = [];
    for (;;) {
      text = new TextDecoder(utf16 ? "utf-16le" : "utf-8").decode(head.subarray(bomLength, end));
      complete = bytesRead < HEAD_BYTES && end === bytesRead;
      dialect = sniffDialect(text, 0, complete, preferred);
      if (BLANK.test(text) && end === bytesRead) {
        const blank = complete || (await restIsBlank(fh, utf16, HEAD_BYTES));
        const none = { dialect, verdict: "absent" as const, header: false, skip: 0, preambleLines: 0 };
        if (blank) return { encoding, blank: true, ...none, names: [], sources: new Map(), footer: null };
      }
      records = parseRecords(text, dialect, 0, LAYOUT_RECORDS, complete).records;
      if (records.some((r) => !r.blank) || end === bytesRead) break;
      end = bytesRead;
    }
    if (!records.some((r) => !r.blank)) {
      const line = records.reduce((n, r) => n + r.lines, 0) + 1;
      throw new TabularError("SLUICE_ERR_PARSE", "the header record is longer than 1 MiB", { line });
    }
    const start = findTableStart(records, schemaNames);
    const preambleLines = records.slice(0, start.at).reduce((n, r) => n + r.lines, 0);
    const first = records[start.at] as (typeof records)[number];
    if (start.header !== "absent" && first.unclosed) {
      throw new TabularError("SLUICE_ERR_PARSE", "the header has a quoted name that is never closed", {
        line: preambleLines + 1,
      });
    }
    const headerLines = start.header === "absent" ? 0 : first.lines;
    const raw = start.names ?? headerlessNames(start.width, schemaNames);
    if (start.names?.some((f) => f.includes("\uFFFD"))) {
      throw new TabularError("SLUICE_ERR_ENCODING", "the header is not valid UTF-8", { line: preambleLines + 1 });
    }
    const names = columnNames(raw);
    const sources = renamedColumns(raw, names);
    for (const [name, src] of sources) if (src === "") sources.delete(name);
    const footer = utf16 ? null : await footerOf(fh, head, bomLength, complete, dialect, start.width);
    return {
      encoding,
      blank: false,
      dialect,
      verdict: start.header,
      // DuckDB reads a header only when it names every column; a repaired or damaged one is skipped like preamble.
      header: start.header === "present",
      skip: preambleLines + (start.header === "present" ? 0 : headerLines),
      preambleLines,
      names,
      sources,
      footer,
    };
  } finally {
    await fh.close();
  }
}

/** A file without a header: the schema's names when it has exactly as many columns, else generated ones. */
function headerlessNames(width: number, schemaNames: readonly string[]): string[] {
  return schemaNames.length === width ? [...schemaNames] : Array<string>(width).fill("");
}

async function footerOf(
  fh: Awaited<ReturnType<typeof open>>,
  head: Buffer,
  bomLength: number,
  complete: boolean,
  dialect: CsvDialect,
  width: number,
): Promise<Footer | null> {
  let tail = head.subarray(bomLength);
  let offset = bomLength;
  if (!complete) {
    const { size } = await fh.stat();
    offset = Math.max(0, size - TAIL_BYTES);
    tail = Buffer.alloc(size - offset);
    await fh.read(tail, 0, tail.length, offset);
  }
  const split = (line: string) => parseRecords(line, dialect, 0, 1, true).records[0]?.fields.length ?? 0;
  return findFooter(tail, offset, width, split, dialect.quote);
}

/**
 * The first MiB, in a buffer sized to the file (one byte over, to see its end): a 4 KiB file must not cost a
 * zeroed MiB (allocating and collecting those was a tenth of a small file's CPU). A file grown since its size was
 * read is read again the long way, so `bytesRead < HEAD_BYTES` still means the whole file was read.
 */
async function readStart(fh: Awaited<ReturnType<typeof open>>): Promise<{ buf: Buffer; bytesRead: number }> {
  const size = (await fh.stat()).size;
  let buf = Buffer.allocUnsafe(Math.min(HEAD_BYTES, size + 1));
  let { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  if (bytesRead === buf.length && buf.length < HEAD_BYTES) {
    buf = Buffer.allocUnsafe(HEAD_BYTES);
    ({ bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0));
  }
  return { buf, bytesRead };
}

async function restIsBlank(fh: Awaited<ReturnType<typeof open>>, utf16: boolean, from: number): Promise<boolean> {
  const decoder = new TextDecoder(utf16 ? "utf-16le" : "utf-8");
  const buf = Buffer.alloc(HEAD_BYTES);
  for (let pos = from; ; ) {
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, pos);
    if (bytesRead === 0) return true;
    if (!BLANK.test(decoder.decode(buf.subarray(0, bytesRead), { stream: true }))) return false;
    pos += bytesRead;
  }
}
