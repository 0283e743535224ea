import { columnNames } from "./column-names.js";
import type { JsonSyntax } from "./json-syntax.js";

/** More distinct record keys than this is no table DuckDB can hold as columns: the file is noted, not converted. */
export const MAX_COLUMNS = 10_000;
/** How many record numbers a note lists (the count is always exact). */
export const MAX_NOTED_RECORDS = 20;

/** What the keys of a JSON file's records say about the columns it makes. */
export interface KeyFacts {
  /** Distinct keys of the records, in the order first seen: the columns, by their source names. */
  keys: string[];
  /** More than MAX_COLUMNS distinct keys: `keys` stops there. */
  tooManyKeys: boolean;
  /** Records holding a key twice or more (RFC 8259 allows it; the last value counts, as for JSON.parse). */
  duplicates: { count: number; records: number[] };
  /**
   * Record keys whose values hold an integer outside the 64-bit range (anywhere inside): DuckDB would read a
   * DOUBLE and lose digits, so these columns are read as JSON text, exact.
   */
  exactKeys: Set<string>;
  /**
   * Some nested object has a key DuckDB cannot name a STRUCT field after (empty, with a control character, or
   * repeated or differing only in case from a sibling): nested values are then read as JSON text.
   */
  nestedOdd: boolean;
}

const utf8 = new TextDecoder();

/** A key as written (the bytes between its quotes, syntax already checked) as the string it means. */
export function decodeKey(raw: Uint8Array): string {
  const text = utf8.decode(raw);
  if (!raw.includes(0x5c)) return text;
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    // Only a key cut at MAX_KEY_BYTES inside an escape gets here: its record is far over DuckDB's limit anyway.
    return text;
  }
}

/**
 * Follows the keys of every object through a JsonSyntax's events. Records are the objects at `recordDepth`
 * (1 for JSON Lines, 2 for the elements of a JSON array); a record's keys count only once `endRecord(true)`
 * accepts it, so a broken JSONL line adds no column. Memory: the keys of the open objects of one record, plus
 * the distinct record keys (at most MAX_COLUMNS).
 */
export class KeyTracker {
  private readonly distinct = new Set<string>();
  private readonly order: string[] = [];
  private tooMany = false;
  private dupCount = 0;
  private readonly dupRecords: number[] = [];
  private nestedOdd = false;
  /** Keys of each open object by depth (case-folded for nested objects, whose field names DuckDB folds). */
  private readonly open: (Set<string> | undefined)[] = [];
  private recordKeys: string[] = [];
  private recordDup = false;
  private arrayRecords = 0;
  /** The record key whose value is being read. */
  private current: string | null = null;
  private readonly exact = new Set<string>();
  private recordExact: string[] = [];

  /**
   * `recordDepth` 2: the records are a JSON array's elements, each ending when it closes. 1: JSON Lines, whose
   * caller ends each record at its line's end with its verdict.
   */
  constructor(
    syn: JsonSyntax,
    private readonly recordDepth: 1 | 2,
  ) {
    syn.onKey = (raw, depth) => this.key(decodeKey(raw), depth);
    syn.onBigInteger = (depth) => {
      if (depth >= recordDepth && this.current !== null) this.recordExact.push(this.current);
    };
    syn.onClose = (depth) => {
      // Only objects have a set (an array 100,000 deep must not grow this to 100,000 slots).
      if (depth < this.open.length) this.open[depth] = undefined;
      if (depth === 2 && recordDepth === 2) this.endRecord(true, ++this.arrayRecords);
    };
  }

  private key(key: string, depth: number): void {
    let seen = this.open[depth];
    if (!seen) {
      seen = new Set();
      this.open[depth] = seen;
    }
    if (depth === this.recordDepth) {
      this.current = key;
      if (seen.has(key)) this.recordDup = true;
      else this.recordKeys.push(key);
      seen.add(key);
      return;
    }
    if (depth < this.recordDepth) return;
    const folded = key.toLowerCase();
    if (seen.has(folded) || columnNames([key])[0] !== key) this.nestedOdd = true;
    seen.add(folded);
  }

  /** The record that just ended: its keys become columns if it is `good`; `n` is its 1-based record number. */
  endRecord(good: boolean, n: number): void {
    if (good) {
      for (const k of this.recordKeys) {
        if (this.distinct.has(k)) continue;
        if (this.distinct.size >= MAX_COLUMNS) {
          this.tooMany = true;
          break;
        }
        this.distinct.add(k);
        this.order.push(k);
      }
      if (this.recordDup) {
        this.dupCount++;
        if (this.dupRecords.length < MAX_NOTED_RECORDS) this.dupRecords.push(n);
      }
      for (const k of this.recordExact) this.exact.add(k);
    }
    this.recordKeys = [];
    this.recordDup = false;
    this.recordExact = [];
    this.current = null;
    this.open.length = 0;
  }

  facts(): KeyFacts {
    return {
      keys: this.order,
      tooManyKeys: this.tooMany,
      duplicates: { count: this.dupCount, records: this.dupRecords },
      exactKeys: this.exact,
      nestedOdd: this.nestedOdd,
    };
  }
}
