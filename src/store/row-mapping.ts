import type { FileRecord } from "../core/file-record.js";
import type { FileState } from "../core/file-state.js";

export interface FileRow {
  ingest_id: string;
  source_path: string;
  name: string;
  device: number;
  inode: number;
  size: number;
  mtime_ms: number;
  sha256: string | null;
  state: string;
  warehouse_path: string | null;
  duplicate_of: string | null;
  sidecar_path: string | null;
  ingested_at: string | null;
  manifest_path: string | null;
  error_code: string | null;
  error_message: string | null;
  error_path: string | null;
  attempts: number;
  discovered_at: string;
  updated_at: string;
  archive_ingest_id: string | null;
  member_path: string | null;
  member_index: number | null;
  processing: string | null;
  requeued_from?: string | null;
  requeued_to?: string | null;
}

export function toRecord(r: FileRow): FileRecord {
  return {
    ingestId: r.ingest_id,
    sourcePath: r.source_path,
    name: r.name,
    device: r.device,
    inode: r.inode,
    size: r.size,
    mtimeMs: r.mtime_ms,
    sha256: r.sha256,
    state: r.state as FileState,
    warehousePath: r.warehouse_path,
    duplicateOf: r.duplicate_of,
    sidecarPath: r.sidecar_path,
    ingestedAt: r.ingested_at,
    manifestPath: r.manifest_path,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    errorPath: r.error_path,
    attempts: r.attempts,
    discoveredAt: r.discovered_at,
    updatedAt: r.updated_at,
    archiveIngestId: r.archive_ingest_id,
    memberPath: r.member_path,
    memberIndex: r.member_index,
    processing: r.processing ? JSON.parse(r.processing) : null,
    requeuedFrom: r.requeued_from ?? null,
    requeuedTo: r.requeued_to ?? null,
  };
}
