/** The archive formats the reader understands. "gz" is a single gzip-compressed file, not a tarball. */
export type ArchiveKind = "tar" | "tar.gz" | "gz" | "zip";

/**
 * Detects the archive kind from a file name, case-insensitively: `.tar`, `.tar.gz`/`.tgz`,
 * `.gz` (any other gzip: one compressed file) and `.zip`. Returns null for anything else.
 */
export function archiveKindOf(name: string): ArchiveKind | null {
  const lower = name.toLowerCase();
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) return "tar.gz";
  if (lower.endsWith(".tar")) return "tar";
  if (lower.endsWith(".gz")) return "gz";
  if (lower.endsWith(".zip")) return "zip";
  return null;
}
