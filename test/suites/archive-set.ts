import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A set of archives to run the archive suites over: the main tier's generated fixtures (test/fixtures/gen/
 * archives.ts) or the shared corpus (conformance tier). Both have the same layout, `normal/` and `hostile/` with
 * `normal.expected.json` and `hostile.expected.json` beside them, the same archive names and shapes; what differs
 * (member names, row counts) is said here.
 */
export interface ArchiveSet {
  /** The directory holding normal/, hostile/ and their facts. */
  dir: string;
  /** The lone gzip of one CSV in normal/: its file name, the member's name and its data rows. */
  gz: { file: string; member: string; rows: number };
  /** The gzip of one CSV inside outer_with_inner_archives.tar.gz (member path). */
  innerGz: string;
  /** A member of nested.zip four directories deep. */
  deepMember: string;
  /** A member of bundle.tar.gz (path inside the archive). */
  bundleMember: string;
  /** Bytes of each member a path-attack archive offers (they all hold the same small CSV). */
  okBytes: number;
  /** Where the hostile archives aim outside any destination: none of these may exist after a run. */
  outsideTargets: string[];
}

export interface MemberFact {
  name: string;
  type: "file" | "dir";
  size: number;
  sha256?: string;
  rows?: number;
  columns?: string[];
}

export type NormalFacts = Record<string, { members: MemberFact[] }>;

/** The archives that attack paths: every member listed, the hostile ones named again. */
export interface PathAttackFact {
  /** Links are written `name -> target (symlink)` and `name => target (hard link)`. */
  members: string[];
  hostile_members: string[];
}

export type HostileFacts = Record<string, Record<string, unknown>>;

export const normalPath = (set: ArchiveSet, name: string): string => join(set.dir, "normal", name);
export const hostilePath = (set: ArchiveSet, name: string): string => join(set.dir, "hostile", name);

export function normalFacts(set: ArchiveSet): NormalFacts {
  return JSON.parse(readFileSync(join(set.dir, "normal.expected.json"), "utf8")) as NormalFacts;
}

export function hostileFacts(set: ArchiveSet): HostileFacts {
  return JSON.parse(readFileSync(join(set.dir, "hostile.expected.json"), "utf8")) as HostileFacts;
}

/** The file members of one normal archive, by its name in normal/. */
export function normalFiles(facts: NormalFacts, name: string): MemberFact[] {
  const f = facts[`archives/normal/${name}`];
  if (!f) throw new Error(`no facts for archives/normal/${name}`);
  return f.members.filter((m) => m.type === "file");
}

/** The archives of hostile/ that attack paths (their facts list hostile members). */
export function pathAttacks(facts: HostileFacts): [string, PathAttackFact][] {
  return Object.entries(facts).flatMap(([name, f]) =>
    Array.isArray(f.hostile_members) ? [[name, f as unknown as PathAttackFact] as [string, PathAttackFact]] : [],
  );
}

export interface ExpectedRejection {
  rawPath: string;
  /** The reason, exact where the facts fix it (a link's target), else a pattern of its gist. */
  reason: string | RegExp;
}

/**
 * What a safe reader must do with a path-attack archive, worked out from its facts alone: which members it offers
 * (the others, normalised: `./` and empty segments dropped) and, in order, what it rejects and why. A link is
 * refused naming its target; a member under a link seen before it goes "through" that link; otherwise an absolute
 * name, a drive letter or a `..` segment (with `\` read as `/`) is the reason.
 */
export function expectedOutcome(f: PathAttackFact): { files: string[]; rejected: ExpectedRejection[] } {
  const links: string[] = [];
  const files: string[] = [];
  const rejected: ExpectedRejection[] = [];
  for (const entry of f.members) {
    const link = /^(.*) (->|=>) (.*) \((symlink|hard link)\)$/.exec(entry);
    const name = link ? (link[1] as string) : entry;
    if (!f.hostile_members.includes(name)) {
      files.push(
        name
          .split("/")
          .filter((s) => s !== "" && s !== ".")
          .join("/"),
      );
      continue;
    }
    if (link) {
      links.push(name);
      const what = link[2] === "->" ? "symbolic link" : "hard link";
      rejected.push({ rawPath: name, reason: `${what} to ${JSON.stringify(link[3])}` });
      continue;
    }
    const slashed = name.replaceAll("\\", "/");
    const via = links.find((l) => slashed.startsWith(`${l}/`));
    const reason = slashed.startsWith("/")
      ? /absolute/
      : /^[A-Za-z]:/.test(slashed)
        ? /drive letter/
        : via !== undefined
          ? new RegExp(`through link ${JSON.stringify(via)}`)
          : /\.\./;
    rejected.push({ rawPath: name, reason });
  }
  return { files, rejected };
}
