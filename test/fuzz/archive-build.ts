import { deflateRawSync, crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { hostileString } from "./support.js";

/** The kinds of archive member the fuzzers build. `hardlink` exists in tar only (zip has none). */
export type MemberKind = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface Member {
  name: string;
  kind: MemberKind;
  /** Link target (symlink, hardlink). */
  link: string;
  data: Buffer;
  /** zip only: compression method (0 stored, 8 deflate, anything else unsupported) and the encrypted flag. */
  method: number;
  encrypted: boolean;
  /** tar only: where the name is written. */
  store: TarNameStore;
}

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

/** How a tar member's name is stored: the ustar name field, prefix + name, a pax `path` record, or a GNU long name. */
export type TarNameStore = "field" | "prefix" | "pax" | "gnu";

/** The ustar name field a pax or GNU long name overrides: a reader that ignores the override sees this instead. */
export const DECOY = "decoy.txt";

function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
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

function prefixSplit(name: string): number {
  // The last "/" that leaves a prefix of 1..155 bytes and a name of at most 100.
  for (let i = name.lastIndexOf("/"); i > 0; i = name.lastIndexOf("/", i - 1)) {
    if (Buffer.byteLength(name.slice(0, i)) <= 155 && Buffer.byteLength(name.slice(i + 1)) <= 100) return i;
  }
  return -1;
}

function tarStore(m: Member): TarNameStore {
  const fits = !m.name.includes("\0");
  if (m.store === "field" && fits && Buffer.byteLength(m.name) <= 100) return "field";
  if (m.store === "prefix" && fits && prefixSplit(m.name) > 0) return "prefix";
  if (m.store === "gnu") return "gnu";
  return "pax";
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

const TYPEFLAG: Record<MemberKind, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

/** One 512-byte ustar header, checksum included. */
function tarHeader(f: { name: Buffer; prefix?: Buffer; type: string; size: number; link?: Buffer }): Buffer {
  const h = Buffer.alloc(512);
  f.name.copy(h, 0, 0, 100);
  h.write(octal(0o644, 8), 100, "latin1");
  h.write(octal(0, 8), 108, "latin1");
  h.write(octal(0, 8), 116, "latin1");
  h.write(octal(f.size, 12), 124, "latin1");
  h.write(octal(0, 12), 136, "latin1");
  h.write(f.type, 156, "latin1");
  f.link?.copy(h, 157, 0, 100);
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  f.prefix?.copy(h, 345, 0, 155);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % 512;
  return rest === 0 ? [data] : [data, Buffer.alloc(512 - rest)];
}

function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.from(` ${key}=${value}\n`, "utf8");
  // The length counts its own digits.
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), "latin1"), body]);
}

/**
 * A tar written byte by byte (ustar headers, pax and GNU long-name headers),
 * so names reach the reader exactly as generated: tar-stream's own encoder
 * would tidy them (it drops a leading `/` when it splits a long name).
 */
export function buildTar(members: Member[]): Buffer {
  const out: Buffer[] = [];
  for (const m of members) {
    const store = tarStore(m);
    const data = m.kind === "file" ? m.data : Buffer.alloc(0);
    const link = Buffer.from(m.link, "utf8");
    let name = Buffer.from(m.name, "utf8");
    let prefix: Buffer | undefined;
    if (store === "prefix") {
      const at = prefixSplit(m.name);
      prefix = Buffer.from(m.name.slice(0, at), "utf8");
      name = Buffer.from(m.name.slice(at + 1), "utf8");
    } else if (store === "pax") {
      const pax = paxRecord("path", m.name);
      out.push(tarHeader({ name: Buffer.from("PaxHeader", "latin1"), type: "x", size: pax.length }), ...padded(pax));
      name = Buffer.from(DECOY, "latin1");
    } else if (store === "gnu") {
      const long = Buffer.concat([Buffer.from(m.name, "utf8"), Buffer.alloc(1)]);
      out.push(
        tarHeader({ name: Buffer.from("././@LongLink", "latin1"), type: "L", size: long.length }),
        ...padded(long),
      );
      name = Buffer.from(DECOY, "latin1");
    }
    const header = tarHeader({ name, type: TYPEFLAG[m.kind], size: data.length, link, ...(prefix ? { prefix } : {}) });
    out.push(header, ...padded(data));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

const ZIP_MODE: Record<Exclude<MemberKind, "hardlink">, number> = {
  file: 0o100644,
  dir: 0o040755,
  symlink: 0o120777,
  char: 0o020644,
  block: 0o060644,
  fifo: 0o010644,
};

/**
 * A zip written byte by byte: Unix modes in the external attributes (how
 * Info-ZIP stores links and special files), raw name bytes with the UTF-8
 * flag when they are not ASCII, stored or deflated data, optional
 * "encrypted" flag and exotic methods.
 */
export function buildZip(members: Member[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, "utf8");
    const raw = m.kind === "symlink" ? Buffer.from(m.link, "utf8") : m.kind === "file" ? m.data : Buffer.alloc(0);
    const packed = m.method === 8 ? deflateRawSync(raw) : raw;
    // Traditional PKWARE encryption puts a 12-byte header before the data (yauzl checks the sizes say so).
    const data = m.encrypted ? Buffer.concat([Buffer.alloc(12, 0x5a), packed]) : packed;
    const crc = zlibCrc32(raw) >>> 0;
    const flags = (name.some((b) => b >= 0x80) ? 0x800 : 0) | (m.encrypted ? 1 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(m.method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(m.method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    const mode = m.kind === "hardlink" ? 0o140000 : ZIP_MODE[m.kind];
    central.writeUInt32LE((mode * 0x10000) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
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
