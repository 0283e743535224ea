export { ArchiveError, type ArchiveErrorCode } from "./errors.js";
export { type ArchiveKind, archiveKindOf } from "./kind.js";
export { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from "./limits.js";
export { type MemberPathCheck, safeMemberPath } from "./member-path.js";
export { readArchive } from "./read-archive.js";
export type { ArchiveEntry, ArchiveFileEntry, ArchiveRejectedEntry, ReadArchiveOptions } from "./types.js";
