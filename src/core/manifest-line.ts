/** One line of `MANIFESTS/YYYY/MM/DD/HH/manifest.jsonl`. Versioned: readers check `version`. */
export interface ManifestLineV1 {
  version: 1;
  ingest_id: string;
  /**
   * `reprocessed` (issue 21): the file's outputs were derived again from its stored raw bytes; the line carries
   * the new `generation` and processing summary, and is written once per generation beside the ingest's line.
   */
  status: "ingested" | "duplicate" | "reprocessed";
  path: string;
  name: string;
  sha256: string;
  device: number;
  inode: number;
  size: number;
  mtime: string;
  warehouse_path: string;
  ingested_at: string;
  duplicate_of?: string;
  /** Archive members: the archive's ingest id and the member's path inside it. */
  archive_ingest_id?: string;
  member_path?: string;
  /** `reprocessed` lines: which generation of outputs this is (1, 2, …) and when it became current. */
  generation?: number;
  reprocessed_at?: string;
  /** Files a processor handled (added fields: readers of version 1 ignore what they do not know). */
  processing?: ManifestProcessing;
}

/** The manifest's summary of processing; state holds the whole (every invalid row). */
export interface ManifestProcessing {
  processor: string;
  status: string;
  /** Each output with its profile: row count and, per column, type, null count, min and max. */
  outputs: {
    kind: string;
    path: string;
    table?: string;
    row_count?: number;
    /** `source`: the column's name in the file, when it is not `name` (see ColumnProfile.source). */
    columns?: { name: string; source?: string; type: string; null_count: number; min: unknown; max: unknown }[];
  }[];
  aggregations?: Record<string, unknown>;
  invalid_count?: number;
  /** The first MANIFEST_INVALID_ROWS invalid rows; `invalid_rows_more` says how many are left out. */
  invalid_rows?: { row: number; error: string }[];
  invalid_rows_more?: number;
  members?: Record<string, number>;
  note?: string;
  /** CSV/TSV: how the file was read (ProcessingRecordV1.dialect, in snake case). */
  dialect?: {
    delimiter: string;
    quote: string;
    escape: string;
    header: string;
    preamble_lines: number;
    footer_lines: number;
    encoding: string;
  };
  /** JSON/JSONL: records holding a key more than once (the last value kept). */
  duplicate_keys?: { count: number; records: number[] };
  processing_ms: number;
}

export const MANIFEST_INVALID_ROWS = 20;
