import type { FileRecord } from "../core/file-record.js";
import type { FileState } from "../core/file-state.js";
import type { InvalidRow, ProfileValue } from "../core/profile.js";
import type { FileQuery } from "../store/state-store.js";
import type { WaitingUpload } from "./deps.js";

/** The API's vocabulary for where a file is; coarser than the state machine. */
export const API_STATUSES = ["waiting", "processing", "processed", "partial", "failed", "duplicate"] as const;
export type ApiStatus = (typeof API_STATUSES)[number];

export interface InvalidRowsPage {
  total: number;
  items: InvalidRow[];
  /** Offset of the next page, or null when this page reaches the end. */
  next_offset: number | null;
}

export interface OutputProfileView {
  kind: string;
  path: string;
  table?: string;
  row_count: number | null;
  columns: { name: string; type: string; null_count: number; min: ProfileValue; max: ProfileValue }[];
}

/** A file as the API shows it. */
export interface FileView {
  id: string;
  name: string;
  status: ApiStatus;
  upload_time: string;
  size: number;
  sha256: string | null;
  warehouse_path: string | null;
  processing_ms: number | null;
  aggregations: Record<string, unknown> | null;
  /** One entry per output processing wrote; null when no processor ran (yet). */
  profile: OutputProfileView[] | null;
  invalid_rows: InvalidRowsPage | null;
  error: { code: string; message: string; error_path: string | null } | null;
  duplicate_of: string | null;
  archive_ingest_id: string | null;
  member_path: string | null;
  ingested_at: string | null;
  /** When the file last changed state (for a failed file: when it was quarantined). */
  updated_at: string;
  /** Which generation of derived outputs `profile` describes: 0 from the ingest, +1 per reprocess. */
  generation: number;
  /** A requeued file's new attempt: the failed attempt it was handed back from. */
  requeued_from: string | null;
  /** A failed file that was requeued: its new attempt, once the pipeline recorded it. */
  requeued_to: string | null;
}

const IN_FLIGHT: readonly FileState[] = ["discovered", "hashed", "stored", "manifested"];
const FAILED: readonly FileState[] = ["quarantine", "failed"];

export function apiStatus(r: Pick<FileRecord, "state" | "processing">): ApiStatus {
  switch (r.state) {
    case "done":
      return r.processing?.status === "partial" ? "partial" : "processed";
    case "duplicate":
      return "duplicate";
    case "quarantine":
    case "failed":
      return "failed";
    default:
      return "processing";
  }
}

/**
 * The store filter that selects exactly the rows `apiStatus` maps to `status`
 * (the inverse of `apiStatus`); null for "waiting", which the store never holds.
 */
export function storeFilter(status: ApiStatus): Pick<FileQuery, "states" | "doneAs"> | null {
  switch (status) {
    case "waiting":
      return null;
    case "processing":
      return { states: [...IN_FLIGHT] };
    case "processed":
    case "partial":
      return { states: ["done"], doneAs: status };
    case "duplicate":
      return { states: ["duplicate"] };
    case "failed":
      return { states: [...FAILED] };
  }
}

/** A page of invalid rows starting at `offset`, out of `total`. */
export function invalidRowsPage(total: number, offset: number, items: InvalidRow[]): InvalidRowsPage {
  const end = offset + items.length;
  return { total, items, next_offset: end < total ? end : null };
}

function profileOf(r: FileRecord): OutputProfileView[] | null {
  if (!r.processing) return null;
  return r.processing.outputs.map((o) => {
    const table = o.table ?? o.profile?.table;
    return {
      kind: o.kind,
      path: o.path,
      ...(table !== undefined ? { table } : {}),
      row_count: o.profile?.rowCount ?? null,
      columns: (o.profile?.columns ?? []).map((c) => ({
        name: c.name,
        type: c.type,
        null_count: c.nullCount,
        min: c.min,
        max: c.max,
      })),
    };
  });
}

/** A recorded file, with the page of its invalid rows the caller fetched. */
export function fileView(r: FileRecord, invalid: InvalidRowsPage): FileView {
  return {
    id: r.ingestId,
    name: r.name,
    status: apiStatus(r),
    upload_time: r.discoveredAt,
    size: r.size,
    sha256: r.sha256,
    warehouse_path: r.warehousePath,
    processing_ms: r.processing?.processingMs ?? null,
    aggregations: r.processing?.aggregations ?? null,
    profile: profileOf(r),
    invalid_rows: invalid,
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? "", error_path: r.errorPath } : null,
    duplicate_of: r.duplicateOf,
    archive_ingest_id: r.archiveIngestId,
    member_path: r.memberPath,
    ingested_at: r.ingestedAt,
    updated_at: r.updatedAt,
    generation: r.generation ?? 0,
    requeued_from: r.requeuedFrom,
    requeued_to: r.requeuedTo,
  };
}

/** An upload the pipeline has not picked up: nothing is known beyond what was received. */
export function waitingView(w: WaitingUpload): FileView {
  return {
    id: w.id,
    name: w.name,
    status: "waiting",
    upload_time: w.uploadTime,
    size: w.size,
    sha256: null,
    warehouse_path: null,
    processing_ms: null,
    aggregations: null,
    profile: null,
    invalid_rows: null,
    error: null,
    duplicate_of: null,
    archive_ingest_id: null,
    member_path: null,
    ingested_at: null,
    updated_at: w.uploadTime,
    generation: 0,
    requeued_from: null,
    requeued_to: null,
  };
}
