import { type OpError, toOpError, type WriteOp, type WriteOpKind } from "../write-op.js";
import { decideAll, rehashOne } from "./decide.js";
import { checkFenced } from "./fence.js";
import { enqueueEvents, terminalEvents } from "./outbox.js";
import { reprocessRule } from "./reprocess.js";
import { requestRequeue } from "./requeue.js";
import { ask, type Rule } from "./steps.js";
import type { StoreDialect } from "./store-dialect.js";

type OpOf<K extends WriteOpKind> = Extract<WriteOp, { op: K }>;

/**
 * Applies a batch of ops, one result per op in order, or an OpError for an op that failed alone (its changes
 * undone, the others kept). Ops almost never fail, so the batch first runs whole in one transaction; if that
 * fails it is rolled back and replayed in a second transaction with a savepoint per op, so one bad op (a
 * fenced row, a constraint) cannot take the others with it. `inTx` runs a rule in a transaction of the
 * dialect's own (and waits out what is transient: the server going away is not an op's fault).
 */
export function applyBatchSync(inTx: <T>(rule: TxRule<T>) => T, ops: WriteOp[]): (unknown | OpError)[] {
  try {
    return inTx(applyWhole(ops));
  } catch {
    return inTx(applyEach(ops));
  }
}

/** applyBatchSync for a dialect whose statements are awaited (the same two transactions at most). */
export async function applyBatchAsync(
  inTx: <T>(rule: TxRule<T>) => Promise<T>,
  ops: WriteOp[],
): Promise<(unknown | OpError)[]> {
  try {
    return await inTx(applyWhole(ops));
  } catch {
    return inTx(applyEach(ops));
  }
}

/** A rule over the transaction's dialect: the driver passes the dialect in when it starts the rule. */
export type TxRule<T> = (d: StoreDialect) => Rule<T>;

function applyWhole(ops: WriteOp[]): TxRule<unknown[]> {
  return (d) => applyOps(d, ops);
}

function applyEach(ops: WriteOp[]): TxRule<(unknown | OpError)[]> {
  return function* (d) {
    const results: (unknown | OpError)[] = [];
    for (const o of ops) {
      yield* ask(d.savepoint("op"));
      try {
        results.push((yield* applyOps(d, [o]))[0]);
        yield* ask(d.releaseSavepoint("op"));
      } catch (err) {
        if (d.isTransient(err)) throw err;
        yield* ask(d.rollbackTo("op"));
        results.push(toOpError(err));
      }
    }
    return results;
  };
}

/**
 * The ops in order, each run of consecutive ops of one kind (the files of a batch taking the same step) as one
 * set of statements. Ops of one file never share a batch (each waits for the previous one's commit), so
 * grouping changes nothing a file could see.
 */
function* applyOps(d: StoreDialect, ops: WriteOp[]): Rule<unknown[]> {
  const out: unknown[] = [];
  for (let start = 0; start < ops.length; ) {
    const kind = (ops[start] as WriteOp).op;
    let end = start + 1;
    while (end < ops.length && (ops[end] as WriteOp).op === kind) end++;
    out.push(...(yield* applyRun(d, kind, ops.slice(start, end))));
    start = end;
  }
  return out;
}

function* applyRun(d: StoreDialect, kind: WriteOpKind, ops: WriteOp[]): Rule<unknown[]> {
  const none = () => ops.map(() => undefined);
  switch (kind) {
    case "decide":
      return yield* decideAll(d, ops as OpOf<"decide">[]);
    case "rehash": {
      const out: unknown[] = [];
      for (const o of ops as OpOf<"rehash">[]) out.push(yield* rehashOne(d, o));
      return out;
    }
    case "recordDiscovered":
      yield* ask(d.insertFiles((ops as OpOf<"recordDiscovered">[]).map((o) => ({ file: o.file, now: o.now }))));
      return none();
    case "forget": {
      // A claim made by decide goes too: an S3 upload that found its source changing forgets a hashed row.
      // A row already past `hashed` is left alone.
      const gone = yield* ask(d.deleteUnstored((ops as OpOf<"forget">[]).map((o) => o.id)));
      if (gone.length > 0) {
        yield* ask(d.releaseClaims(gone));
        // A requeued file forgotten (not ready after all) is not the new attempt: its intent waits for the next.
        yield* ask(d.unlinkRequeues(gone));
      }
      return none();
    }
    case "reassignPath": {
      const rows = (ops as OpOf<"reassignPath">[]).map((o) => ({ id: o.id, path: o.path, now: o.now }));
      yield* fenced(d, rows, d.setPath(rows));
      return none();
    }
    case "markStored": {
      const stored = ops as OpOf<"markStored">[];
      const rows = stored.map((o) => ({ id: o.id, at: o.ingestedAt, mp: o.manifestPath, now: o.now }));
      yield* fenced(d, rows, d.setStored(rows));
      // What processing produced is committed with `stored`: the record and the outputs appear together.
      const processed = stored.flatMap((o) => (o.processing ? [{ id: o.id, processing: o.processing }] : []));
      if (processed.length > 0) yield* ask(d.setProcessing(processed));
      return none();
    }
    case "setState": {
      const changes = ops as OpOf<"setState">[];
      const rows = changes.map((o) => ({ id: o.id, state: o.state, now: o.now }));
      // The events of files reaching done/duplicate/failed commit with that state (the transactional outbox):
      // a kill before the commit loses both, after it keeps both. Built from the rows before the update.
      const events = yield* terminalEvents(d, changes);
      yield* fenced(d, rows, d.setState(rows));
      // Every op of a batch comes from this process, so they share its targets.
      yield* enqueueEvents(d, changes.find((o) => o.notify)?.notify, events);
      return none();
    }
    case "outboxSettle": {
      for (const o of ops as OpOf<"outboxSettle">[]) {
        if (o.delivered.length > 0) yield* ask(d.deleteOutbox(o.delivered));
        if (o.retries.length > 0) yield* ask(d.rescheduleOutbox(o.retries));
      }
      return none();
    }
    case "reprocessBegin":
    case "reprocessPlacing":
    case "reprocessSwitch":
    case "reprocessTouch":
    case "reprocessEnd": {
      const out: unknown[] = [];
      for (const o of ops as OpOf<
        "reprocessBegin" | "reprocessPlacing" | "reprocessSwitch" | "reprocessTouch" | "reprocessEnd"
      >[])
        out.push(yield* reprocessRule(d, o));
      return out;
    }
    case "beginQuarantine": {
      // Quarantine happens before anything is stored: the content claim and the reserved name are given back.
      const q = ops as OpOf<"beginQuarantine">[];
      const rows = q.map((o) => ({ id: o.id, error: o.error, errorPath: o.errorPath, now: o.now }));
      yield* fenced(d, rows, d.setQuarantine(rows));
      yield* ask(d.releaseClaims(q.map((o) => o.id)));
      return none();
    }
    case "requestRequeue": {
      const out: unknown[] = [];
      for (const o of ops as OpOf<"requestRequeue">[]) out.push(yield* requestRequeue(d, o));
      return out;
    }
    case "cancelRequeue": {
      const out: unknown[] = [];
      for (const o of ops as OpOf<"cancelRequeue">[]) out.push(yield* ask(d.deleteRequeue(o.id)));
      return out;
    }
  }
}

function* fenced(d: StoreDialect, rows: { id: string }[], update: ReturnType<StoreDialect["setState"]>): Rule<void> {
  const changed = yield* ask(update);
  checkFenced(
    d,
    rows.map((r) => r.id),
    changed,
  );
}
