import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { TabularError } from "./errors.js";
import { decodeKey } from "./json-keys.js";

/**
 * Largest single record DuckDB's JSON reader takes (its default). Each reading
 * thread holds buffers of twice this, so raising it trades directly against
 * the memory limit.
 */
export const MAX_RECORD_BYTES = 16 << 20;

export interface NormalizeSpec {
  path: string;
  format: "json" | "jsonl";
  dest: string;
  /** JSON Lines: the records (1-based, blank lines not counted) to leave out: the ones the scan found broken. */
  drop: ReadonlySet<number>;
  /** Record keys whose column name is not the key itself (see column-names.ts). */
  rename: ReadonlyMap<string, string>;
}

const CHUNK = 1 << 20;
const isWs = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Writes the records DuckDB is to read when the file cannot be read as it is: a record's keys renamed to their
 * column names, a repeated key kept once with its last value (where JSON.parse keeps it: at its first place),
 * broken JSONL lines and blank lines left out. Every value is copied byte for byte. A JSON array stays an array
 * (its records may span lines), JSON Lines stay one record per line. The input has passed the syntax check, so
 * this only finds boundaries; memory is one record.
 */
export async function normalizeJson(spec: NormalizeSpec): Promise<void> {
  const out = createWriteStream(spec.dest);
  const write = async (data: Uint8Array | string): Promise<void> => {
    if (!out.write(data)) await once(out, "drain");
  };
  const json = spec.format === "json";
  try {
    if (json) await write("[\n");
    let first = true;
    for await (const rec of json ? arrayRecords(spec.path) : lineRecords(spec.path, spec.drop)) {
      if (rec === null) continue;
      if (json && !first) await write(",\n");
      first = false;
      await write(rewriteRecord(rec, spec.rename));
      if (!json) await write("\n");
    }
    if (json) await write("\n]\n");
    out.end();
    await once(out, "finish");
  } catch (err) {
    out.destroy();
    await once(out, "close");
    throw err;
  }
}

class RecordBuffer {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  push(chunk: Buffer, from: number, to: number, record: number): void {
    const need = this.length + (to - from);
    if (need > MAX_RECORD_BYTES) {
      throw new TabularError("SLUICE_ERR_PARSE", `record ${record} is longer than ${MAX_RECORD_BYTES} bytes`, {
        row: record,
      });
    }
    if (need > this.buf.length) {
      const bigger = Buffer.alloc(Math.min(Math.max(need, this.buf.length * 2), MAX_RECORD_BYTES));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    chunk.copy(this.buf, this.length, from, to);
    this.length = need;
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

async function* chunks(path: string): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    const bom = first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
    first = false;
    yield bom ? chunk.subarray(3) : chunk;
  }
}

/** Non-blank lines, each a record (the scan numbered them the same way); null for a record in `drop`. */
async function* lineRecords(path: string, drop: ReadonlySet<number>): AsyncGenerator<Buffer | null> {
  const line = new RecordBuffer();
  let solid = false;
  let n = 1;
  for await (const chunk of chunks(path)) {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const to = nl < 0 ? chunk.length : nl;
      for (let i = from; i < to && !solid; i++) solid = !isWs(chunk[i] as number);
      // A broken line is never kept, however long: only the kept ones count against the record limit.
      if (!drop.has(n)) line.push(chunk, from, to, n);
      if (nl < 0) break;
      if (solid) {
        yield drop.has(n) ? null : line.take();
        n++;
      }
      line.length = 0;
      solid = false;
      from = nl + 1;
    }
  }
  if (solid) yield drop.has(n) ? null : line.take();
}

/** The elements of the top-level array, as written. */
async function* arrayRecords(path: string): AsyncGenerator<Buffer> {
  const rec = new RecordBuffer();
  let depth = 0;
  let inString = false;
  let escaped = false;
  let inElement = false;
  let n = 1;
  for await (const chunk of chunks(path)) {
    let start = inElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === 0x22) inString = false;
        continue;
      }
      if (depth === 1 && (b === 0x2c || b === 0x5d)) {
        if (inElement) {
          rec.push(chunk, start, i, n);
          inElement = false;
          yield rec.take();
          n++;
        }
        if (b === 0x5d) depth = 0;
        continue;
      }
      if (depth === 1 && !inElement && !isWs(b)) {
        inElement = true;
        start = i;
      }
      if (b === 0x22) inString = true;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) depth--;
    }
    if (inElement) rec.push(chunk, start, chunk.length, n);
  }
}

/** The record with renamed keys and each repeated key once, its last value at its first place. */
function rewriteRecord(rec: Buffer, rename: ReadonlyMap<string, string>): Buffer {
  const fields = new Map<string, [number, number]>();
  let i = skipWs(rec, 0);
  if (rec[i] !== 0x7b) return rec; // not an object: DuckDB says so, as it would of the original
  i = skipWs(rec, i + 1);
  while (i < rec.length && rec[i] !== 0x7d) {
    const keyEnd = stringEnd(rec, i);
    const key = decodeKey(rec.subarray(i + 1, keyEnd - 1));
    const valueStart = skipWs(rec, skipWs(rec, keyEnd) + 1);
    const valueEnd = valueEndAt(rec, valueStart);
    fields.set(key, [valueStart, valueEnd]);
    i = skipWs(rec, valueEnd);
    if (rec[i] === 0x2c) i = skipWs(rec, i + 1);
  }
  const parts: Buffer[] = [Buffer.from("{")];
  let first = true;
  for (const [key, [a, b]] of fields) {
    parts.push(Buffer.from(`${first ? "" : ","}${JSON.stringify(rename.get(key) ?? key)}:`), rec.subarray(a, b));
    first = false;
  }
  parts.push(Buffer.from("}"));
  return Buffer.concat(parts);
}

function skipWs(b: Buffer, i: number): number {
  while (i < b.length && isWs(b[i] as number)) i++;
  return i;
}

/** `i` at an opening quote: the index just past the closing one. */
function stringEnd(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    if (b[j] === 0x5c) j++;
    else if (b[j] === 0x22) return j + 1;
  }
  return b.length;
}

/** The index just past the value starting at `i`. */
function valueEndAt(b: Buffer, i: number): number {
  if (b[i] === 0x22) return stringEnd(b, i);
  if (b[i] === 0x7b || b[i] === 0x5b) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const c = b[j] as number;
      if (c === 0x22) j = stringEnd(b, j) - 1;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) return j + 1;
    }
    return b.length;
  }
  let j = i;
  while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && !isWs(b[j] as number)) j++;
  return j;
}
