import type { FileRecord } from "../core/file-record.js";
import type { FileState } from "../core/file-state.js";
import type { OutboxRow } from "./outbox-types.js";
import type { HistoryEntry, ReprocessIntent } from "./state-store.js";

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
  generation?: number | null;
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
    generation: Number(r.generation ?? 0),
  };
}

/** A `reprocessing` row (issue 21), as both dialects return it. */
export interface IntentRow {
  ingest_id: string;
  generation: number;
  phase: string;
  owner: string;
  started_at: string;
  heartbeat_at: string;
  new_outputs: string | null;
  old_outputs: string | null;
  manifest_path: string | null;
}

export function toIntent(r: IntentRow): ReprocessIntent {
  return {
    ingestId: r.ingest_id,
    generation: Number(r.generation),
    phase: r.phase as ReprocessIntent["phase"],
    owner: r.owner,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    newOutputs: r.new_outputs ? (JSON.parse(r.new_outputs) as string[]) : [],
    oldOutputs: r.old_outputs ? (JSON.parse(r.old_outputs) as string[]) : [],
    manifestPath: r.manifest_path,
  };
}

/** A `file_history` row (issue 21). */
export interface HistoryRow {
  generation: number;
  recorded_at: string;
  kind: string;
  processing: string | null;
}

export function toHistory(r: HistoryRow): HistoryEntry {
  return {
    generation: Number(r.generation),
    recordedAt: r.recorded_at,
    kind: r.kind as HistoryEntry["kind"],
    processing: r.processing ? JSON.parse(r.processing) : null,
  };
}

/** An outbox row as both dialects return it. */
export interface OutboxDbRow {
  event_id: string;
  target: string;
  ingest_id: string;
  type: string;
  payload: string;
  created_at: string;
  attempts: number;
}

export function toOutboxRow(r: OutboxDbRow): OutboxRow {
  return {
    eventId: r.event_id,
    target: r.target,
    ingestId: r.ingest_id,
    type: r.type,
    payload: r.payload,
    createdAt: r.created_at,
    attempts: r.attempts,
  };
}
