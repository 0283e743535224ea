import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import { ArchiveError, isIoError, toArchiveError } from "./errors.js";
import type { ByteBudget } from "./limits.js";

/**
 * The little a MemberStream needs from a library's stream: node Readables (zlib, yauzl) and
 * streamx Readables (tar-stream entries) both fit.
 */
export interface ByteSource {
  on(event: "data", listener: (chunk: unknown) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (err: unknown) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  off(event: "data", listener: (chunk: unknown) => void): unknown;
  off(event: "end", listener: () => void): unknown;
  off(event: "error", listener: (err: unknown) => void): unknown;
  off(event: "close", listener: () => void): unknown;
  /** Both node and streamx Readables say when they were destroyed. */
  readonly destroyed?: boolean;
  pause(): unknown;
  resume(): unknown;
  destroy(err?: Error): unknown;
}

/** How a {@link MemberStream} meters and finishes one member. */
export interface MemberStreamOptions {
  memberPath: string;
  budget: ByteBudget;
  /** False when an archive-level counter already counts these bytes (tar.gz counts gunzip output). */
  countTotal: boolean;
  /** The source must not be destroyed outright for tar (that kills the whole extract): drain or close it here. */
  abandon(source: ByteSource): void;
  /** Zip members: the central directory's CRC-32, checked once the data ends (yauzl does not). */
  expectedCrc?: number;
}

const noop = (): void => {};

/**
 * The stream handed to the consumer for one member. It sits between the format library's
 * stream and the consumer so that limits are enforced on every chunk, errors come out as
 * ArchiveError, and a consumer that destroys it cannot take the rest of the archive down.
 * The source may arrive after construction because yauzl opens member streams asynchronously.
 */
export class MemberStream extends Readable {
  private source: ByteSource | null = null;
  private sourceDone = false;
  private wanted = false;
  private bytes = 0;
  private crc = 0;
  private readonly opts: MemberStreamOptions;
  /** The error this stream failed with, if it failed by itself (not by a consumer's destroy). */
  failure: Error | null = null;

  constructor(opts: MemberStreamOptions) {
    super();
    this.opts = opts;
    // A member's failure reaches the consumer through its read and the iterator's next pull. Once the consumer
    // has stopped listening (it got the first error, or moved on while the archive failed behind it), a late
    // 'error' must not become an uncaught exception that kills the whole service.
    this.on("error", noop);
  }

  /** Connects the library's stream of this member's bytes. */
  attach(source: ByteSource): void {
    if (this.destroyed) {
      source.on("error", noop);
      this.opts.abandon(source);
      return;
    }
    // The archive failed (and took this member's stream down) while the member waited in the reader's queue:
    // such a source never emits again, and a consumer waiting on it would wait forever.
    if (source.destroyed) {
      source.on("error", noop);
      this.fail(this.cutShort());
      return;
    }
    this.source = source;
    source.on("data", this.onData);
    source.on("end", this.onEnd);
    source.on("error", this.onError);
    source.on("close", this.onClose);
    // Listening to "data" starts the flow; nothing moves until the consumer asks.
    source.pause();
    if (this.wanted) source.resume();
  }

  /** Fails the member before (or instead of) attaching a source. */
  fail(err: unknown): void {
    this.sourceDone = true;
    this.failWith(this.toError(err));
  }

  /** True once the member ended, failed or was destroyed: the reader may move past it. */
  get settled(): boolean {
    return this.sourceDone || this.destroyed;
  }

  override _read(): void {
    this.wanted = true;
    this.source?.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const source = this.source;
    if (source !== null) {
      this.detach(source);
      if (!this.sourceDone) this.opts.abandon(source);
    }
    cb(err);
  }

  private readonly onData = (data: unknown): void => {
    // Both zlib/yauzl and tar-stream (b4a) hand out Buffers; streamx just types them as unknown.
    const chunk = data as Buffer;
    const { budget, memberPath, countTotal } = this.opts;
    this.bytes += chunk.length;
    const breach =
      budget.checkMember(this.bytes, memberPath) ?? (countTotal ? budget.add(chunk.length, memberPath) : budget.breach);
    if (breach !== null) {
      this.failWith(breach);
      return;
    }
    if (this.opts.expectedCrc !== undefined) this.crc = crc32(chunk, this.crc);
    if (!this.push(chunk)) this.source?.pause();
  };

  private readonly onEnd = (): void => {
    this.sourceDone = true;
    const expected = this.opts.expectedCrc;
    if (expected !== undefined && this.crc >>> 0 !== expected >>> 0) {
      const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
      this.failWith(this.toError(new Error(`CRC-32 mismatch: expected ${hex(expected)}, got ${hex(this.crc)}`)));
      return;
    }
    this.push(null);
  };

  /** Closed without an end or an error (a library destroying it quietly): the member's bytes stop short. */
  private readonly onClose = (): void => {
    if (this.sourceDone) return;
    this.sourceDone = true;
    this.failWith(this.cutShort());
  };

  private cutShort(): ArchiveError {
    const { memberPath } = this.opts;
    return new ArchiveError(
      "truncated",
      `truncated archive (member ${JSON.stringify(memberPath)}): the archive ended before this member's data did`,
      memberPath,
    );
  }

  private readonly onError = (err: unknown): void => {
    this.sourceDone = true;
    this.failWith(this.toError(err));
  };

  private failWith(err: Error): void {
    this.failure ??= err;
    this.destroy(err);
  }

  private detach(source: ByteSource): void {
    source.off("data", this.onData);
    source.off("end", this.onEnd);
    source.off("error", this.onError);
    source.off("close", this.onClose);
    // Libraries may still emit errors on a stream nobody listens to; unhandled, they would crash the process.
    source.on("error", noop);
  }

  private toError(err: unknown): Error {
    return isIoError(err) ? (err as Error) : (toArchiveError(err, this.opts.memberPath) satisfies ArchiveError);
  }
}
