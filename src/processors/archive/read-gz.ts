import { once } from "node:events";
import { createReadStream, type ReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";
import { ArchiveError } from "./errors.js";
import { MemberStream } from "./member-stream.js";
import type { ArchiveEntry, ReaderContext } from "./types.js";

const noop = (): void => {};

/** The one member; the file is opened only if the consumer opens the member, so skipping it costs nothing. */
class GzMember {
  private file: ReadStream | null = null;
  private gunzip: Gunzip | null = null;
  private stream: MemberStream | null = null;
  private closed: Promise<unknown> = Promise.resolve();
  private released = false;

  constructor(
    private readonly archivePath: string,
    private readonly path: string,
    private readonly ctx: ReaderContext,
  ) {}

  open(): Readable {
    if (this.released) throw new Error(`open() on ${JSON.stringify(this.path)} after the archive moved past it`);
    if (this.stream) throw new Error(`open() called twice on ${JSON.stringify(this.path)}`);
    const file = createReadStream(this.archivePath);
    const gunzip = createGunzip();
    this.file = file;
    this.gunzip = gunzip;
    this.closed = once(file, "close").catch(noop);
    // An I/O error on the file surfaces through the gunzip stream the MemberStream listens to.
    file.on("error", (err) => gunzip.destroy(err));
    file.pipe(gunzip);
    const { ctx, path } = this;
    this.stream = new MemberStream({
      memberPath: path,
      budget: ctx.budget,
      countTotal: true,
      abandon: () => this.shut(),
    });
    this.stream.attach(gunzip);
    return this.stream;
  }

  /** The error the member's stream failed with by itself, if any. */
  get failure(): Error | null {
    return this.stream?.failure ?? null;
  }

  /** Stops any reading and resolves once the file descriptor is closed. */
  async release(): Promise<void> {
    this.released = true;
    if (this.stream && !this.stream.settled) this.stream.destroy();
    this.shut();
    await this.closed;
  }

  private shut(): void {
    this.gunzip?.destroy();
    this.file?.destroy();
  }
}

/**
 * A single gzip-compressed file as a one-entry archive. Size is reported as null: ISIZE is
 * only the length mod 2^32 and is written by the (possibly hostile) producer. Concatenated
 * gzip members read as one stream (node's gunzip continues across them).
 */
export async function* readGzip(path: string, memberName: string, ctx: ReaderContext): AsyncGenerator<ArchiveEntry> {
  const verdict = ctx.guard.classify(memberName, "file");
  if (verdict.kind === "skip") return;
  if (verdict.kind === "rejected") {
    yield verdict;
    return;
  }
  const member = new GzMember(path, verdict.path, ctx);
  try {
    yield { kind: "file", index: verdict.index, path: verdict.path, size: null, open: () => member.open() };
    // The member is the whole archive: its failure (damage or a limit) is the archive's failure.
    const failure = member.failure;
    if (failure instanceof ArchiveError) throw failure;
  } finally {
    await member.release();
  }
}
