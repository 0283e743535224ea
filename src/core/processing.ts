import type { InvalidRow, TableProfile } from "./profile.js";

/** How a processed file came out: the vocabulary for tabular files and archives. */
export type ProcessingStatus = "processed" | "partial" | "failed";

/** One file a processor wrote beside the raw file (a Parquet table, or the rejects list). */
export interface ProcessingOutput {
  kind: "parquet" | "rejects";
  path: string;
  table?: string;
  profile?: TableProfile;
}

/**
 * How a CSV/TSV file was read: detected from its first (and last) bytes, whatever its extension says
 * (src/processors/tabular/csv-dialect.ts, csv-layout.ts).
 */
export interface CsvDialectSummary {
  delimiter: string;
  quote: string;
  /** The quote itself (`""` inside quotes) or a backslash (`\"`). */
  escape: string;
  /**
   * present: the first row of the table names the columns; absent: it is data, names are generated (`column0`…);
   * repaired: it had one field too many (an empty one, dropped) or too few (the last column's name generated);
   * damaged: it had one field too many and no empty one, so its names cannot be matched to the columns: names
   * are generated and the row is skipped.
   */
  header: "present" | "absent" | "repaired" | "damaged";
  /** Lines before the header (or the first row): blank lines, titles, notes. */
  preambleLines: number;
  /** Lines after the table, separated from it by a blank line: footnotes, totals. Not rows. */
  footerLines: number;
  encoding: "utf-8" | "utf-16le";
}

/**
 * What processing produced for one file, persisted as JSON in state and
 * summarised on the manifest line. Versioned like every stored document.
 */
export interface ProcessingRecordV1 {
  version: 1;
  processor: "tabular" | "sql-dump" | "archive";
  status: ProcessingStatus;
  outputs: ProcessingOutput[];
  /** Schema'd files: valid row count, min/max, per-key counts. */
  aggregations?: Record<string, unknown>;
  schema?: string;
  invalidCount?: number;
  /** Archives: what happened to the members. */
  members?: { files: number; ingested: number; duplicate: number; failed: number; rejected: number };
  /** Why there is no table although the name suggested one (a JSON object, an empty file). */
  note?: string;
  /** CSV/TSV: the dialect and layout that were detected. */
  dialect?: CsvDialectSummary;
  /**
   * JSON/JSONL: records holding a key more than once (valid JSON; the last value is the one kept, as JSON.parse
   * does): how many, and the first 20 record numbers (1-based data rows).
   */
  duplicateKeys?: { count: number; records: number[] };
  /** false when the archive's own bytes were not kept (`--no-keep-archives`): only its members are stored. */
  rawKept?: boolean;
  processingMs: number;
}

/** A processor's full result: the record plus every invalid row (kept in state, capped on the manifest). */
export interface ProcessingResult {
  record: ProcessingRecordV1;
  invalidRows: InvalidRow[];
  /** The raw file is not to be stored (an expanded archive under `--no-keep-archives`). */
  rawDiscarded?: boolean;
}
