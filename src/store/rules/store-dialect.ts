import type { ProcessingResult } from "../../core/processing.js";
import type { OutboxInsert, OutboxKey, OutboxRetry } from "../outbox-types.js";
import type { FileRow } from "../row-mapping.js";
import type { ErrorInfo, NewFile, ReprocessIntent, RequeueIntent } from "../state-store.js";
import type { Maybe } from "./steps.js";

/** The file that holds a content claim, as decide and rehash need to see it. */
export interface Owner {
  id: string;
  state: string;
  wp: string | null;
}

export interface HashedRow {
  id: string;
  sha: string;
  wp: string | null;
  dup: string | null;
  at: string | null;
  mp: string | null;
  now: string;
}

export interface RehashedRow {
  id: string;
  sha: string;
  size: number;
  mtimeMs: number;
  dup: string | null;
  wp: string | null;
  /** The file keeps its reserved path (`wp` is ignored). */
  keepPath: boolean;
  at: string | null;
  mp: string | null;
  now: string;
}

/** What requestRequeue reads of the failed row. */
export interface RequeueTarget {
  state: string;
  name: string;
  sha256: string | null;
  archiveIngestId: string | null;
  memberPath: string | null;
}

/** A new attempt linked to the failed row it was handed back from. */
export interface RequeueLink {
  failedId: string;
  newId: string;
  now: string;
}

/**
 * How one dialect runs the statements the store rules are made of (rules/*.ts). Every statement takes all
 * the rows of a batch at once: one multi-row statement on PostgreSQL (one round trip), a loop over one
 * prepared statement on SQLite. The rules decide; a dialect only says how to run a statement.
 *
 * Updates return the ids they changed. A dialect with `fencing` (several nodes) changes only rows this node
 * owns, and the rules treat a row it did not change as taken over by another node (OwnershipLostError).
 */
export interface StoreDialect {
  /** Rows are changed only where this node owns them (a shared store). */
  readonly fencing: boolean;
  /** Errors the whole batch is retried for (the server went away, a lost race): never one op's fault. */
  isTransient(err: unknown): boolean;
  savepoint(name: string): Maybe<void>;
  releaseSavepoint(name: string): Maybe<void>;
  /** Undoes everything since the savepoint and ends it. */
  rollbackTo(name: string): Maybe<void>;

  /**
   * Of these staging names, the ones another node holds the claim of (several nodes sharing one staging
   * directory), each claim row locked until the transaction ends so it cannot change hands before this decision
   * commits. A store of one node has no claims: none.
   */
  claimedElsewhere(names: string[]): Maybe<Set<string>>;
  /** Inserts rows in `discovered`; a row that exists (a replay, a member already recorded) is left as it is. */
  insertFiles(rows: { file: NewFile; now: string }[]): Maybe<void>;
  /** Deletes the rows still in `discovered` or `hashed` (owned); returns the ids deleted. */
  deleteUnstored(ids: string[]): Maybe<string[]>;
  /** The claimed contents among `shas`, with the file holding each. */
  owners(shas: string[]): Maybe<Map<string, Owner>>;
  /** Claims contents (one id per sha); returns the shas claimed now. A sha already claimed is left alone. */
  claim(claims: { sha: string; id: string }[]): Maybe<Set<string>>;
  releaseClaims(ids: string[]): Maybe<void>;
  /** Which of the paths an original other than the given file has reserved. */
  takenPaths(paths: { path: string; id: string }[]): Maybe<Set<string>>;
  setHashed(rows: HashedRow[]): Maybe<string[]>;
  setRehashed(rows: RehashedRow[]): Maybe<string[]>;
  setPath(rows: { id: string; path: string; now: string }[]): Maybe<string[]>;
  setStored(rows: { id: string; at: string; mp: string; now: string }[]): Maybe<string[]>;
  /** The processing document, the raw name given back when the raw bytes are not kept, the invalid rows. */
  setProcessing(rows: { id: string; processing: ProcessingResult }[]): Maybe<void>;
  setState(rows: { id: string; state: string; now: string }[]): Maybe<string[]>;
  setQuarantine(rows: { id: string; error: ErrorInfo; errorPath: string | null; now: string }[]): Maybe<string[]>;

  /** The rows of these files (for the snapshot an event carries). */
  fileRows(ids: string[]): Maybe<FileRow[]>;
  /** Outbox rows, due at once; a row that exists (same event and target) is left as it is. */
  insertOutbox(rows: OutboxInsert[]): Maybe<void>;
  /** Delivered: the rows go (whoever holds their lease: delivering is what the lease was for). */
  deleteOutbox(keys: OutboxKey[]): Maybe<void>;
  /** Failed: attempts and the next try recorded, the lease given back (only a lease this node still holds). */
  rescheduleOutbox(rows: OutboxRetry[]): Maybe<void>;
  // Reprocess (issue 21, rules/reprocess.ts): single-row statements, a reprocess being rare.
  /** The file's current generation and state, or null if there is no such row. */
  fileGeneration(id: string): Maybe<{ generation: number; state: string } | null>;
  /** Takes the file's intent row; false when one exists already (another reprocess in flight). */
  insertIntent(row: { id: string; generation: number; owner: string; now: string }): Maybe<boolean>;
  getIntent(id: string): Maybe<ReprocessIntent | null>;
  /** Moves the intent (only `owner`'s) to `phase`, setting what is given and the heartbeat; false if not its. */
  setIntent(row: {
    id: string;
    owner: string;
    phase: ReprocessIntent["phase"];
    newOutputs?: string[];
    oldOutputs?: string[];
    manifestPath?: string;
    now: string;
  }): Maybe<boolean>;
  /** Heartbeat (`newOwner` = `owner`) or take-over of `owner`'s intent; false if the intent is not `owner`'s. */
  touchIntent(row: { id: string; owner: string; newOwner: string; now: string }): Maybe<boolean>;
  deleteIntent(id: string, owner: string): Maybe<void>;
  /** Copies the file's processing document into its history as `generation`, if it is still at it (and not yet). */
  historyFromFile(row: { id: string; generation: number; kind: string; now: string }): Maybe<void>;
  /** generation = from + 1 where it is `from` on a `done` row: the compare-and-set; false if the row moved on. */
  switchGeneration(row: { id: string; from: number; now: string }): Maybe<boolean>;
  insertHistory(row: { id: string; generation: number; kind: string; processing: string; now: string }): Maybe<void>;
  // Requeue (rules/requeue.ts). Links and the failed row are not fenced: a failed row is terminal (no node adopts
  // it), and the new attempt's row was inserted by this very transaction's node.
  requeueTarget(id: string): Maybe<RequeueTarget | null>;
  requeueIntent(id: string): Maybe<RequeueIntent | null>;
  /** Inserts the intent; false when one exists already (another requeue of the same row won). */
  insertRequeue(intent: RequeueIntent): Maybe<boolean>;
  /** Deletes the intent of `id` while nothing is linked to it; true when deleted. */
  deleteRequeue(id: string): Maybe<boolean>;
  /** Unlinked intents for any of `names`, oldest request first. */
  pendingRequeues(names: string[]): Maybe<RequeueIntent[]>;
  /**
   * Links each new attempt to its failed row (requeues.new_id, files.requeued_from, files.requeued_to), only where
   * the intent is still unlinked; returns the failed ids linked now.
   */
  linkRequeues(links: RequeueLink[]): Maybe<string[]>;
  /** The new attempts were forgotten (not ready after all): their intents are pending again. */
  unlinkRequeues(newIds: string[]): Maybe<void>;
}
