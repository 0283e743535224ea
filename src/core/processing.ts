import type { InvalidRow, TableProfile } from "../processors/profile.js";

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
