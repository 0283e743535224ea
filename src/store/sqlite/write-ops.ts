import type Database from "better-sqlite3";
import type { ProcessingResult } from "../../core/processing.js";
import type { FileRow } from "../row-mapping.js";
import type { Decision, ErrorInfo, NewFile, PlacementRequest } from "../state-store.js";
import type { Statements } from "./statements.js";

/**
 * The store's mutations as plain data, so a batch can be applied by a worker
 * thread (structured clone) as well as in-process.
 */
export type WriteOp =
  | { op: "recordDiscovered"; file: NewFile; now: string }
  | { op: "forget"; id: string }
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
  | { op: "setState"; id: string; state: string; now: string }
  | { op: "beginQuarantine"; id: string; error: ErrorInfo; errorPath: string | null; now: string };

/** A failed op's error, as it crosses the thread boundary. */
export interface OpError {
  error: string;
  code?: string;
}

const FINISHED_OWNER_STATES = new Set(["stored", "manifested", "done"]);

type Owner = { id: string; state: string; wp: string } | undefined;

/** Named parameters must all be present: top-level files have no provenance. */
function insertFile(s: Statements, file: NewFile, now: string): void {
  s.insert.run({ archiveIngestId: null, memberPath: null, memberIndex: null, ...file, now });
}

function markStored(s: Statements, o: Extract<WriteOp, { op: "markStored" }>): void {
  s.setStored.run(o.ingestedAt, o.manifestPath, o.now, o.id);
  if (!o.processing) return;
  s.setProcessing.run(JSON.stringify(o.processing.record), o.id);
  if (o.processing.rawDiscarded) s.dropPath.run(o.id);
  s.clearInvalid.run(o.id);
  o.processing.invalidRows.forEach((r, i) => {
    s.addInvalid.run(o.id, i, r.row, r.error);
  });
}

function decide(s: Statements, o: Extract<WriteOp, { op: "decide" }>): Decision {
  const id = o.file.ingestId;
  insertFile(s, o.file, o.now);
  const owner = s.owner.get(o.sha256) as Owner;
  if (owner && owner.id !== id) {
    // A duplicate is only declared once the original is safely stored; until then the caller waits.
    if (!FINISHED_OWNER_STATES.has(owner.state)) return { kind: "wait", ownerId: owner.id };
    const p = o.placement;
    s.setHashed.run({
      id,
      sha: o.sha256,
      wp: owner.wp,
      dup: owner.id,
      at: p.ingestedAt,
      mp: p.manifestPath,
      now: o.now,
    });
    return { kind: "duplicate", duplicateOf: owner.id, warehousePath: owner.wp };
  }
  // The contents primary key is what makes dedupe exact: a second claim of the same hash fails here.
  if (!owner) s.claim.run(o.sha256, id);
  let wp = `${o.placement.partitionDir}/${o.placement.baseName}`;
  if (s.pathTaken.get(wp, id)) wp = `${o.placement.partitionDir}/${o.placement.collisionName}`;
  s.setHashed.run({ id, sha: o.sha256, wp, dup: null, at: null, mp: null, now: o.now });
  return { kind: "new", warehousePath: wp };
}

function rehash(s: Statements, o: Extract<WriteOp, { op: "rehash" }>): "new" | "duplicate" | "wait" {
  const owner = s.owner.get(o.sha256) as Owner;
  if (owner && owner.id !== o.id && !FINISHED_OWNER_STATES.has(owner.state)) return "wait";
  s.release.run(o.id);
  const base = { id: o.id, sha: o.sha256, size: o.size, mtimeMs: o.mtimeMs, now: o.now };
  if (owner && owner.id !== o.id) {
    s.setRehashed.run({ ...base, dup: owner.id, wp: owner.wp, at: o.ingestedAt, mp: o.manifestPath });
    return "duplicate";
  }
  s.claim.run(o.sha256, o.id);
  const cur = s.get.get(o.id) as FileRow;
  s.setRehashed.run({ ...base, dup: null, wp: cur.warehouse_path, at: null, mp: null });
  return "new";
}

export function applyOp(s: Statements, o: WriteOp): unknown {
  switch (o.op) {
    case "recordDiscovered":
      insertFile(s, o.file, o.now);
      return undefined;
    case "forget":
      // A claim made by decide goes too: an S3 upload that found its source changing forgets a hashed row.
      if (s.deleteFile.run(o.id).changes > 0) s.release.run(o.id);
      return undefined;
    case "decide":
      return decide(s, o);
    case "rehash":
      return rehash(s, o);
    case "reassignPath":
      s.setPath.run(o.path, o.now, o.id);
      return undefined;
    case "markStored":
      markStored(s, o);
      return undefined;
    case "setState":
      s.setState.run(o.state, o.now, o.id);
      return undefined;
    case "beginQuarantine":
      s.release.run(o.id);
      s.setQuarantine.run(o.error.code, o.error.message, o.error.attempts, o.errorPath, o.now, o.id);
      return undefined;
  }
}

function toOpError(err: unknown): OpError {
  const e = err as { message?: string; code?: string };
  return { error: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) };
}

/**
 * One transaction — one commit, one WAL fsync — for the whole batch. Ops
 * almost never fail, so the batch runs without per-op savepoints; if one does
 * fail, the batch is rolled back and replayed with a savepoint per op, so one
 * bad op cannot undo the others.
 */
export function applyBatch(db: Database.Database, s: Statements, ops: WriteOp[]): (unknown | OpError)[] {
  try {
    return db.transaction(() => ops.map((o) => applyOp(s, o)))();
  } catch {
    const one = db.transaction((o: WriteOp) => applyOp(s, o));
    const results: (unknown | OpError)[] = [];
    db.transaction(() => {
      for (const o of ops) {
        try {
          results.push(one(o));
        } catch (err) {
          results.push(toOpError(err));
        }
      }
    })();
    return results;
  }
}

export function isOpError(r: unknown): r is OpError {
  return typeof r === "object" && r !== null && "error" in r && typeof (r as OpError).error === "string";
}
