import { close, closeSync } from "node:fs";
import type { FileRecord } from "../../core/file-record.js";
import type { NewFile } from "../../store/state-store.js";
import type { Candidate } from "../../watch/candidate.js";
import type { Outcome } from "../outcomes.js";
import type { Processed } from "../processing/process-file.js";
import type { FinalDecision } from "../stages/decide.js";
import type { HashedSource } from "../stages/read-source.js";

/**
 * One file on its way forward (driver.ts): what the steps learned about it so far. Every step takes an array of
 * these; a batch of small files and a single large file are the same thing with a different length.
 */
export interface Item {
  /** Position in the batch: where its outcome goes. */
  readonly i: number;
  readonly c: Candidate;
  readonly file: NewFile;
  readonly startedAt: number;
  /** 0 for a staging file, +1 per archive level (picks the processor). */
  readonly depth: number;
  /** An archive member: its bytes are its temp copy, it has nothing in staging, and its failures are judged
   * with its archive's (driver.ts, ingestMember). */
  readonly member: boolean;
  /** Set by the read step. */
  src: HashedSource | null;
  /** Descriptor of a temp copy written on the main thread until it is synced (-1: none). */
  out: number;
  /** A `discovered` commit still running beside the read of a large file. */
  discovered: Promise<void> | null;
  decision: FinalDecision | null;
  /** The warehouse name the content goes to, once freeTarget (or the fast path's lstat) found it free. */
  target: string;
  processed: Processed | null;
  /** Past the point of no return: the content (or an archive's members) may be in the warehouse. */
  stored: boolean;
  /** What the tail finishes: the record as known, or its id when the row changed under this run (a rehash). */
  known: FileRecord | string | null;
  /**
   * How many times it left a run to go on alone (driver.ts `aloneThen`). A step answers for the files whose leg
   * is still the one they entered it with: one that left meanwhile is its own run's to answer for.
   */
  leg: number;
  /** Set when it leaves the flow: by handleFailure, or by the tail. */
  outcome: Outcome | null;
}

export function newItem(i: number, c: Candidate, ingestId: string): Item {
  return {
    i,
    c,
    file: { ingestId, sourcePath: c.path, name: c.name, ...c.identity, sidecarPath: c.sidecar?.path ?? null },
    startedAt: performance.now(),
    depth: 0,
    member: false,
    src: null,
    out: -1,
    discovered: null,
    decision: null,
    target: "",
    processed: null,
    stored: false,
    known: null,
    leg: 0,
    outcome: null,
  };
}

/** What an item's log events carry besides the record: a member's archive and path. */
export function provenance(it: Item): Record<string, unknown> {
  return it.member ? { archive_ingest_id: it.file.archiveIngestId, member_path: it.file.memberPath } : {};
}

/** The item's source, once read (a step past the read only sees items that have one). */
export function srcOf(it: Item): HashedSource {
  if (!it.src) throw new Error(`internal: ${it.file.ingestId} has no source past the read step`);
  return it.src;
}

/**
 * The row as it stands once the content is safe, built from what this file's run already knows. Written out
 * field by field: built with two spreads it cost ~10 µs per file (V8 left the object in a slow shape).
 */
export function recordOf(
  file: NewFile,
  src: HashedSource,
  d: { warehousePath: string; duplicateOf?: string | null; ingestedAt: string; manifestPath: string },
): FileRecord {
  const now = new Date().toISOString();
  const id = src.identity;
  return {
    ingestId: file.ingestId,
    sourcePath: file.sourcePath,
    name: file.name,
    device: id.device,
    inode: id.inode,
    size: id.size,
    mtimeMs: id.mtimeMs,
    sha256: src.sha256,
    state: d.duplicateOf ? "hashed" : "stored",
    warehousePath: d.warehousePath,
    duplicateOf: d.duplicateOf ?? null,
    sidecarPath: file.sidecarPath,
    ingestedAt: d.ingestedAt,
    manifestPath: d.manifestPath,
    errorCode: null,
    errorMessage: null,
    errorPath: null,
    attempts: 1,
    discoveredAt: now,
    updatedAt: now,
    archiveIngestId: file.archiveIngestId ?? null,
    memberPath: file.memberPath ?? null,
    memberIndex: file.memberIndex ?? null,
    processing: null,
    // (The requeue links live in state only: the tail that reads this record does not use them.)
    requeuedFrom: null,
    requeuedTo: null,
  };
}

/**
 * Closing the last descriptor of an unlinked file frees its blocks: for a large file that takes long enough
 * (~0.2 s per GiB on ext4) to stall every other file if done on the event loop, and a copied small source (its
 * name already unlinked from staging) costs ~70 µs on ext4, a third of the main thread's time in bench b. Those
 * are closed on the thread pool; nothing waits for them.
 */
export function closeSource(src: HashedSource): void {
  if (src.tmpPath || src.identity.size > 1 << 20) close(src.fd, () => undefined);
  else closeSync(src.fd);
}
