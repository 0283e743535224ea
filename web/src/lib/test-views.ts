import type { FileView, Status } from "../api/types";

/** A file view as the API would send it, for the dashboard's unit tests. */
export function view(id: string, status: Status = "processed", extra: Partial<FileView> = {}): FileView {
  return {
    id,
    name: `${id}.csv`,
    status,
    upload_time: "2026-11-24T12:00:00.000Z",
    size: 10,
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
    updated_at: "2026-11-24T12:00:00.000Z",
    generation: 0,
    requeued_from: null,
    requeued_to: null,
    ...extra,
  };
}
