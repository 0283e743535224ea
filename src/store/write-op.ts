import { isErrorCode, SluiceError } from "../core/errors.js";
import type { ProcessingResult } from "../core/processing.js";
import type { NotifyStamp, OutboxKey, OutboxRetry } from "./outbox-types.js";
import type { ErrorInfo, NewFile, PlacementRequest } from "./state-store.js";

/**
 * The store's mutations as plain data: a batch of them is applied in one transaction by the rules in
 * rules/apply-batch.ts, on a worker thread (structured clone) for SQLite or on a pooled connection for
 * PostgreSQL. `now` is the caller's clock at the call, so a replayed batch writes the same times.
 */
export type WriteOp =
  | { op: "recordDiscovered"; file: NewFile; now: string }
  | { op: "forget"; id: string; now: string }
  | { op: "decide"; file: NewFile; sha256: string; placement: PlacementRequest; now: string }
  | {
      op: "rehash";
      id: string;
      sha256: string;
      size: number;
      mtimeMs: number;
      ingestedAt: string;
      manifestPath: string;
      now: string;
    }
  | { op: "reassignPath"; id: string; path: string; now: string }
  | {
      op: "markStored";
      id: string;
      ingestedAt: string;
      manifestPath: string;
      now: string;
      processing?: ProcessingResult;
    }
  /** `notify`: the targets to write this change's event for, in the same transaction (none: no event). */
  | { op: "setState"; id: string; state: string; now: string; notify?: NotifyStamp }
  | { op: "beginQuarantine"; id: string; error: ErrorInfo; errorPath: string | null; now: string }
  /** The outbox's bookkeeping after a round of deliveries. */
  | { op: "outboxSettle"; delivered: OutboxKey[]; retries: OutboxRetry[]; now: string }
  // Reprocess (issue 21): see rules/reprocess.ts.
  | { op: "reprocessBegin"; id: string; from: number; owner: string; now: string }
  | { op: "reprocessPlacing"; id: string; owner: string; outputs: string[]; now: string }
  | {
      op: "reprocessSwitch";
      id: string;
      owner: string;
      from: number;
      processing: ProcessingResult;
      oldOutputs: string[];
      manifestPath: string;
      now: string;
      /** The targets of its `sluice.file.reprocessed` event, written in the switch's transaction. */
      notify?: NotifyStamp;
    }
  | { op: "reprocessTouch"; id: string; owner: string; newOwner: string; now: string }
  | { op: "reprocessEnd"; id: string; owner: string }
  // Requeue (issue 21): see rules/requeue.ts.
  | { op: "requestRequeue"; id: string; sha256: string | null; now: string }
  | { op: "cancelRequeue"; id: string; now: string };

export type WriteOpKind = WriteOp["op"];

/** A failed op's error as data: it crosses a thread boundary, and keeps the code callers branch on. */
export interface OpError {
  error: string;
  code?: string;
}

export function toOpError(err: unknown): OpError {
  const e = err as { message?: string; code?: string };
  return { error: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) };
}

export function isOpError(r: unknown): r is OpError {
  return typeof r === "object" && r !== null && "error" in r && typeof (r as OpError).error === "string";
}

/**
 * The OpError as the Error a caller's promise rejects with. An error of the catalog (ownership lost) comes back a
 * SluiceError with its code, so callers test its type, never its text; any other keeps its code (SQLITE_*,
 * SQLSTATE) for the retry allow-list.
 */
export function opErrorToError(r: OpError): Error {
  if (isErrorCode(r.code)) return new SluiceError(r.code, r.error);
  const err = new Error(r.error) as NodeJS.ErrnoException;
  if (r.code) err.code = r.code;
  return err;
}
