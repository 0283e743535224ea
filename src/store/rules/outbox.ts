import type { ProcessingRecordV1 } from "../../core/processing.js";
import type { NotifyStamp, OutboxInsert } from "../outbox-types.js";
import type { FileRow } from "../row-mapping.js";
import { ask, type Rule } from "./steps.js";
import type { StoreDialect } from "./store-dialect.js";

/** The CloudEvent types sluice emits; `reprocessed` is written by the reprocess rule. */
export const EVENT_KINDS = ["ingested", "duplicate", "failed", "processed", "reprocessed"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One event before it is fanned out to the targets. */
export interface PendingEvent {
  /** Deterministic: `<ingest_id>:<kind>` (`:<generation>` for reprocessed), so a replay carries the same id. */
  id: string;
  kind: EventKind;
  ingestId: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
}

/**
 * The one way any rule writes notifications: each event, once per target, in the caller's transaction (the state
 * it reports commits with it, or neither does). A row that exists already (a replayed batch) is left as it is.
 * No stamp or no targets: nothing is written, nothing costs.
 */
export function* enqueueEvents(d: StoreDialect, stamp: NotifyStamp | undefined, events: PendingEvent[]): Rule<void> {
  if (!stamp || stamp.targets.length === 0 || events.length === 0) return;
  const rows: OutboxInsert[] = [];
  for (const e of events) {
    const payload = JSON.stringify({
      specversion: "1.0",
      id: e.id,
      source: stamp.source,
      type: `sluice.file.${e.kind}`,
      subject: e.subject,
      time: e.time,
      datacontenttype: "application/json",
      data: e.data,
    });
    for (const target of stamp.targets)
      rows.push({
        eventId: e.id,
        target,
        ingestId: e.ingestId,
        type: `sluice.file.${e.kind}`,
        payload,
        createdAt: e.time,
      });
  }
  yield* ask(d.insertOutbox(rows));
}

const TERMINAL_KIND: Record<string, EventKind | undefined> = {
  done: "ingested",
  duplicate: "duplicate",
  failed: "failed",
};

/**
 * The events of files about to enter a terminal state, built from their rows before the update (read in the
 * same transaction). A row already in that state (a repeated finish) gets none: its event was written when it
 * got there.
 */
export function* terminalEvents(
  d: StoreDialect,
  changes: { id: string; state: string; now: string; notify?: NotifyStamp | undefined }[],
): Rule<PendingEvent[]> {
  const wanted = changes.filter((c) => c.notify && c.notify.targets.length > 0 && TERMINAL_KIND[c.state]);
  if (wanted.length === 0) return [];
  const rows = new Map((yield* ask(d.fileRows(wanted.map((c) => c.id)))).map((r) => [r.ingest_id, r]));
  const out: PendingEvent[] = [];
  for (const c of wanted) {
    const row = rows.get(c.id);
    if (!row || row.state === c.state) continue;
    const kind = TERMINAL_KIND[c.state] as EventKind;
    const data = fileSnapshot({ ...row, state: c.state, updated_at: c.now });
    const base = { ingestId: c.id, subject: row.name, time: c.now, data };
    out.push({ ...base, id: `${c.id}:${kind}`, kind });
    const p = data.processing as { outputs: unknown[] } | null;
    if (kind === "ingested" && p && p.outputs.length > 0)
      out.push({ ...base, id: `${c.id}:processed`, kind: "processed" });
  }
  return out;
}

/** The event's `data`: the file as its row says at the state change. */
export function fileSnapshot(r: FileRow): Record<string, unknown> {
  const doc = typeof r.processing === "string" ? (JSON.parse(r.processing) as ProcessingRecordV1) : null;
  return {
    ingest_id: r.ingest_id,
    name: r.name,
    state: r.state,
    sha256: r.sha256,
    size: Number(r.size),
    warehouse_path: r.warehouse_path,
    duplicate_of: r.duplicate_of,
    error: r.error_code ? { code: r.error_code, message: r.error_message } : null,
    ingested_at: r.ingested_at,
    manifest_path: r.manifest_path,
    archive_ingest_id: r.archive_ingest_id,
    member_path: r.member_path,
    // A requeued file's new attempt names the failed attempt it came from (issue 21, requeue).
    requeued_from: r.requeued_from ?? null,
    generation: Number(r.generation ?? 0),
    processing: doc
      ? {
          processor: doc.processor,
          status: doc.status,
          outputs: doc.outputs.map((o) => ({
            kind: o.kind,
            path: o.path,
            ...(o.table ? { table: o.table } : {}),
            ...(o.profile ? { rows: o.profile.rowCount } : {}),
          })),
          invalid_count: doc.invalidCount ?? 0,
        }
      : null,
  };
}
