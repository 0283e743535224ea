import type { FileState } from "./file-state.js";
import type { ProcessingRecordV1 } from "./processing.js";

/** What sluice knows about one source file, as persisted in the state store. */
export interface FileRecord {
  ingestId: string;
  /** Absolute path of the file in staging when it was discovered. */
  sourcePath: string;
  /** Path relative to the staging directory (kept in the warehouse name). */
  name: string;
  device: number;
  inode: number;
  size: number;
  mtimeMs: number;
  sha256: string | null;
  state: FileState;
  /** Absolute path in the warehouse (reserved before the move happens). */
  warehousePath: string | null;
  duplicateOf: string | null;
  /** Absolute path of the sidecar (`NAME.ok`) that made this file ready, if any. */
  sidecarPath: string | null;
  ingestedAt: string | null;
  manifestPath: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  errorPath: string | null;
  attempts: number;
  discoveredAt: string;
  updatedAt: string;
  /** Archive members: where they came from. */
  archiveIngestId: string | null;
  memberPath: string | null;
  memberIndex: number | null;
  /** What processing produced (null: no processor applied, or not processed yet). */
  processing: ProcessingRecordV1 | null;
  /**
   * Which generation of derived outputs `processing` describes: 0 for those of the ingest, +1 per reprocess
   * (issue 21). Optional in the type so that records built by hand stay valid; the stores always set it.
   */
  generation?: number;
  /** A new attempt made by `sluice requeue`: the failed row it was handed back from. */
  requeuedFrom: string | null;
  /** A failed row that was requeued: its new attempt, once the pipeline recorded it. */
  requeuedTo: string | null;
}

/** The identity of a file generation on disk: used to tell "the same file" from a replacement. */
export interface FileIdentity {
  device: number;
  inode: number;
  size: number;
  mtimeMs: number;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.device === b.device && a.inode === b.inode && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** The identity of what a stat call saw. */
export function identityOf(st: { dev: number; ino: number; size: number; mtimeMs: number }): FileIdentity {
  return { device: st.dev, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}
