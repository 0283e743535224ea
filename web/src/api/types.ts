/** The public API's shapes (see GET /api/v1/openapi.json); the dashboard reads nothing else. */

export const STATUSES = ["waiting", "processing", "processed", "partial", "failed", "duplicate"] as const;
export type Status = (typeof STATUSES)[number];

export interface InvalidRow {
  row: number;
  error: string;
}

export interface InvalidRowsPage {
  total: number;
  items: InvalidRow[];
  next_offset: number | null;
}

export type ProfileValue = string | number | boolean | null;

export interface OutputProfile {
  kind: string;
  path: string;
  table?: string;
  row_count: number | null;
  columns: { name: string; type: string; null_count: number; min: ProfileValue; max: ProfileValue }[];
}

export interface FileView {
  id: string;
  name: string;
  status: Status;
  upload_time: string;
  size: number;
  sha256: string | null;
  warehouse_path: string | null;
  processing_ms: number | null;
  aggregations: Record<string, unknown> | null;
  profile: OutputProfile[] | null;
  invalid_rows: InvalidRowsPage | null;
  error: { code: string; message: string; error_path: string | null } | null;
  duplicate_of: string | null;
  archive_ingest_id: string | null;
  member_path: string | null;
  ingested_at: string | null;
  updated_at: string;
  /** Which generation of derived outputs `profile` describes: 0 from the ingest, +1 per reprocess. */
  generation: number;
  /** A requeued file's new attempt: the failed attempt it was handed back from. */
  requeued_from: string | null;
  /** A failed file that was requeued: its new attempt, once the pipeline recorded it. */
  requeued_to: string | null;
}

/** POST /api/v1/files/{id}/requeue's answer: the file is back in staging, waiting for the pipeline. */
export interface RequeueAccepted {
  id: string;
  status: "pending";
  name: string;
}

/** One generation of a file's derived outputs (GET /api/v1/files/{id}/history). */
export interface HistoryEntry {
  generation: number;
  kind: "ingested" | "reprocessed";
  /** When this generation became current. */
  recorded_at: string | null;
  /** processed, partial; null when no processor ran. */
  status: string | null;
  schema: string | null;
  outputs: { kind: string; path: string; table?: string; row_count: number | null }[];
  aggregations: Record<string, unknown> | null;
  invalid_count: number | null;
}

/** GET /api/v1/files/{id}/history's answer: oldest generation first. */
export interface FileHistory {
  id: string;
  generation: number;
  items: HistoryEntry[];
}

export interface FilePage {
  items: FileView[];
  next_cursor: string | null;
}

export interface ThroughputPoint {
  t: number;
  files: number;
  bytes: number;
  seconds: number;
}

export interface Stats {
  counts: { ingested: number; duplicates: number; failed: number; processing: number; waiting: number };
  activity: { queue_depth: number; in_flight: number; pending: number; warehouse_waiting: number };
  health: { state: boolean; warehouse: boolean; detail?: string };
  throughput: { bucket_seconds: number; points: ThroughputPoint[] };
}

export interface UploadAccepted {
  files: { id: string; name: string; status: Status }[];
}

export interface ApiErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}
