import type { ProcessingResult } from "../../core/processing.js";
import type { ErrorInfo, NewFile, RequeueIntent } from "../state-store.js";
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
