import type Database from "better-sqlite3";
import { type FileRow, type IntentRow, toIntent } from "../row-mapping.js";
import { applyBatchSync } from "../rules/apply-batch.js";
import { runSync } from "../rules/steps.js";
import type { RequeueTarget, StoreDialect } from "../rules/store-dialect.js";
import type { RequeueIntent } from "../state-store.js";
import type { OpError, WriteOp } from "../write-op.js";
import type { Statements } from "./statements.js";

type Owner = { id: string; state: string; wp: string | null };

/**
 * The embedded dialect: each statement of the rules is a loop over one prepared statement, run synchronously
 * inside the writer's transaction. One writer, so no fencing and no races to lose.
 */
export function sqliteDialect(db: Database.Database, s: Statements): StoreDialect {
  const ids = <R extends { id: string }>(rows: R[], run: (r: R) => Database.RunResult) =>
    rows.filter((r) => run(r).changes > 0).map((r) => r.id);
  return {
    fencing: false,
    isTransient: () => false,
    savepoint: (name) => {
      db.exec(`SAVEPOINT ${name}`);
    },
    releaseSavepoint: (name) => {
      db.exec(`RELEASE ${name}`);
    },
    rollbackTo: (name) => {
      db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
    },
    // One node per SQLite state: no claims to lose.
    claimedElsewhere: () => new Set<string>(),
    insertFiles: (rows) => {
      // Named parameters must all be present: top-level files have no provenance.
      for (const { file, now } of rows) {
        s.insert.run({ archiveIngestId: null, memberPath: null, memberIndex: null, ...file, now });
      }
    },
    deleteUnstored: (list) => list.filter((id) => s.deleteFile.run(id).changes > 0),
    owners: (shas) => {
      const out = new Map<string, Owner>();
      for (const sha of shas) {
        const o = s.owner.get(sha) as Owner | undefined;
        if (o) out.set(sha, o);
      }
      return out;
    },
    claim: (claims) => new Set(claims.filter((c) => s.claimIfFree.run(c.sha, c.id).changes > 0).map((c) => c.sha)),
    releaseClaims: (list) => {
      for (const id of list) s.release.run(id);
    },
    takenPaths: (paths) => new Set(paths.filter((p) => s.pathTaken.get(p) !== undefined).map((p) => p.path)),
    setHashed: (rows) => ids(rows, (r) => s.setHashed.run(r)),
    setRehashed: (rows) =>
      ids(rows, (r) => {
        const { keepPath, wp, ...v } = r;
        return keepPath ? s.setRehashedKeepPath.run(v) : s.setRehashed.run({ ...v, wp });
      }),
    setPath: (rows) => ids(rows, (r) => s.setPath.run(r.path, r.now, r.id)),
    setStored: (rows) => ids(rows, (r) => s.setStored.run(r.at, r.mp, r.now, r.id)),
    setProcessing: (rows) => {
      for (const { id, processing } of rows) {
        s.setProcessing.run(JSON.stringify(processing.record), id);
        if (processing.rawDiscarded) s.dropPath.run(id);
        s.clearInvalid.run(id);
        processing.invalidRows.forEach((r, i) => {
          s.addInvalid.run(id, i, r.row, r.error);
        });
      }
    },
    setState: (rows) => ids(rows, (r) => s.setState.run(r.state, r.now, r.id)),
    setQuarantine: (rows) =>
      ids(rows, (r) => s.setQuarantine.run(r.error.code, r.error.message, r.error.attempts, r.errorPath, r.now, r.id)),
    fileRows: (list) => list.flatMap((id) => (s.get.get(id) as FileRow | undefined) ?? []),
    insertOutbox: (rows) => {
      for (const r of rows) s.outboxInsert.run(r);
    },
    deleteOutbox: (keys) => {
      for (const k of keys) s.outboxDelete.run(k.eventId, k.target);
    },
    rescheduleOutbox: (rows) => {
      // This process's clock: one process uses a SQLite state, and it also reads what is due.
      const now = Date.now();
      for (const r of rows)
        s.outboxRetry.run({
          eventId: r.eventId,
          target: r.target,
          attempts: r.attempts,
          nextAt: now + r.delayMs,
          error: r.error,
        });
    },
    fileGeneration: (id) => (s.fileGeneration.get(id) as { generation: number; state: string } | undefined) ?? null,
    insertIntent: (row) => s.insertIntent.run(row).changes > 0,
    getIntent: (id) => {
      const r = s.getIntent.get(id) as IntentRow | undefined;
      return r ? toIntent(r) : null;
    },
    setIntent: (r) =>
      s.setIntent.run({
        id: r.id,
        owner: r.owner,
        phase: r.phase,
        newOutputs: r.newOutputs ? JSON.stringify(r.newOutputs) : null,
        oldOutputs: r.oldOutputs ? JSON.stringify(r.oldOutputs) : null,
        manifestPath: r.manifestPath ?? null,
        now: r.now,
      }).changes > 0,
    touchIntent: (r) => s.touchIntent.run(r).changes > 0,
    deleteIntent: (id, owner) => {
      s.deleteIntent.run(id, owner);
    },
    historyFromFile: (r) => {
      s.historyFromFile.run(r);
    },
    switchGeneration: (r) => s.switchGeneration.run({ id: r.id, from: r.from }).changes > 0,
    insertHistory: (r) => {
      s.insertHistory.run(r);
    },
    requeueTarget: (id) => (s.requeueTarget.get(id) as RequeueTarget | undefined) ?? null,
    requeueIntent: (id) => (s.requeueIntent.get(id) as RequeueIntent | undefined) ?? null,
    insertRequeue: (i) => s.insertRequeue.run(i).changes > 0,
    deleteRequeue: (id) => s.deleteRequeue.run(id).changes > 0,
    pendingRequeues: (names) => names.flatMap((n) => s.pendingRequeues.all(n) as RequeueIntent[]),
    linkRequeues: (links) =>
      links
        .filter((l) => {
          if (s.linkRequeue.run(l.newId, l.now, l.failedId).changes === 0) return false;
          s.setRequeuedFrom.run(l.failedId, l.newId);
          s.setRequeuedTo.run(l.newId, l.failedId);
          return true;
        })
        .map((l) => l.failedId),
    unlinkRequeues: (newIds) => {
      for (const id of newIds) {
        s.unlinkRequeue.run(id);
        s.clearRequeuedTo.run(id);
      }
    },
  };
}

/**
 * One transaction (one commit, one WAL fsync) for the whole batch, the rules driven synchronously inside it.
 * A batch that fails as a whole (the disk, a busy database) rejects every op of it; the callers retry.
 */
export function applySqliteBatch(db: Database.Database, d: StoreDialect, ops: WriteOp[]): (unknown | OpError)[] {
  return applyBatchSync((rule) => db.transaction(() => runSync(rule(d)))(), ops);
}
