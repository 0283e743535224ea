import fc from "fast-check";
import {
  cString,
  DECOY,
  type Member,
  type MemberKind,
  type TarNameStore,
  tarStore,
} from "../fixtures/lib/archive-writers.js";
import { hostileString } from "./support.js";

// The byte-level writers are shared with the fixture generators (test/fixtures/lib/archive-writers.ts).
export {
  buildTar,
  buildZip,
  DECOY,
  type Member,
  type MemberKind,
  type TarNameStore,
} from "../fixtures/lib/archive-writers.js";

/** What a name becomes once stored: tar-stream and zip write UTF-8, so a lone surrogate turns into U+FFFD. */
export function utf8RoundTrip(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}

const SEGMENTS = ["a", "b", "x.csv", "link", "..", ".", "", "...", "..a", "C:", "c:x", " ", "\u00e9", "ok.txt"];

/**
 * Member names: a small vocabulary joined by `/` or `\` (so prefixes, links
 * followed by files "through" them, `..` segments, drive letters and empty
 * segments come up often), absolute and traversal forms, or arbitrary hostile text.
 */
export const memberName: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom("", "", "", "/", "./", "\\", "//", "../", "C:/", "c:\\"),
        fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 4 }),
        fc.array(fc.constantFrom("/", "/", "\\", "//"), { minLength: 4, maxLength: 4 }),
        fc.constantFrom("", "", "", "/", "\\"),
      )
      .map(
        ([lead, segs, seps, tail]) => lead + segs.map((s, i) => (i === 0 ? s : `${seps[i - 1]}${s}`)).join("") + tail,
      ),
  },
  { weight: 2, arbitrary: hostileString({ maxPieces: 6 }) },
);

const kindArb = (forZip: boolean): fc.Arbitrary<MemberKind> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant<MemberKind>("file") },
    { weight: 2, arbitrary: fc.constant<MemberKind>("dir") },
    { weight: 2, arbitrary: fc.constant<MemberKind>("symlink") },
    { weight: forZip ? 0 : 2, arbitrary: fc.constant<MemberKind>("hardlink") },
    { weight: 1, arbitrary: fc.constantFrom<MemberKind>("char", "block", "fifo") },
  );

export const memberData: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s, "utf8")),
  fc.integer({ min: 0, max: 20_000 }).map((n) => Buffer.alloc(n, 0x61)),
);

export function memberArb(forZip: boolean): fc.Arbitrary<Member> {
  return fc.record({
    name: memberName,
    kind: kindArb(forZip),
    link: fc.oneof(fc.constantFrom("/etc/passwd", "../../../../tmp", "a", "../x"), hostileString({ maxPieces: 3 })),
    data: memberData,
    method: forZip
      ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 8) }, { weight: 1, arbitrary: fc.constantFrom(12, 14, 99) })
      : fc.constant(0),
    encrypted: forZip
      ? fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
      : fc.constant(false),
    store: fc.constantFrom<TarNameStore>("field", "field", "prefix", "pax", "gnu"),
  });
}

/**
 * The name a member ends up with in a tar written by {@link buildTar}, per the
 * formats (not per any library): the name field and the prefix end at a NUL;
 * a pax `path` is taken whole (NUL included); a GNU long name ends at a NUL;
 * an empty override leaves the name field in force. A name that does not fit
 * where it was meant to go is written as pax.
 */
export function tarStoredName(m: Member): string {
  switch (tarStore(m)) {
    case "field":
    case "prefix":
      return cString(m.name);
    case "pax":
      return m.name === "" ? DECOY : m.name;
    case "gnu":
      return cString(m.name) === "" ? DECOY : cString(m.name);
  }
}

/**
 * tar names are UTF-8 here (as tar-stream decodes them); a plain file whose
 * name ends in `/` is read as a directory (old tars marked directories so),
 * so such names get a last character.
 */
export function tarSafe(m: Member): Member {
  // NUL is tested through pax and GNU names; in the name field it would only end the name early.
  const raw = m.store === "field" || m.store === "prefix" ? m.name.replaceAll("\0", "") : m.name;
  const name = utf8RoundTrip(raw);
  return { ...m, name: m.kind === "file" && name.endsWith("/") ? `${name}f` : name, link: utf8RoundTrip(m.link) };
}

/** zip names are written as UTF-8 (flagged when not ASCII). */
export function zipSafe(m: Member): Member {
  return { ...m, name: utf8RoundTrip(m.name), link: utf8RoundTrip(m.link) };
}

/** The verdict an independent reading of the rules expects for one member, given the links seen before it. */
export type Expected = { kind: "skip" } | { kind: "file"; path: string } | { kind: "rejected" };

/**
 * The safety rules written out again, independently of src/ (not by calling
 * safeMemberPath): a member is a file only if it is a regular file whose
 * name, with `\` read as `/`, is relative (no leading `/`, no drive letter),
 * has no NUL, no `..` segment, names something, and does not go through a
 * link member seen earlier. Links are remembered by their normalised name.
 */
export function expectedVerdicts(members: Member[], format: "tar" | "zip" | "gz"): Expected[] {
  const links = new Set<string>();
  const expected: Expected[] = [];
  for (const m of members) {
    const name = format === "tar" ? tarStoredName(m) : m.name;
    const slashed = name.replaceAll("\\", "/");
    const segs = slashed.split("/").filter((s) => s !== "" && s !== ".");
    const safe =
      !slashed.startsWith("/") &&
      !/^[A-Za-z]:/.test(slashed) &&
      !name.includes("\0") &&
      !segs.includes("..") &&
      segs.length > 0;
    const isDir =
      m.kind === "dir" || (format === "zip" && m.kind === "file" && (name.endsWith("/") || name.endsWith("\\")));
    if (isDir) {
      expected.push({ kind: "skip" });
      continue;
    }
    if (m.kind === "symlink" || m.kind === "hardlink") {
      if (safe) links.add(segs.join("/"));
      expected.push({ kind: "rejected" });
      continue;
    }
    if (m.kind !== "file" || !safe) {
      expected.push({ kind: "rejected" });
      continue;
    }
    const through = segs.slice(0, -1).some((_, k) => links.has(segs.slice(0, k + 1).join("/")));
    if (through || (format === "zip" && (m.encrypted || (m.method !== 0 && m.method !== 8)))) {
      expected.push({ kind: "rejected" });
      continue;
    }
    expected.push({ kind: "file", path: segs.join("/") });
  }
  return expected;
}
