import { ArchiveError } from "./errors.js";
import { safeMemberPath } from "./member-path.js";

/** What a member is, in terms common to tar and zip. */
export type MemberType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "character-device"
  | "block-device"
  | "fifo"
  | "socket"
  | "other";

/** The guard's verdict on one member. */
export type Verdict =
  | { kind: "skip" }
  | { kind: "file"; index: number; path: string }
  | { kind: "rejected"; index: number; rawPath: string; reason: string };

const TYPE_REASON: Record<Exclude<MemberType, "file" | "directory" | "symlink" | "hardlink">, string> = {
  "character-device": "character device",
  "block-device": "block device",
  fifo: "FIFO (named pipe)",
  socket: "socket",
  other: "not a regular file",
};

/**
 * Decides, member by member, what the consumer gets, and enforces the member count.
 * Remembers link names because a later plain file "under" a link (`link_out/x.csv` after
 * `link_out -> /tmp`) is written through the link by a naive extractor.
 */
export class EntryGuard {
  private seen = 0;
  private readonly links = new Set<string>();

  constructor(readonly maxMembers: number) {}

  /** Throws ArchiveError "limit" when this member is one too many. */
  classify(rawPath: string, type: MemberType, linkTarget?: string): Verdict {
    if (type === "directory") return { kind: "skip" };
    const index = this.seen++;
    if (this.seen > this.maxMembers) {
      throw new ArchiveError(
        "limit",
        `member count limit exceeded: more than maxMembers ${this.maxMembers.toLocaleString("en-US")} entries`,
        rawPath,
      );
    }
    const checked = safeMemberPath(rawPath);
    const reject = (reason: string): Verdict => ({ kind: "rejected", index, rawPath, reason });
    if (type === "symlink" || type === "hardlink") {
      if (checked.ok) this.links.add(checked.path);
      const what = type === "symlink" ? "symbolic link" : "hard link";
      return reject(linkTarget === undefined ? what : `${what} to ${JSON.stringify(linkTarget)}`);
    }
    if (type !== "file") return reject(TYPE_REASON[type]);
    if (!checked.ok) return reject(checked.reason);
    const via = this.linkAncestor(checked.path);
    if (via !== null) return reject(`path goes through link ${JSON.stringify(via)}`);
    return { kind: "file", index, path: checked.path };
  }

  private linkAncestor(path: string): string | null {
    if (this.links.size === 0) return null;
    for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
      const prefix = path.slice(0, i);
      if (this.links.has(prefix)) return prefix;
    }
    return null;
  }
}
