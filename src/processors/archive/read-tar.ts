import { once } from "node:events";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { Header } from "tar-stream";
import tar from "tar-stream";
import { Channel } from "./channel.js";
import type { MemberType } from "./entry-guard.js";
import { isIoError, toArchiveError } from "./errors.js";
import { GzipStream } from "./gzip-stream.js";
import { type ByteSource, MemberStream } from "./member-stream.js";
import type { ArchiveEntry, ReaderContext } from "./types.js";

interface TarItem {
  header: Header;
  source: ByteSource;
  next: () => void;
}

const noop = (): void => {};

function memberType(type: Header["type"] | null | undefined): MemberType {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
    case "symlink":
    case "character-device":
    case "block-device":
    case "fifo":
      return type;
    case "link":
      return "hardlink";
    default:
      return "other";
  }
}

/** One regular member: lends its bytes out at most once, and is drained if nobody reads it. */
class TarMember {
  private stream: MemberStream | null = null;
  private released = false;

  constructor(
    private readonly source: ByteSource,
    private readonly path: string,
    private readonly size: number,
    private readonly ctx: ReaderContext,
    private readonly gzipped: boolean,
  ) {}

  open(): Readable {
    if (this.released) throw new Error(`open() on ${JSON.stringify(this.path)} after the archive moved past it`);
    if (this.stream) throw new Error(`open() called twice on ${JSON.stringify(this.path)}`);
    const stream = new MemberStream({
      memberPath: this.path,
      budget: this.ctx.budget,
      // For tar.gz the gunzip output is counted upstream, including members nobody opens.
      countTotal: !this.gzipped,
      // Destroying a tar-stream entry destroys the whole extract: skip its bytes instead.
      abandon: (s) => s.resume(),
    });
    this.stream = stream;
    const refused = this.ctx.budget.checkDeclared(this.size, this.path);
    if (refused) {
      this.source.resume();
      stream.fail(refused);
    } else {
      stream.attach(this.source);
    }
    return stream;
  }

  /** Called when the consumer pulls the next entry: the tar can only move on once this member's bytes are gone. */
  release(): void {
    this.released = true;
    if (this.stream === null) this.source.resume();
    else if (!this.stream.settled) this.stream.destroy();
  }
}

/** Streams a tar (optionally gzip-compressed) through tar-stream; see readArchive for the contract. */
export async function* readTar(path: string, gzipped: boolean, ctx: ReaderContext): AsyncGenerator<ArchiveEntry> {
  const { budget, guard } = ctx;
  const file = createReadStream(path);
  const fileClosed = once(file, "close").catch(noop);
  const extract = tar.extract();
  const channel = new Channel<TarItem>();
  let currentPath: string | undefined;
  const parts: Readable[] = [file];

  let gzip: GzipStream | null = null;
  const fail = (err: unknown): void => {
    // tar-stream's "unexpected end" after gunzip failed is a consequence: report gunzip's own finding.
    const e = isIoError(err) ? (err as Error) : (gzip?.failure ?? toArchiveError(err, currentPath));
    channel.fail(e);
    // Takes the member being read down with the same error (tar-stream forwards it to the entry).
    extract.destroy(e);
    for (const p of parts) p.destroy();
    gzip?.destroy();
  };

  file.on("error", fail);
  let upstream: Readable = file;
  if (gzipped) {
    gzip = new GzipStream(path, file, budget, () => currentPath);
    gzip.output.on("error", fail);
    upstream = gzip.output;
  }
  extract.on("entry", (header: Header, source: ByteSource, next: () => void) => {
    // tar-stream may emit errors on entries after the fact; the MemberStream reports the real one.
    source.on("error", noop);
    channel.push({ header, source, next });
  });
  // Every member tar-stream could read has been offered: the archive ended cleanly only if its gzip stream did.
  extract.on("finish", () => {
    if (!gzip) return channel.end();
    gzip.verify().then(
      (damage) => (damage ? channel.fail(damage) : channel.end()),
      (err: unknown) => fail(err),
    );
  });
  extract.on("error", fail);
  upstream.pipe(extract);

  let member: TarMember | null = null;
  try {
    for (;;) {
      if (budget.breach) throw budget.breach;
      const item = await channel.next();
      if (item === null) break;
      const { header, source, next } = item;
      const verdict = guard.classify(header.name, memberType(header.type), header.linkname ?? undefined);
      currentPath = verdict.kind === "file" ? verdict.path : header.name;
      if (verdict.kind !== "file") {
        source.resume();
        if (verdict.kind === "rejected") yield verdict;
        next();
        continue;
      }
      const size = header.size ?? 0;
      const current = new TarMember(source, verdict.path, size, ctx, gzipped);
      member = current;
      yield { kind: "file", index: verdict.index, path: verdict.path, size, open: () => current.open() };
      current.release();
      member = null;
      next();
    }
    if (budget.breach) throw budget.breach;
  } finally {
    member?.release();
    extract.destroy();
    for (const p of parts) p.destroy();
    gzip?.destroy();
    await fileClosed;
  }
}
