import { open } from "node:fs/promises";
import { TabularError } from "./errors.js";

/** What JS learns from the first bytes of a CSV/TSV before DuckDB reads it. */
export interface CsvHead {
  /** DuckDB's `encoding`: UTF-8 (BOM or not) or UTF-16LE with its BOM. */
  encoding: "utf-8" | "utf-16";
  /** Nothing but whitespace (or nothing at all): no header, no table. */
  blank: boolean;
  /** Whitespace-only lines before the header, for read_csv's `skip`. */
  skip: number;
  /** Column names as DuckDB's reader would give them: an empty name becomes `columnN`, a repeat `name_1`. */
  names: string[];
  /**
   * Set when a header name had to be cleaned (NUL, which ends an identifier in DuckDB's SQL parser; U+FEFF,
   * which DuckDB drops and leaves a zero-length name): the reader must then be given `names` explicitly.
   */
  renamed?: boolean;
}

const HEAD_BYTES = 1 << 20;
const BLANK = /^[ \t\r\n]*$/;

/**
 * Reads the header record (RFC 4180 quoting) from at most the first MiB; the
 * rest of the file is left to DuckDB. Only an all-blank start makes it read
 * further, and then only until the first non-blank character.
 */
export async function readCsvHead(path: string, delim: string): Promise<CsvHead> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    const head = buf.subarray(0, bytesRead);
    if (head[0] === 0xfe && head[1] === 0xff) {
      throw new TabularError("SLUICE_ERR_ENCODING", "UTF-16 big-endian text is not supported: send UTF-8 or UTF-16LE", {
        line: 1,
      });
    }
    const utf16 = head[0] === 0xff && head[1] === 0xfe;
    const bomLength = utf16 ? 2 : head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    const decoder = new TextDecoder(utf16 ? "utf-16le" : "utf-8");
    const text = decoder.decode(head.subarray(bomLength), { stream: true });
    const encoding = utf16 ? "utf-16" : "utf-8";
    const complete = bytesRead < HEAD_BYTES;
    if (BLANK.test(text)) {
      const blank = complete || (await restIsBlank(fh, decoder, HEAD_BYTES));
      if (blank) return { encoding, blank: true, skip: 0, names: [] };
    }
    const { skip, start } = leadingBlankLines(text);
    const fields = parseRecord(text, start, delim, complete, skip + 1);
    if (fields.some((f) => f.includes("\uFFFD"))) {
      throw new TabularError("SLUICE_ERR_ENCODING", "the header is not valid UTF-8", { line: skip + 1 });
    }
    const cleaned = fields.map(cleanName);
    const renamed = cleaned.some((c, i) => c !== fields[i]);
    return { encoding, blank: false, skip, names: duckNames(cleaned), ...(renamed ? { renamed } : {}) };
  } finally {
    await fh.close();
  }
}

async function restIsBlank(fh: Awaited<ReturnType<typeof open>>, decoder: TextDecoder, from: number): Promise<boolean> {
  const buf = Buffer.alloc(HEAD_BYTES);
  for (let pos = from; ; ) {
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, pos);
    if (bytesRead === 0) return true;
    if (!BLANK.test(decoder.decode(buf.subarray(0, bytesRead), { stream: true }))) return false;
    pos += bytesRead;
  }
}

function leadingBlankLines(text: string): { skip: number; start: number } {
  let skip = 0;
  let start = 0;
  for (;;) {
    const m = /^[ \t]*(\r\n|\n|\r)/.exec(text.slice(start, start + 4096));
    if (!m) return { skip, start };
    skip++;
    start += m[0].length;
  }
}

/** One record from `pos`; unquoted fields lose surrounding spaces, as DuckDB's header does. */
function parseRecord(text: string, pos: number, delim: string, complete: boolean, line: number): string[] {
  const fields: string[] = [];
  let i = pos;
  for (;;) {
    let value = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          throw new TabularError("SLUICE_ERR_PARSE", "the header has a quoted name that is never closed", { line });
        }
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (i < text.length && text[i] !== delim && text[i] !== "\n" && text[i] !== "\r") value += text[i++];
    } else {
      const start = i;
      while (i < text.length && text[i] !== delim && text[i] !== "\n" && text[i] !== "\r") i++;
      value = text.slice(start, i).replace(/^ +| +$/g, "");
    }
    fields.push(value);
    if (i >= text.length) {
      if (!complete) throw new TabularError("SLUICE_ERR_PARSE", "the header record is longer than 1 MiB", { line });
      return fields;
    }
    if (text[i] !== delim) return fields;
    i++;
  }
}

/** A name every later SQL statement can quote: NUL becomes `_`, byte-order marks go. */
function cleanName(raw: string): string {
  return raw.replaceAll("\0", "_").replaceAll("\uFEFF", "");
}

function duckNames(fields: string[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set<string>();
  return fields.map((raw, i) => {
    let name = raw === "" ? `column${i}` : raw;
    if (taken.has(name)) {
      let n = seen.get(name) ?? 1;
      while (taken.has(`${name}_${n}`)) n++;
      seen.set(name, n + 1);
      name = `${name}_${n}`;
    }
    taken.add(name);
    return name;
  });
}
