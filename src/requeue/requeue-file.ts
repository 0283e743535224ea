import { rm } from "node:fs/promises";
import { join } from "node:path";
import { crashPoint } from "../durable/crash-points.js";
import type { DirSyncer } from "../durable/fsync.js";
import type { StateStore } from "../store/state-store.js";
import { dropReason, type HandBackPaths, handBack, handBackSidecar } from "./hand-back.js";

/** What `sluice requeue` needs: the state, the staging directory the file goes back to, the directory syncer. */
export interface RequeueDeps {
  store: StateStore;
  input: string;
  dirs: DirSyncer;
  /** SHA-256 of a file (null when it cannot be read): the copy handed back, recorded with the intent. */
  hash: (path: string) => Promise<string | null>;
}

/** Why a file was not requeued. */
export type RequeueRefusal = "unknown" | "not-failed" | "copy-missing" | "name-taken";

/** One file's answer: handed back (pending the pipeline), requeued before, or refused and why. */
export type RequeueOutcome =
  | { id: string; result: "pending"; name: string }
  | { id: string; result: "already"; name: string; newId: string }
  | { id: string; result: "refused"; reason: RequeueRefusal; message: string };

/**
 * Requeues one failed file, in the order that keeps the bytes in exactly one place and the attempt single:
 *
 * 1. one transaction records the intent (failed id → pending, under its name, with its sha256 when known);
 * 2. the quarantined copy moves from the error directory back into staging under that name (hand-back.ts);
 * 3. its `.ok` follows (sidecar mode), then its `.error.json` is removed: only once the copy is in staging;
 * 4. the pipeline (a running `serve`/`run` on any node, or the next `sluice run`) ingests the file like any
 *    other, and its decide links the new attempt to the failed row in the same transaction.
 *
 * Every step is idempotent: rerun after a kill anywhere, it continues from what the state and the disk show.
 * Nothing here touches another process's rows in flight (no recovery, no claim): the hand-off is through staging.
 */
export function requeueFile(deps: RequeueDeps, id: string): Promise<RequeueOutcome> {
  // One at a time per id in this process (a double click, two API calls): the steps are safe to rerun, not to
  // interleave with themselves on one copy.
  const previous = inProcess.get(id) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => requeueOnce(deps, id));
  const settled = mine.catch(() => undefined);
  inProcess.set(id, settled);
  void settled.then(() => {
    if (inProcess.get(id) === settled) inProcess.delete(id);
  });
  return mine;
}

const inProcess = new Map<string, Promise<unknown>>();

async function requeueOnce(deps: RequeueDeps, id: string): Promise<RequeueOutcome> {
  const rec = await deps.store.get(id);
  if (!rec) return refused(id, "unknown", "no file has this id");
  if (rec.state === "failed" && !rec.errorPath && !rec.requeuedTo) {
    // A vanished file (or one failed without bytes to keep): nothing was quarantined, nothing can go back.
    return refused(id, "copy-missing", `nothing was kept in the error directory (${rec.errorCode ?? "failed"})`);
  }
  // The new attempt is matched by name and by the bytes handed back: those of the error copy, hashed now (a row
  // may have failed before it was hashed, or the operator fixed the copy), so that another file of the same name is
  // never taken for the requeued one, nor the error copy dropped for it.
  let sha: string | null = null;
  if (rec.state === "failed" && rec.errorPath && !(await deps.store.requeueIntent(id))) {
    sha = await deps.hash(rec.errorPath);
    if (!sha)
      return refused(id, "copy-missing", `${rec.errorPath} is missing from the error directory (or unreadable)`);
  }
  const r = await deps.store.requestRequeue(id, sha);
  // What survives a kill here: the intent (the copy still in the error directory); a rerun finds it and moves on.
  crashPoint("after-requeue-intent");
  if (r.kind === "unknown") return refused(id, "unknown", "no file has this id");
  if (r.kind === "not-failed") return refused(id, "not-failed", `not failed (status: ${r.state})`);
  const errorCopy = rec.errorPath;
  const paths: HandBackPaths | null = errorCopy ? { errorCopy, staging: join(deps.input, r.intent.name) } : null;
  if (r.kind === "linked") {
    // Requeued before; a kill may have left the error copy's leftovers (the bytes are in the new attempt).
    if (paths) await finishLinked(deps, paths);
    return { id, result: "already", name: r.intent.name, newId: r.newId };
  }
  if (!paths) return refused(id, "copy-missing", "no error copy is recorded");
  const linked = async () => Boolean((await deps.store.requeueIntent(id))?.newId);
  const moved = await handBack(paths, deps.dirs, linked);
  if (moved !== "in-staging") {
    // Nothing was moved: the intent goes, so the row is still failed and can be requeued once the cause is gone.
    // (A file linked to it meanwhile keeps it: cancel refuses, and the file counts as requeued.)
    if (!(await deps.store.cancelRequeue(id))) return already(deps, id, r.intent.name);
    return moved === "name-taken"
      ? refused(id, "name-taken", `${paths.staging} is taken by another file: move it away and requeue again`)
      : refused(id, "copy-missing", `${paths.errorCopy} is missing from the error directory`);
  }
  // What survives a kill here: the copy in staging (the pipeline may already be ingesting it), its reason still
  // beside the error copy's old name; a rerun finds the copy gone from the error directory and removes the reason.
  crashPoint("after-requeue-move");
  await handBackSidecar(paths, deps.dirs);
  await dropReason(paths, deps.dirs);
  const now = await deps.store.requeueIntent(id);
  if (now?.newId) return { id, result: "already", name: r.intent.name, newId: now.newId };
  return { id, result: "pending", name: r.intent.name };
}

/**
 * Linked: the new attempt holds the bytes (matched by name and SHA-256), so what is left in the error directory
 * is a leftover of a kill before its removal: it, its `.ok` and its reason go.
 */
async function finishLinked(deps: RequeueDeps, paths: HandBackPaths): Promise<void> {
  await handBack(paths, deps.dirs, async () => true);
  await rm(`${paths.errorCopy}.ok`, { force: true });
  await dropReason(paths, deps.dirs);
}

async function already(deps: RequeueDeps, id: string, name: string): Promise<RequeueOutcome> {
  const intent = await deps.store.requeueIntent(id);
  return { id, result: "already", name, newId: intent?.newId ?? "" };
}

function refused(id: string, reason: RequeueRefusal, message: string): RequeueOutcome {
  return { id, result: "refused", reason, message };
}
