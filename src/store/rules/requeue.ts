import { basename } from "node:path";
import type { RequeueIntent, RequeueRequest } from "../state-store.js";
import type { WriteOp } from "../write-op.js";
import { ask, type Rule } from "./steps.js";
import type { RequeueLink, StoreDialect } from "./store-dialect.js";

type DecideOp = Extract<WriteOp, { op: "decide" }>;
type RequestOp = Extract<WriteOp, { op: "requestRequeue" }>;

/**
 * The name a failed row is handed back under: its name in staging; an archive member (which never had one) by
 * its base name, at the top of staging, as a file of its own.
 */
export function requeueName(t: { name: string; archiveIngestId: string | null; memberPath: string | null }): string {
  return t.archiveIngestId !== null ? basename(t.memberPath ?? t.name) : t.name;
}

/**
 * `sluice requeue`'s one transaction: the failed row is handed back, recorded as an intent the pipeline's decide
 * links a new attempt to. A replay or a second requeue finds the intent (pending or linked) instead of a second one.
 */
export function* requestRequeue(d: StoreDialect, o: RequestOp): Rule<RequeueRequest> {
  const existing = yield* ask(d.requeueIntent(o.id));
  if (existing) return described(existing, true);
  const row = yield* ask(d.requeueTarget(o.id));
  if (!row) return { kind: "unknown" };
  if (row.state !== "failed") return { kind: "not-failed", state: row.state };
  const intent: RequeueIntent = {
    failedId: o.id,
    name: requeueName(row),
    // The bytes handed back (an operator may have fixed the copy in the error directory), else the row's own.
    sha256: o.sha256 ?? row.sha256,
    requestedAt: o.now,
    newId: null,
  };
  if (yield* ask(d.insertRequeue(intent))) return { kind: "pending", intent, again: false };
  // Another requeue of the same row committed first: its intent is the one.
  const won = yield* ask(d.requeueIntent(o.id));
  if (!won) throw Object.assign(new Error("requeue race"), { code: "40001" });
  return described(won, true);
}

function described(intent: RequeueIntent, again: boolean): RequeueRequest {
  return intent.newId ? { kind: "linked", intent, newId: intent.newId } : { kind: "pending", intent, again };
}

/**
 * Inside decide: a top-level file whose name (and bytes, when the failed row had been hashed) matches a pending
 * intent is that failed row's new attempt. Linked in the decide's own transaction, so the new row and its link
 * appear together; the oldest intent of a name goes first, one intent per file, one file per intent (the
 * `requeued_from` unique index is the state's own guard). One statement when no intent is pending.
 */
export function* linkRequeues(d: StoreDialect, ops: DecideOp[]): Rule<void> {
  const top = ops.filter((o) => (o.file.archiveIngestId ?? null) === null);
  if (top.length === 0) return;
  const pending = yield* ask(d.pendingRequeues([...new Set(top.map((o) => o.file.name))]));
  if (pending.length === 0) return;
  const used = new Set<string>();
  const links: RequeueLink[] = [];
  for (const o of top) {
    const p = pending.find(
      (x) => !used.has(x.failedId) && x.name === o.file.name && (x.sha256 === null || x.sha256 === o.sha256),
    );
    if (!p) continue;
    used.add(p.failedId);
    links.push({ failedId: p.failedId, newId: o.file.ingestId, now: o.now });
  }
  if (links.length > 0) yield* ask(d.linkRequeues(links));
}
