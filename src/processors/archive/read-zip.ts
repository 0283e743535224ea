import { open as openFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { Entry, ZipFile } from "yauzl";
import yauzl from "yauzl";
import { Channel } from "./channel.js";
import type { MemberType } from "./entry-guard.js";
import { ArchiveError, isIoError, toArchiveError } from "./errors.js";
import { MemberStream } from "./member-stream.js";
import type { ArchiveEntry, ReaderContext } from "./types.js";

/** The file-type bits of a Unix mode, as zip tools store it in the high half of the external attributes. */
const S_IFMT = 0o170000;

function zipMemberType(externalFileAttributes: number, name: string): MemberType {
  // A switch rather than a lookup object: octal literals as object keys are easy to mangle.
  switch ((externalFileAttributes >>> 16) & S_IFMT) {
    case 0o120000:
      return "symlink";
    case 0o040000:
      return "directory";
    case 0o010000:
      return "fifo";
    case 0o020000:
      return "character-device";
    case 0o060000:
      return "block-device";
    case 0o140000:
      return "socket";
    default:
      // 0 (DOS/Windows tools leave the Unix half empty) or S_IFREG: the name decides.
      return name.endsWith("/") || name.endsWith("\\") ? "directory" : "file";
  }
}

const UTF8_FLAG = 0x800;
const UNICODE_PATH_FIELD = 0x7075;

/**
 * yauzl's own name decoding (UTF-8 flag, Info-ZIP Unicode path field, else CP437) but
 * without its validation: with decodeStrings on, one `../` member makes yauzl fail the whole
 * archive, and we want to reject that member and carry on. strictFileNames keeps backslashes
 * so rawPath is what the archive says; safeMemberPath treats them as separators.
 * Pure-ASCII names are taken as they are: yauzl's CP437 table draws bytes 0x01-0x1F as
 * glyphs, which would turn the legal name `new\nline.csv` into `new◙line.csv`.
 */
function memberName(entry: Entry): string {
  const raw = entry.fileNameRaw;
  const flagged =
    (entry.generalPurposeBitFlag & UTF8_FLAG) !== 0 || entry.extraFields.some((f) => f.id === UNICODE_PATH_FIELD);
  if (!flagged && raw.every((b) => b < 0x80)) return raw.toString("latin1");
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
}

const ZIP_LOCAL_HEADER = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** yauzl says "no end of central directory" both for a cut-off zip and for a non-zip: the first bytes tell them apart. */
async function openError(path: string, err: unknown): Promise<Error> {
  if (isIoError(err)) return err as Error;
  const message = err instanceof Error ? err.message : String(err);
  if (!/end of central directory record signature not found/i.test(message)) return toArchiveError(err);
  const fh = await openFile(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ZIP_LOCAL_HEADER)
      ? new ArchiveError("truncated", `truncated zip: no end-of-central-directory record (${message})`, undefined, err)
      : new ArchiveError("corrupt", `not a zip archive: ${message}`, undefined, err);
  } finally {
    await fh.close();
  }
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    const options = {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
      strictFileNames: true,
      decodeStrings: false,
    };
    yauzl.open(path, options, (err, zip) => {
      if (err) openError(path, err).then(reject, reject);
      else resolve(zip);
    });
  });
}

function unsupportedReason(entry: Entry): string | null {
  if (entry.isEncrypted()) return "encrypted member (not supported)";
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return `unsupported compression method ${entry.compressionMethod} (only stored and deflate)`;
  }
  return null;
}

/** One regular member: its stream is opened from the central directory entry only on demand. */
class ZipMember {
  stream: MemberStream | null = null;
  private released = false;

  constructor(
    private readonly zip: ZipFile,
    private readonly entry: Entry,
    private readonly path: string,
    private readonly ctx: ReaderContext,
  ) {}

  open(): Readable {
    if (this.released) throw new Error(`open() on ${JSON.stringify(this.path)} after the archive moved past it`);
    if (this.stream) throw new Error(`open() called twice on ${JSON.stringify(this.path)}`);
    const { entry, path, ctx } = this;
    const stream = new MemberStream({
      memberPath: path,
      budget: ctx.budget,
      countTotal: true,
      // yauzl's member streams are independent range reads: destroying one releases its fd reference.
      abandon: (s) => s.destroy(),
      expectedCrc: entry.crc32,
    });
    this.stream = stream;
    const refused = ctx.budget.checkDeclared(entry.uncompressedSize, path);
    if (refused) {
      stream.fail(refused);
      return stream;
    }
    this.zip.openReadStream(entry, (err, source) => {
      if (err) stream.fail(err);
      else stream.attach(source);
    });
    return stream;
  }

  release(): void {
    this.released = true;
    if (this.stream && !this.stream.settled) this.stream.destroy();
  }
}

/**
 * Walks a zip through its central directory with yauzl (random access through the fd, no
 * whole-file read). A member whose data is damaged fails only its own stream ("corrupt"):
 * the central directory still locates every later member, so reading carries on with them.
 */
export async function* readZip(path: string, ctx: ReaderContext): AsyncGenerator<ArchiveEntry> {
  const { budget, guard } = ctx;
  const zip = await openZip(path);
  // The central directory says up front how many entries there are: refuse before ingesting any member,
  // rather than after 10,000 of them. (This count includes directory entries; the streaming check does not.)
  if (zip.entryCount > guard.maxMembers) {
    zip.close();
    throw new ArchiveError(
      "limit",
      `member count limit exceeded: the zip lists ${zip.entryCount.toLocaleString("en-US")} entries, more than maxMembers ${guard.maxMembers.toLocaleString("en-US")}`,
    );
  }
  const closed = new Promise<void>((resolve) => zip.once("close", () => resolve()));
  const channel = new Channel<Entry>();
  zip.on("entry", (entry: Entry) => channel.push(entry));
  zip.on("end", () => channel.end());
  zip.on("error", (err: unknown) => channel.fail(isIoError(err) ? err : toArchiveError(err)));

  let member: ZipMember | null = null;
  try {
    for (;;) {
      if (budget.breach) throw budget.breach;
      zip.readEntry();
      const entry = await channel.next();
      if (entry === null) break;
      const raw = memberName(entry);
      const verdict = guard.classify(raw, zipMemberType(entry.externalFileAttributes, raw));
      if (verdict.kind === "skip") continue;
      if (verdict.kind === "rejected") {
        yield verdict;
        continue;
      }
      const unsupported = unsupportedReason(entry);
      if (unsupported) {
        yield { kind: "rejected", index: verdict.index, rawPath: raw, reason: unsupported };
        continue;
      }
      const current = new ZipMember(zip, entry, verdict.path, ctx);
      member = current;
      yield {
        kind: "file",
        index: verdict.index,
        path: verdict.path,
        size: entry.uncompressedSize,
        open: () => current.open(),
      };
      current.release();
      member = null;
    }
    if (budget.breach) throw budget.breach;
  } finally {
    member?.release();
    // The fd closes once no member stream holds a reference any more (yauzl ref-counts it).
    zip.close();
    await closed;
  }
}
