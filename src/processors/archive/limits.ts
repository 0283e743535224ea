import { ArchiveError } from "./errors.js";

/** Ceilings that keep a hostile archive from exhausting disk, memory or CPU. */
export interface ArchiveLimits {
  /** Most entries (files + rejected members; directories excluded) before the archive is refused. */
  maxMembers: number;
  /** Most expanded bytes in the whole archive. */
  maxTotalBytes: number;
  /** Most expanded bytes per byte of archive on disk. */
  maxRatio: number;
  /** Optional cap on a single member's expanded bytes. */
  maxMemberBytes?: number;
}

/** Generous for real data, yet a decompression bomb stops after ~200 × its own size. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxMembers: 10_000,
  maxTotalBytes: 10 * 1024 ** 3,
  maxRatio: 200,
});

const fmt = (n: number): string => n.toLocaleString("en-US");

/**
 * Running count of expanded bytes for one archive. The first total/ratio breach is kept:
 * once the archive as a whole is over budget, nothing after it is worth reading.
 */
export class ByteBudget {
  expanded = 0;
  breach: ArchiveError | null = null;
  private readonly archiveBytes: number;

  constructor(
    readonly limits: ArchiveLimits,
    archiveBytes: number,
  ) {
    // An empty file would make every ratio infinite; it has nothing to expand anyway.
    this.archiveBytes = Math.max(archiveBytes, 1);
  }

  /** Counts `n` more expanded bytes; returns the breach if this crosses the total or ratio limit. */
  add(n: number, memberPath?: string): ArchiveError | null {
    if (this.breach) return this.breach;
    this.expanded += n;
    this.breach = this.check(this.expanded, memberPath, "");
    return this.breach;
  }

  /**
   * Whether a member that declares `declared` bytes would cross a limit once read, so a bomb
   * that announces itself is refused before any inflation. Does not count the bytes.
   */
  checkDeclared(declared: number, memberPath: string): ArchiveError | null {
    if (this.breach) return this.breach;
    const cap = this.limits.maxMemberBytes;
    if (cap !== undefined && declared > cap) {
      return new ArchiveError(
        "limit",
        `member size limit exceeded: ${JSON.stringify(memberPath)} declares ${fmt(declared)} bytes > maxMemberBytes ${fmt(cap)}`,
        memberPath,
      );
    }
    return this.check(this.expanded + declared, memberPath, " (declared size)");
  }

  /** The per-member cap, checked as a member's bytes flow. */
  checkMember(memberBytes: number, memberPath: string): ArchiveError | null {
    const cap = this.limits.maxMemberBytes;
    if (cap === undefined || memberBytes <= cap) return null;
    return new ArchiveError(
      "limit",
      `member size limit exceeded: ${JSON.stringify(memberPath)} expanded past ${fmt(cap)} bytes (maxMemberBytes), at ${fmt(memberBytes)}`,
      memberPath,
    );
  }

  private check(total: number, memberPath: string | undefined, how: string): ArchiveError | null {
    const { maxTotalBytes, maxRatio } = this.limits;
    if (total > maxTotalBytes) {
      return new ArchiveError(
        "limit",
        `total size limit exceeded${how}: ${fmt(total)} expanded bytes > maxTotalBytes ${fmt(maxTotalBytes)}`,
        memberPath,
      );
    }
    const ratio = total / this.archiveBytes;
    if (ratio > maxRatio) {
      return new ArchiveError(
        "limit",
        `expansion ratio limit exceeded${how}: ${fmt(total)} expanded bytes from ${fmt(this.archiveBytes)} archive bytes ` +
          `(ratio ${ratio.toFixed(1)} > maxRatio ${maxRatio})`,
        memberPath,
      );
    }
    return null;
  }
}
