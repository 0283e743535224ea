import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { EntryGuard } from "./entry-guard.js";
import type { ArchiveKind } from "./kind.js";
import { type ArchiveLimits, ByteBudget, DEFAULT_ARCHIVE_LIMITS } from "./limits.js";
import { readGzip } from "./read-gz.js";
import { readTar } from "./read-tar.js";
import { readZip } from "./read-zip.js";
import type { ArchiveEntry, ReadArchiveOptions, ReaderContext } from "./types.js";

function withDefaults(limits: Partial<ArchiveLimits>): ArchiveLimits {
  const merged: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS };
  for (const [k, v] of Object.entries(limits) as [keyof ArchiveLimits, number | undefined][]) {
    if (v !== undefined) merged[k] = v;
  }
  return merged;
}

/**
 * Walks the archive at `path` in order, without ever holding the archive or a member in memory.
 * Directories are skipped silently. Unsafe members (absolute or `..` paths, links, devices,
 * FIFOs, encrypted or unsupported zip members) come out as "rejected" entries, never as errors.
 *
 * For a "file" entry the consumer calls open() at most once and consumes or destroys the stream
 * before pulling the next entry; an unopened member is skipped by the reader. The stream checks
 * the limits as bytes flow and fails with ArchiveError "limit"; damaged data fails it with
 * "corrupt" or "truncated". A zip member with damaged data fails only its own stream; in a tar
 * (or gzip) the damage ends the archive too. Once the total or ratio limit is crossed, or the
 * archive structure is bad, the iterator throws ArchiveError ("corrupt" | "truncated" | "limit"
 * | "unsupported"); entries yielded before stay valid. I/O errors on the archive file itself
 * propagate unwrapped. Stopping early (break/return/throw) closes every descriptor before the
 * iterator's return() settles. The reader never writes anything.
 *
 * `limits` may be partial; missing fields take DEFAULT_ARCHIVE_LIMITS.
 */
export async function* readArchive(
  path: string,
  kind: ArchiveKind,
  limits: Partial<ArchiveLimits> = DEFAULT_ARCHIVE_LIMITS,
  opts: ReadArchiveOptions = {},
): AsyncGenerator<ArchiveEntry> {
  const effective = withDefaults(limits);
  const { size } = await stat(path);
  const ctx: ReaderContext = { budget: new ByteBudget(effective, size), guard: new EntryGuard(effective.maxMembers) };
  switch (kind) {
    case "tar":
      yield* readTar(path, false, ctx);
      return;
    case "tar.gz":
      yield* readTar(path, true, ctx);
      return;
    case "zip":
      yield* readZip(path, ctx);
      return;
    case "gz":
      yield* readGzip(path, opts.gzMemberName ?? basename(path).replace(/\.gz$/i, ""), ctx);
      return;
  }
}
