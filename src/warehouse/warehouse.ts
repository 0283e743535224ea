import type { Limiter } from "../core/limiter.js";
import type { Placement } from "./warehouse-paths.js";

/*
 * The one seam between the pipeline and where stored content lives. The pipeline, the service and `sluice
 * verify` see only these interfaces; the implementations (one folder each: local/, s3/) are picked by the
 * wiring root (src/cli/wire.ts, src/cli/open-*.ts). Paths are as state and the manifest record them: an
 * absolute local path, or a full `s3://BUCKET/KEY` URI. See README.md beside this file.
 */

/** What is stored at a path: its size and SHA-256 (null when the store has none recorded, or it is no file). */
export interface StoredObject {
  size: number;
  sha256: string | null;
}

/** Content to put: a file by path, or an open descriptor (read with pread from offset 0, left open). */
export type PutSource = { path: string } | { fd: number };

/** Per-call options of {@link Warehouse.put}. */
export interface PutOptions {
  signal?: AbortSignal;
  /** Hears the bytes acknowledged so far (per part, for a multipart upload). */
  onProgress?: (bytesSent: number) => void;
  /**
   * The path may hold other content, which is replaced: for objects derived from the file (its Parquet), which
   * a replay rewrites. Default false: other content at the path is {@link OccupiedError}.
   */
  replace?: boolean;
}

/**
 * A warehouse that is a local directory tree this process can rename into. Content then lands by rename(2) of
 * the very inode that was hashed (or of its temp copy), with a directory fsync, instead of being put: the
 * pipeline's fast path for plain files, and the only way a stored copy can be read in place (recovery
 * re-processes it). Object stores have none of this; they are {@link Warehouse.put} only.
 */
export interface WarehouseDirectory {
  /** The permission bits of what is stored from a source with `sourceMode` (see local/local-warehouse.ts). */
  modeFor(sourceMode: number): number;
  /** Gives the temp copy (by path) or the open source (by descriptor) its warehouse mode, before the rename. */
  seal(src: { fd: number; tmpPath: string | null; owner: { mode: number } }): void;
  /** What is at `path` (lstat), or null; a path no file can have throws a SluiceError naming why. */
  occupant(path: string): Promise<{ dev: number; ino: number; size: number } | null>;
  /** Makes the directory (durably: fsynced into its parent); concurrent callers share one mkdir. */
  ensureDir(dir: string): Promise<void>;
  /** rename() + fsync of the directory: after this resolves the move survives a crash. */
  moveIn(from: string, to: string): Promise<void>;
}

/** What `sluice verify` asks of a warehouse, local or remote; paths are as state records them. */
export interface WarehouseView {
  readonly root: string;
  /** The object's size and SHA-256 (local: hashed now; S3: its `sha256` metadata), or null if it is not there. */
  inspect(path: string): Promise<StoredObject | null>;
  exists(path: string): Promise<boolean>;
  /** Every stored object (the work area excluded). */
  objects(): AsyncIterable<string>;
  /** Files left in the work area. */
  temps(): Promise<string[]>;
  removeTemp(path: string): Promise<void>;
  /** Removes an output no file records (`verify --repair`); absent where the view cannot delete (S3). */
  removeOutput?(path: string): Promise<void>;
}

/**
 * How the pipeline treats a failed call to a warehouse (pipeline/warehouse-calls.ts): each store knows its own
 * errors; the pipeline only knows these three answers.
 */
export interface WarehouseFailures {
  /** A blip worth trying again soon (throttling, a 5xx, a timeout, a reset): retried with backoff. */
  transient(err: unknown): boolean;
  /**
   * A refusal that retrying will not cure until an operator acts (no bucket, access denied), or null when `err`
   * is no refusal (it is then the caller's to judge). `event` is the log line the store names it with, `cause`
   * keys it (one line per cause, however many files wait on it), `message` says what to fix.
   */
  refusal(err: unknown): { event: string; cause: string; message: string } | null;
  /** A short label for logs and counters: `ECONNREFUSED`, `SlowDown (HTTP 503)`. */
  describe(err: unknown): string;
}

/**
 * Where stored content lives. Every method is safe to repeat with the same arguments (callers retry them);
 * none ever writes over other content unless told to (`replace`, for derived outputs).
 */
export interface Warehouse {
  /** The warehouse as an operator names it: a directory, or `s3://BUCKET[/PREFIX]`. */
  readonly root: string;
  /** Bounds the requests in flight at once (a remote store), or null when there is nothing to bound. */
  readonly requests: Limiter | null;
  /** How its failures are to be treated: retried soon, waited out, or the caller's. */
  readonly failures: WarehouseFailures;
  /** The rename-in operations, when the warehouse is a local directory; null for an object store. */
  readonly directory: WarehouseDirectory | null;
  /** Where `name` (a path relative to staging) with this content lands when ingested at `at`. */
  placement(name: string, sha256: string, at: Date): Placement;
  /**
   * Must a source be copied into the work area while it is hashed, rather than stored from where it is?
   * (A directory warehouse on another filesystem, or a source it may not rename in; never for an upload.)
   */
  needsCopy(dev: number, owner: { uid: number; nlink: number }): boolean;
  /**
   * Stores exactly the hashed bytes at `path`: re-reads and re-hashes the source on the way
   * ({@link IntegrityError} `"source"` when it changed; nothing is stored), then checks what was stored
   * (`"object"`). `"exists"` when the path already holds these bytes (nothing sent); {@link OccupiedError} when
   * it holds other content and `replace` is not set.
   */
  put(
    path: string,
    source: PutSource,
    meta: { sha256: string; size: number },
    opts?: PutOptions,
  ): Promise<"uploaded" | "exists">;
  /** What is at `path`, or null. A local file is hashed (its SHA-256 is not recorded anywhere else). */
  head(path: string, opts?: { signal?: AbortSignal }): Promise<StoredObject | null>;
  /**
   * Does something other than these bytes hold `path`? The pipeline's "is the reserved name free for this
   * content" check; a store may remember a free answer so the put that follows need not ask again.
   */
  heldByOther(path: string, sha256: string, opts?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * Copies what is stored at `path` into the local file `dest` (created anew), hashing the bytes as they are
   * written: the size and SHA-256 returned are those of `dest`'s bytes, never a recorded claim (reprocess checks
   * them against state before any processor reads `dest`). Null when nothing is stored at `path`.
   */
  fetch(path: string, dest: string, opts?: { signal?: AbortSignal }): Promise<StoredObject | null>;
  /**
   * Removes a derived output (a Parquet, a rejects list, a table of a SQL dump) that no file's current state
   * names any more: a reprocess's previous generation, or a half-written one. Absent already is fine (safe to
   * repeat). Never called for a raw file. A directory warehouse also removes a `.tables` directory left empty.
   */
  remove(path: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Every stored path (the work area excluded), for verify's orphan check. */
  list(): AsyncIterable<string>;
  /** The warehouse as `sluice verify` reads it; `workArea` is the directory of temp copies to report. */
  view(workArea: string): WarehouseView;
  /**
   * Aborts uploads left unfinished under the warehouse (a crash mid-upload) that `keep` (given the warehouse
   * path the upload was for) does not claim; returns what was aborted as the store names it (S3: keys, as
   * logged). Nothing to do where content never lands in pieces (a directory).
   */
  abortStaleUploads(keep?: (path: string) => Promise<boolean>): Promise<string[]>;
  /** Throws unless the warehouse is usable now (a writable directory; a bucket the credentials may use). */
  check(): Promise<void>;
  /** Cleans up what this process left (failed uploads' parts) and releases connections. */
  close(): Promise<void>;
}

/**
 * The bytes are not what they were said to be: the source changed since it was hashed (`where: "source"`,
 * nothing was stored), or what the store kept has another size or SHA-256 (`where: "object"`). Not retried
 * as is: the caller looks at the file again, or sends it again.
 */
export class IntegrityError extends Error {
  constructor(
    message: string,
    readonly where: "source" | "object",
  ) {
    super(message);
    this.name = "IntegrityError";
  }
}

/** The path already holds other content; content is never written over: the caller picks the collision name. */
export class OccupiedError extends Error {
  constructor(
    message: string,
    /** The path (or the store's key) that is taken. */
    readonly key: string,
    readonly existing: StoredObject,
  ) {
    super(message);
    this.name = "OccupiedError";
  }
}
