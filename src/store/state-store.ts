import type { FileRecord } from "../core/file-record.js";
import type { FileState } from "../core/file-state.js";
import type { ProcessingRecordV1, ProcessingResult } from "../core/processing.js";
import type { InvalidRow } from "../core/profile.js";
import type { NotifyStamp, OutboxBacklog, OutboxClaim, OutboxKey, OutboxRetry, OutboxRow } from "./outbox-types.js";
import type { PrunedOriginal, PruneTally, ReclaimReport } from "./rules/prune.js";

/** A file as first seen ready, before anything durable happened to it. */
export interface NewFile {
  ingestId: string;
  sourcePath: string;
  name: string;
  device: number;
  inode: number;
  size: number;
  mtimeMs: number;
  sidecarPath: string | null;
  /** Set for a member of an archive: the archive's ingest id, the member's path in it and its position. */
  archiveIngestId?: string | null;
  memberPath?: string | null;
  memberIndex?: number | null;
}

/** Where the warehouse copy should go: a partition directory and the preferred file name. */
export interface PlacementRequest {
  partitionDir: string;
  baseName: string;
  /** Deterministic alternative used when `baseName` is taken that day by other content. */
  collisionName: string;
  ingestedAt: string;
  manifestPath: string;
}

export type Decision =
  | { kind: "new"; warehousePath: string }
  | { kind: "duplicate"; duplicateOf: string; warehousePath: string }
  /** The same content is being ingested by another file right now: try again shortly. */
  | { kind: "wait"; ownerId: string };

export interface ErrorInfo {
  code: string;
  message: string;
  attempts: number;
}

/** What `listFiles` returns: a page of files, newest first. */
export interface FileQuery {
  /** Only rows in these states (all states when absent). */
  states?: FileState[];
  /**
   * Narrows `done` rows by how processing came out (it lives in the processing
   * document, not in the state): "partial" keeps those with invalid rows,
   * "processed" the others, including files no processor handled. Rows in
   * other states are not affected.
   */
  doneAs?: "processed" | "partial";
  /** Case-insensitive substring of the name. */
  nameContains?: string;
  limit: number;
  /** Keyset pagination: the last row of the previous page; only rows after it (older) are returned. */
  after?: { discoveredAt: string; ingestId: string };
}

/** A failed file handed back by `sluice requeue`: the durable intent the pipeline's decide links a new attempt to. */
export interface RequeueIntent {
  failedId: string;
  /** The name (relative to staging) the file is handed back under, and that the new attempt is matched by. */
  name: string;
  /** The failed row's content hash when it was hashed: a file of that name with other bytes is not linked. */
  sha256: string | null;
  requestedAt: string;
  /** The new attempt, once linked (in the same transaction as its decide). */
  newId: string | null;
}

/** What `requestRequeue` found, and did. */
export type RequeueRequest =
  /** The intent was recorded now (or before, not linked yet: `again`): hand the file back. */
  | { kind: "pending"; intent: RequeueIntent; again: boolean }
  /** Requeued already: the new attempt exists. */
  | { kind: "linked"; intent: RequeueIntent; newId: string }
  | { kind: "not-failed"; state: string }
  | { kind: "unknown" };

/** Failed rows not requeued yet, for `sluice requeue --failed`: oldest failure first. */
export interface FailedQuery {
  code?: string;
  /** Failed at or after this instant (ISO-8601). */
  since?: string;
  limit: number;
  /** Keyset: only rows after this one (updated_at, ingest_id). */
  after?: { updatedAt: string; ingestId: string };
}

/**
 * What several nodes sharing one state need on top of the state machine:
 * liveness, one node per staging name at a time, and adoption of a dead
 * node's unfinished files. Present only on a multi-writer store.
 */
export interface NodeLeases {
  /** Lease length in seconds: a node silent this long is presumed dead. */
  readonly leaseSeconds: number;
  /**
   * Registers this process as the node (at once when a previous process
   * under the same id is dead; refused while one is alive) and drops the
   * claims a previous run of it left.
   */
  join(onWait?: (waitedMs: number) => void): Promise<void>;
  /** Proves this node alive and extends every claim it holds; throws if another process took the id over. */
  heartbeat(): Promise<void>;
  /**
   * Claims a staging name for this node; false while another live node holds
   * it, or while a file of that name is still being finished by any node
   * (recovery or adoption), whose work must not be started a second time.
   * `takeOver: false` never takes an expired claim from another node (right
   * after a database outage every lease looks expired).
   */
  claimSource(name: string, takeOver?: boolean): Promise<boolean>;
  releaseSource(name: string): Promise<void>;
  /**
   * Takes over (at most `limit`) unfinished rows of nodes whose lease ran
   * out, skipping rows another node is adopting at the same moment; the
   * caller finishes them as its own recovery would.
   */
  adoptOrphans(limit: number): Promise<FileRecord[]>;
  /** A clean stop: this node's claims go (its rows are all finished or left for its next start). */
  leave(): Promise<void>;
  /**
   * Since when (epoch ms) this process has held its node's liveness lock without a break, null while it does
   * not. After a break (the database restarted) other nodes' locks were gone too, until they took them again.
   */
  lockedSince(): number | null;
  /**
   * Whether an S3 multipart upload of the object `uri` may belong to live work: an unfinished file, owned by a
   * node whose heartbeat is within the lease (this node too when `includeSelf`), whose warehouse path is `uri`
   * or whose outputs sit beside it (`uri` begins with that path and a dot).
   */
  uploadMayBeLive(uri: string, includeSelf: boolean): Promise<boolean>;
}

/**
 * The durable per-file state machine. Every mutating call resolves only once
 * the change is durable (group-committed with other files' changes).
 */
export interface StateStore extends ReprocessState {
  readonly capabilities: { multiWriter: boolean };
  /** Set on a store several nodes share. */
  readonly leases?: NodeLeases;
  recordDiscovered(file: NewFile): Promise<void>;
  /**
   * Not ready after all (it changed while hashed, or while uploaded): drop the
   * row and its content claim. Only before anything was stored (`discovered`
   * or `hashed`); a later row is left alone.
   */
  forget(ingestId: string): Promise<void>;
  /**
   * Claims the content (unique by SHA-256) or finds its owner, and reserves a
   * warehouse path. Inserts the row first if `recordDiscovered` was skipped
   * (small files are hashed faster than a separate commit would take).
   */
  decide(file: NewFile, sha256: string, placement: PlacementRequest): Promise<Decision>;
  /** The reserved path was occupied by a foreign file: move the reservation. */
  reassignPath(ingestId: string, warehousePath: string): Promise<void>;
  /**
   * The landed bytes differ from what was hashed (a writer kept writing):
   * move the content claim to the new hash. "duplicate" when those bytes are
   * already stored by another file, "wait" while that file is in flight.
   */
  rehash(
    ingestId: string,
    sha256: string,
    now: { size: number; mtimeMs: number },
    at: { ingestedAt: string; manifestPath: string },
  ): Promise<"new" | "duplicate" | "wait">;
  /** The content is in the warehouse; what processing produced is committed in the same transaction. */
  markStored(ingestId: string, ingestedAt: string, manifestPath: string, processing?: ProcessingResult): Promise<void>;
  markManifested(ingestId: string): Promise<void>;
  finish(ingestId: string, state: "done" | "duplicate"): Promise<void>;
  /** Releases the content claim and records where the file is being moved. */
  beginQuarantine(ingestId: string, error: ErrorInfo, errorPath: string | null): Promise<void>;
  finishFailed(ingestId: string): Promise<void>;
  get(ingestId: string): Promise<FileRecord | undefined>;
  /** Is `path` reserved as the warehouse name of a stored (or storing) file? */
  isReserved(path: string): Promise<boolean>;
  /** The row of an archive's member, if a previous attempt recorded it. */
  member(archiveIngestId: string, memberIndex: number): Promise<FileRecord | undefined>;
  /** A page of a file's invalid rows, in row order. */
  invalidRows(ingestId: string, offset: number, limit: number): Promise<InvalidRow[]>;
  /** How many invalid rows a file has in all. */
  invalidRowCount(ingestId: string): Promise<number>;
  /** Files newest first (discovery time, then id), filtered; for the HTTP API. */
  listFiles(q: FileQuery): Promise<FileRecord[]>;
  /** Rows not in a terminal state, oldest first: the work recovery must finish. */
  activeRecords(): Promise<FileRecord[]>;
  /** Counts by state, for reports. */
  countByState(): Promise<Record<string, number>>;
  /**
   * Notifications (the transactional outbox): from now on, every file this process finishes as done, duplicate or
   * failed gets its events written for these targets in the transaction of that state. null: none (the default).
   */
  notifyTo(stamp: NotifyStamp | null): void;
  /**
   * Outbox rows due for delivery to `targets`, at most `limit`, oldest due first. On a shared store they are
   * leased to `owner` for `leaseMs` (skipping rows another node holds), so one node at a time delivers an event.
   */
  claimOutbox(q: OutboxClaim): Promise<OutboxRow[]>;
  /** After a round of deliveries: delivered rows go, failed ones get their next try. Its own transaction. */
  settleOutbox(delivered: OutboxKey[], retries: OutboxRetry[]): Promise<void>;
  /** Undelivered events per target (every target with rows, configured or not). */
  outboxBacklog(): Promise<OutboxBacklog[]>;
  /**
   * Records, in one transaction, that the failed row `failedId` is handed back to staging (`sluice requeue`);
   * an intent already recorded is returned as it is (a rerun continues it), a failed row already requeued says so.
   * The pipeline's `decide` links the first file of the intent's name (and bytes, when known) to it. `sha256` is
   * the hash of the copy handed back (the row's own when not given).
   */
  requestRequeue(failedId: string, sha256?: string | null): Promise<RequeueRequest>;
  /** Drops an intent nothing was linked to yet (its copy could not be handed back); false when it was linked. */
  cancelRequeue(failedId: string): Promise<boolean>;
  /** The intent recorded for a failed row, if any. */
  requeueIntent(failedId: string): Promise<RequeueIntent | undefined>;
  /** Failed rows with a copy in the error directory and no new attempt yet (a pending intent included). */
  failedFiles(q: FailedQuery): Promise<FileRecord[]>;
  /**
   * `sluice prune`, one batch (rules/prune.ts): deletes up to `limit` finished rows last changed before `cutoff`
   * (ISO-8601) with their detail, in one transaction, an original's content row keeping what dedupe needs. A
   * tally with no files means nothing is left to prune.
   */
  pruneBatch(cutoff: string, limit: number): Promise<PruneTally>;
  /** What pruning at `cutoff` would delete, changing nothing (`prune --dry-run`). */
  countPrunable(cutoff: string): Promise<PruneTally>;
  /** Bytes the state takes now (SQLite: the database's pages; PostgreSQL: its tables with indexes and TOAST). */
  stateBytes(): Promise<number>;
  /** Gives the space of deleted rows back, as far as it can while other processes use the state. */
  reclaimSpace(): Promise<ReclaimReport>;
  /** Originals whose rows were pruned, by SHA-256 after `afterSha` (keyset pages): verify still accounts for them. */
  prunedOriginals(afterSha: string, limit: number): Promise<PrunedOriginal[]>;
  close(): Promise<void>;
}

/** One generation of a file's derived outputs, as its history keeps it (issue 21, reprocess). */
export interface HistoryEntry {
  generation: number;
  recordedAt: string;
  /** `ingested`: the outputs of the ingest (generation 0); `reprocessed`: of a reprocess. */
  kind: "ingested" | "reprocessed";
  processing: ProcessingRecordV1 | null;
}

/**
 * A reprocess in flight: at most one per file. `writing`: outputs being built in the work area, nothing in the
 * warehouse yet; `placing`: `newOutputs` may be (partly) in the warehouse, not current; `switched`: the file's
 * current generation is `generation`, `oldOutputs` are to be removed and the manifest line written.
 */
export interface ReprocessIntent {
  ingestId: string;
  generation: number;
  phase: "writing" | "placing" | "switched";
  owner: string;
  startedAt: string;
  heartbeatAt: string;
  newOutputs: string[];
  oldOutputs: string[];
  manifestPath: string | null;
}

/** How asking to start a reprocess came out. */
export type ReprocessStart =
  | { kind: "started" }
  /** Another reprocess of the file is in flight (or was cut off and not recovered yet). */
  | { kind: "busy"; intent: ReprocessIntent }
  /** The file is not at the generation the caller read (another reprocess switched it meanwhile). */
  | { kind: "moved"; generation: number }
  | { kind: "missing" };

/**
 * The state a reprocess needs (issue 21): one intent row per file in flight, the compare-and-set switch of the
 * current generation, and each file's history. Part of {@link StateStore}; decisions are in rules/reprocess.ts.
 */
export interface ReprocessState {
  /** Records the intent, only if the file is `done` at `fromGeneration` and no other reprocess of it is in flight. */
  reprocessBegin(ingestId: string, fromGeneration: number, owner: string): Promise<ReprocessStart>;
  /** Before any new output reaches the warehouse: where they go (so a restart can remove a half-written set). */
  reprocessPlacing(ingestId: string, owner: string, outputs: string[]): Promise<void>;
  /**
   * The one switch: the file's processing document, generation (compare-and-set on `fromGeneration`), invalid
   * rows and history, and the intent's `switched` phase, in one transaction. "lost": the file moved on, nothing
   * changed.
   */
  reprocessSwitch(
    ingestId: string,
    owner: string,
    fromGeneration: number,
    result: ProcessingResult,
    oldOutputs: string[],
    manifestPath: string,
  ): Promise<"switched" | "lost">;
  /** Proves the owner alive (`newOwner` absent), or hands a cut-off intent to `newOwner`; false if not `owner`'s. */
  reprocessTouch(ingestId: string, owner: string, newOwner?: string): Promise<boolean>;
  /** The reprocess is over (finished, or undone): its intent row goes. */
  reprocessEnd(ingestId: string, owner: string): Promise<void>;
  /** Every reprocess in flight (or cut off), for recovery. */
  reprocessIntents(): Promise<ReprocessIntent[]>;
  /** A file's generations, oldest first; empty for a file never reprocessed (its generation 0 is the file's own). */
  history(ingestId: string): Promise<HistoryEntry[]>;
}
