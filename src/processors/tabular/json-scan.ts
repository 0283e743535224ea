import { createReadStream } from "node:fs";
import { type KeyFacts, KeyTracker } from "./json-keys.js";
import { JsonSyntax } from "./json-syntax.js";

/** Records nested deeper than this are not converted: DuckDB's type detection gets slow (and crashes far deeper). */
export const MAX_RECORD_DEPTH = 64;
/** A JSONL file with more unreadable lines than this is garbage, not a table with some bad rows. */
export const MAX_BAD_LINES = 1_000_000;

export interface JsonProblem {
  message: string;
  line: number;
  /** 1-based element (array) or record (JSONL) the problem is in. */
  record?: number;
}

export type ArrayScan =
  | { kind: "error"; problem: JsonProblem }
  | { kind: "encoding"; message: string }
  | { kind: "not-table"; why: string }
  | { kind: "table"; records: number; keys: KeyFacts };

const CHUNK = 1 << 20;

function bomLength(chunk: Buffer): number {
  return chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
}

function isUtf16(chunk: Buffer): boolean {
  return (chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff);
}

/** Checks a `.json` file end to end: it is a table only if it is an array of objects of sane depth. */
export async function scanJsonArray(path: string): Promise<ArrayScan> {
  const syn = new JsonSyntax();
  const keys = new KeyTracker(syn, 2);
  let top: number | null = null;
  let elements = 0;
  let firstNonObject: number | null = null;
  syn.onValue = (v) => {
    if (v.depth === 0) top = v.byte;
    else if (v.depth === 1 && v.inArray) {
      elements++;
      if (v.byte !== 0x7b && firstNonObject === null) firstNonObject = elements;
    }
  };
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    let from = 0;
    if (first) {
      first = false;
      if (isUtf16(chunk)) return { kind: "encoding", message: "JSON must be UTF-8 (RFC 8259); this file is UTF-16" };
      from = bomLength(chunk);
    }
    if (!syn.feed(chunk, from)) break;
  }
  // RFC 8259: a JSON text is one value. An empty (or blank) `.json` is none, so it is refused like any other
  // text that is not JSON, not kept as "no table" the way an empty CSV or JSON Lines file is.
  if (syn.error === null && syn.empty) {
    return {
      kind: "error",
      problem: { message: "the file holds no JSON value (it is empty or blank)", line: syn.line },
    };
  }
  if (!syn.end()) {
    const inRecord = top === 0x5b && elements > 0 ? { record: elements } : {};
    return { kind: "error", problem: { message: syn.error ?? "invalid JSON", line: syn.line, ...inRecord } };
  }
  if (top === 0x7b) return { kind: "not-table", why: "the JSON value is an object, not an array of records" };
  if (top !== 0x5b) return { kind: "not-table", why: "the JSON value is a scalar, not an array of records" };
  if (elements === 0) return { kind: "not-table", why: "the JSON array is empty" };
  if (firstNonObject !== null) {
    return { kind: "not-table", why: `element ${firstNonObject} of the JSON array is not an object` };
  }
  if (syn.maxDepth - 1 > MAX_RECORD_DEPTH) {
    return { kind: "not-table", why: `records are nested deeper than ${MAX_RECORD_DEPTH} levels` };
  }
  return { kind: "table", records: elements, keys: keys.facts() };
}

export interface LinesScan {
  /** Non-blank lines: the records, good or bad. */
  records: number;
  /** Records that are not a JSON object on one line, in order. */
  bad: JsonProblem[];
  /** Set when the file is not UTF-8. */
  encoding?: string;
  /** The keys of the good records. */
  keys: KeyFacts;
  /** The file starts with a UTF-8 byte-order mark (which DuckDB's JSON Lines reader refuses). */
  bom: boolean;
}

/**
 * Checks a JSONL file line by line. Blank lines are not records; every other
 * line must hold one JSON object (a line that is valid JSON but not an object
 * is a bad record too: it has no columns).
 */
export async function scanJsonLines(path: string): Promise<LinesScan> {
  const syn = new JsonSyntax();
  const keys = new KeyTracker(syn, 1);
  let topByte = 0;
  syn.onValue = (v) => {
    if (v.depth === 0) topByte = v.byte;
  };
  const out = { records: 0, bad: [] as JsonProblem[], bom: false };
  let line = 1;
  const finishLine = (): void => {
    if (syn.error === null && syn.empty) {
      syn.reset();
      return;
    }
    out.records++;
    let why: string | null = null;
    if (syn.error !== null || !syn.end()) why = syn.error ?? "invalid JSON";
    else if (topByte !== 0x7b) why = "the line is valid JSON but not an object";
    else if (syn.maxDepth - 1 > MAX_RECORD_DEPTH) why = `the record is nested deeper than ${MAX_RECORD_DEPTH} levels`;
    if (why !== null && out.bad.length < MAX_BAD_LINES) out.bad.push({ message: why, line, record: out.records });
    keys.endRecord(why === null, out.records);
    syn.reset();
  };
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    let from = 0;
    if (first) {
      first = false;
      if (isUtf16(chunk)) {
        const encoding = "JSON Lines must be UTF-8; this file is UTF-16";
        return { records: 0, bad: [], encoding, keys: keys.facts(), bom: false };
      }
      from = bomLength(chunk);
      out.bom = from > 0;
    }
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const to = nl < 0 ? chunk.length : nl;
      if (syn.error === null) syn.feed(chunk, from, to);
      if (nl < 0) break;
      finishLine();
      line++;
      from = nl + 1;
    }
  }
  finishLine();
  return { ...out, keys: keys.facts() };
}
