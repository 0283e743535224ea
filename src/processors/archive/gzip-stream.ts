import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline, Transform, Writable } from "node:stream";
import { constants, crc32, createGunzip, type Gunzip } from "node:zlib";
import { ArchiveError, toArchiveError } from "./errors.js";
import type { ByteBudget } from "./limits.js";

/**
 * The decompressed bytes of a .tar.gz, for tar-stream, with nothing thrown away at a cut.
 *
 * zlib's default (Z_FINISH at the end of input) raises "unexpected end of file" on a truncated stream and destroys
 * the gunzip stream, and with it the output it had decoded but not yet handed on; tearing tar-stream down at that
 * moment dropped complete members still buffered ahead of a slow consumer. Here the stream is decompressed with
 * Z_SYNC_FLUSH, which ends quietly after the last byte that can be decoded, so tar-stream receives every
 * recoverable byte. Whether the gzip stream was whole is then decided separately, by {@link verify}: the
 * decompressed bytes' CRC-32 and length against the trailer (the file's last 8 bytes); only when they differ (a cut,
 * damage, or a valid file of several gzip members, whose last trailer covers only the last member) is the file
 * gunzipped once more, strictly, to tell damage from a multi-member file.
 */
export class GzipStream {
  readonly output: Transform;
  private readonly gunzip: Gunzip;
  private crc = 0;
  private length = 0;
  /** Set when gunzip itself failed (damage inside the stream). */
  failure: ArchiveError | null = null;

  constructor(
    private readonly path: string,
    source: NodeJS.ReadableStream,
    budget: ByteBudget,
    currentPath: () => string | undefined,
  ) {
    this.gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
    const self = this;
    this.output = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        // Counting the decompressed stream, not member bytes, also bounds members the consumer skips.
        const breach = budget.add(chunk.length, currentPath());
        if (breach) return cb(breach);
        self.crc = crc32(chunk, self.crc);
        self.length += chunk.length;
        cb(null, chunk);
      },
    });
    // Damage inside the stream (a bad code, a wrong CRC at a member's end) still fails gunzip: what it decoded
    // before is already downstream, so the output ends and the failure is reported once tar-stream is done with it.
    this.gunzip.on("error", (err) => {
      this.failure ??= toArchiveError(err, currentPath());
      this.output.end();
    });
    source.pipe(this.gunzip).pipe(this.output);
  }

  /** Null when the gzip stream was whole; else why not. Call once the output has ended. */
  async verify(): Promise<ArchiveError | null> {
    if (this.failure) return this.failure;
    const fh = await open(this.path, "r");
    let trailer: Buffer;
    try {
      const { size } = await fh.stat();
      trailer = Buffer.alloc(8);
      if (size < 18) return truncated("the file is shorter than a gzip header and trailer");
      await fh.read(trailer, 0, 8, size - 8);
    } finally {
      await fh.close();
    }
    if (trailer.readUInt32LE(0) === this.crc >>> 0 && trailer.readUInt32LE(4) === this.length % 2 ** 32) return null;
    return strictGunzip(this.path);
  }

  destroy(): void {
    this.gunzip.destroy();
    this.output.destroy();
  }
}

function truncated(why: string): ArchiveError {
  return new ArchiveError("truncated", `truncated archive: ${why}`);
}

/** Gunzips the whole file with zlib's own end-of-stream checks, discarding the output. */
function strictGunzip(path: string): Promise<ArchiveError | null> {
  return new Promise((resolve) => {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    pipeline(createReadStream(path), createGunzip(), sink, (err) => {
      resolve(err ? toArchiveError(err) : null);
    });
  });
}
