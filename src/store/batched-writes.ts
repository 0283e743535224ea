import type { ProcessingResult } from "../core/processing.js";
import { Batcher } from "../durable/batcher.js";
import type { NotifyStamp, OutboxKey, OutboxRetry } from "./outbox-types.js";
import type { Decision, ErrorInfo, NewFile, PlacementRequest, ReprocessStart, RequeueRequest } from "./state-store.js";
import { isOpError, type OpError, opErrorToError, type WriteOp } from "./write-op.js";

/**
 * The StateStore's mutations, the same for every dialect: each call becomes a WriteOp, and the ops submitted in
 * one turn of the event loop are applied together (group commit) by the dialect's `applyOps`, which resolves
 * only once they are durable. A store extends this and adds its reads.
 */
export abstract class BatchedWrites {
  private readonly batcher = new Batcher<WriteOp, unknown>(async (ops) =>
    (await this.applyOps(ops)).map((r) => (isOpError(r) ? opErrorToError(r) : r)),
  );

  /** Applies a batch in one transaction (rules/apply-batch.ts): one result or OpError per op, in order. */
  protected abstract applyOps(ops: WriteOp[]): Promise<(unknown | OpError)[]>;

  /** Resolves once every op submitted so far is applied. */
  protected drainWrites(): Promise<void> {
    return this.batcher.drain();
  }

  /** The targets events are written for (none: no outbox rows at all). */
  private notify: NotifyStamp | null = null;

  notifyTo(stamp: NotifyStamp | null): void {
    this.notify = stamp && stamp.targets.length > 0 ? stamp : null;
  }

  /**
   * Through the group commit by default: on SQLite the writer thread is the one writer, and bookkeeping is one
   * small op per round. A store with connections of its own (PostgreSQL) overrides it to use its own transaction.
   */
  settleOutbox(delivered: OutboxKey[], retries: OutboxRetry[]): Promise<void> {
    if (delivered.length === 0 && retries.length === 0) return Promise.resolve();
    return this.run({ op: "outboxSettle", delivered, retries, now: this.now() });
  }

  private run<T>(op: WriteOp): Promise<T> {
    return this.batcher.submit(op) as Promise<T>;
  }

  protected now(): string {
    return new Date().toISOString();
  }

  recordDiscovered(file: NewFile): Promise<void> {
    return this.run({ op: "recordDiscovered", file, now: this.now() });
  }

  forget(ingestId: string): Promise<void> {
    return this.run({ op: "forget", id: ingestId, now: this.now() });
  }

  decide(file: NewFile, sha256: string, placement: PlacementRequest): Promise<Decision> {
    return this.run({ op: "decide", file, sha256, placement, now: this.now() });
  }

  rehash(
    ingestId: string,
    sha256: string,
    now: { size: number; mtimeMs: number },
    at: { ingestedAt: string; manifestPath: string },
  ): Promise<"new" | "duplicate" | "wait"> {
    return this.run({ op: "rehash", id: ingestId, sha256, ...now, ...at, now: this.now() });
  }

  reassignPath(ingestId: string, warehousePath: string): Promise<void> {
    return this.run({ op: "reassignPath", id: ingestId, path: warehousePath, now: this.now() });
  }

  markStored(ingestId: string, ingestedAt: string, manifestPath: string, processing?: ProcessingResult): Promise<void> {
    return this.run({
      op: "markStored",
      id: ingestId,
      ingestedAt,
      manifestPath,
      now: this.now(),
      ...(processing ? { processing } : {}),
    });
  }

  markManifested(ingestId: string): Promise<void> {
    return this.setState(ingestId, "manifested");
  }

  finish(ingestId: string, state: "done" | "duplicate"): Promise<void> {
    return this.setState(ingestId, state);
  }

  finishFailed(ingestId: string): Promise<void> {
    return this.setState(ingestId, "failed");
  }

  private setState(ingestId: string, state: string): Promise<void> {
    const notify = this.notify;
    return this.run({ op: "setState", id: ingestId, state, now: this.now(), ...(notify ? { notify } : {}) });
  }

  beginQuarantine(ingestId: string, error: ErrorInfo, errorPath: string | null): Promise<void> {
    return this.run({ op: "beginQuarantine", id: ingestId, error, errorPath, now: this.now() });
  }

  // Reprocess (issue 21): the rules are in rules/reprocess.ts.
  reprocessBegin(ingestId: string, fromGeneration: number, owner: string): Promise<ReprocessStart> {
    return this.run({ op: "reprocessBegin", id: ingestId, from: fromGeneration, owner, now: this.now() });
  }

  reprocessPlacing(ingestId: string, owner: string, outputs: string[]): Promise<void> {
    return this.run({ op: "reprocessPlacing", id: ingestId, owner, outputs, now: this.now() });
  }

  reprocessSwitch(
    ingestId: string,
    owner: string,
    fromGeneration: number,
    processing: ProcessingResult,
    oldOutputs: string[],
    manifestPath: string,
  ): Promise<"switched" | "lost"> {
    return this.run({
      op: "reprocessSwitch",
      id: ingestId,
      owner,
      from: fromGeneration,
      processing,
      oldOutputs,
      manifestPath,
      now: this.now(),
      ...(this.notify ? { notify: this.notify } : {}),
    });
  }

  reprocessTouch(ingestId: string, owner: string, newOwner?: string): Promise<boolean> {
    return this.run({ op: "reprocessTouch", id: ingestId, owner, newOwner: newOwner ?? owner, now: this.now() });
  }

  reprocessEnd(ingestId: string, owner: string): Promise<void> {
    return this.run({ op: "reprocessEnd", id: ingestId, owner });
  }

  requestRequeue(failedId: string, sha256: string | null = null): Promise<RequeueRequest> {
    return this.run({ op: "requestRequeue", id: failedId, sha256, now: this.now() });
  }

  cancelRequeue(failedId: string): Promise<boolean> {
    return this.run({ op: "cancelRequeue", id: failedId, now: this.now() });
  }
}
