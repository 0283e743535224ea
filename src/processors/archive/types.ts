import type { Readable } from "node:stream";
import type { EntryGuard } from "./entry-guard.js";
import type { ByteBudget } from "./limits.js";

/** A regular file inside the archive, readable once through {@link ArchiveFileEntry.open}. */
export interface ArchiveFileEntry {
  kind: "file";
  /** 0-based position among the yielded entries (directories are not entries). */
  index: number;
  /** Safe relative path, see safeMemberPath. */
  path: string;
  /** Size the archive declares; null when it cannot be trusted (gzip's ISIZE) or is unknown. */
  size: number | null;
  /**
   * The member's bytes, limit-checked as they flow. Call at most once, before pulling the next
   * entry, and consume or destroy the stream before pulling it. Errors are ArchiveError.
   */
  open(): Readable;
}

/** A member that is deliberately not offered: unsafe path, link, device, encrypted, … */
export interface ArchiveRejectedEntry {
  kind: "rejected";
  index: number;
  /** The member's name exactly as the archive stores it. */
  rawPath: string;
  reason: string;
}

/** One member of an archive, as seen by the consumer. */
export type ArchiveEntry = ArchiveFileEntry | ArchiveRejectedEntry;

/** Extra inputs for {@link readArchive} that only some kinds use. */
export interface ReadArchiveOptions {
  /** "gz" only: the single member's name; defaults to the archive's base name minus `.gz`. */
  gzMemberName?: string;
}

/** Per-archive state shared by the format readers. */
export interface ReaderContext {
  budget: ByteBudget;
  guard: EntryGuard;
}
