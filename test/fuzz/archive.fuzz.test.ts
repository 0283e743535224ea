import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArchiveKind } from "../../src/processors/archive/index.js";
import {
  buildTar,
  buildZip,
  expectedVerdicts,
  type Member,
  memberArb,
  memberData,
  tarSafe,
  tarStoredName,
  zipSafe,
} from "./archive-build.js";
import { describeError, extractTo, isTypedArchiveError, type Walk, walkArchive } from "./archive-walk.js";
import { hostileString, makeRoot, params, removeRoot, tree, withinTime } from "./support.js";

/**
 * Archive reading (src/processors/archive) under generated tar, tar.gz, zip
 * and gz files: hostile member names and types, damaged bytes, and limits.
 * The reader never writes; each case then extracts what it offered the way
 * a naive extractor would and checks nothing lands outside the destination.
 */

const CASE_MS = 10_000;
/** Limits that never trip here, so the verdict on each member is all that is tested. */
const OPEN_LIMITS = { maxMembers: 10_000, maxTotalBytes: 1 << 30, maxRatio: 1e9 };

let root: string;
let n = 0;
beforeAll(() => {
  root = makeRoot("archive");
});
afterAll(() => removeRoot(root));

/** A fresh directory per case, so its tree tells exactly what the case wrote. */
function caseDir(): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  return dir;
}

async function archiveBytes(format: "tar" | "tar.gz" | "zip", members: Member[]): Promise<Buffer> {
  if (format === "zip") return buildZip(members);
  const t = buildTar(members);
  return format === "tar.gz" ? gzipSync(t) : t;
}

function prepared(format: "tar" | "tar.gz" | "zip", members: Member[]): Member[] {
  return members.map(format === "zip" ? zipSafe : tarSafe);
}

/** Checks the walk against the independent verdicts, member by member, and that bytes came through intact. */
function checkVerdicts(walk: Walk, members: Member[], format: "tar" | "zip"): void {
  expect(walk.error === null ? null : describeError(walk.error)).toBeNull();
  const expected = expectedVerdicts(members, format);
  const offered = members.filter((_, i) => expected[i]?.kind !== "skip");
  const verdicts = expected.filter((v) => v.kind !== "skip");
  expect(walk.entries.map((e) => e.index)).toEqual(verdicts.map((_, k) => k));
  for (const [k, e] of walk.entries.entries()) {
    const want = verdicts[k];
    const m = offered[k] as Member;
    const what = `member ${k} ${JSON.stringify(m.name)} (${m.kind})`;
    if (want?.kind === "file") {
      expect(e.kind, what).toBe("file");
      if (e.kind !== "file") continue;
      expect(e.path, what).toBe(want.path);
      expect(e.error === null ? null : describeError(e.error), what).toBeNull();
      expect(e.data.equals(m.data), `${what}: bytes differ`).toBe(true);
    } else {
      expect(e.kind, what).toBe("rejected");
      if (e.kind !== "rejected") continue;
      expect(e.reason.length, what).toBeGreaterThan(0);
      expect(e.rawPath, what).toBe(format === "tar" ? tarStoredName(m) : m.name);
    }
  }
}

/** After extraction the case directory holds the archive and the extracted files, nothing else. */
function checkTree(dir: string, archiveName: string, written: string[]): void {
  const want = new Set<string>([archiveName, "dest/"]);
  for (const abs of written) {
    const rel = abs.slice(dir.length + 1);
    const parts = rel.split("/");
    for (let k = 1; k < parts.length; k++) want.add(`${parts.slice(0, k).join("/")}/`);
    want.add(rel);
  }
  expect(tree(dir)).toEqual([...want].sort());
}

describe.each(["tar", "tar.gz", "zip"] as const)("%s: hostile member names and types", (format) => {
  const seeds = { tar: 0x5a1c01, "tar.gz": 0x5a1c02, zip: 0x5a1c03 };
  it("offers only safe relative paths, rejects the rest with a reason, and nothing lands outside the destination", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(memberArb(format === "zip"), { maxLength: 12 }), async (raw) => {
        const members = prepared(format, raw);
        const dir = caseDir();
        const name = `a.${format}`;
        writeFileSync(join(dir, name), await archiveBytes(format, members));
        const walk = await withinTime(
          `${format} ${JSON.stringify(members.map((m) => [m.kind, m.name]))}`,
          CASE_MS,
          () => walkArchive(join(dir, name), format as ArchiveKind, OPEN_LIMITS),
        );
        // The reader itself wrote nothing.
        expect(tree(dir)).toEqual([name]);
        checkVerdicts(walk, members, format === "zip" ? "zip" : "tar");
        const written = extractTo(join(dir, "dest"), walk.entries);
        mkdirSync(join(dir, "dest"), { recursive: true });
        checkTree(dir, name, written);
        removeRoot(dir);
      }),
      params(`archive names ${format}`, seeds[format], 200),
    );
  });
});

describe("gz: the one member's name comes from the archive's name", () => {
  it("is offered only as a safe relative path, else rejected; bytes come through intact", async () => {
    await fc.assert(
      fc.asyncProperty(hostileString({ maxPieces: 6 }), memberData, fc.boolean(), async (memberName, data, twice) => {
        const dir = caseDir();
        // Concatenated gzip members read as one stream.
        const bytes = twice
          ? Buffer.concat([gzipSync(data.subarray(0, 7)), gzipSync(data.subarray(7))])
          : gzipSync(data);
        writeFileSync(join(dir, "m.gz"), bytes);
        const walk = await withinTime(`gz ${JSON.stringify(memberName)}`, CASE_MS, () =>
          walkArchive(join(dir, "m.gz"), "gz", OPEN_LIMITS, { gzMemberName: memberName }),
        );
        expect(walk.error === null ? null : describeError(walk.error)).toBeNull();
        const [want] = expectedVerdicts(
          [{ name: memberName, kind: "file", link: "", data, method: 0, encrypted: false, store: "field" }],
          "gz",
        );
        expect(walk.entries).toHaveLength(1);
        const e = walk.entries[0];
        if (want?.kind === "file") {
          expect(e).toMatchObject({ kind: "file", index: 0, path: want.path, size: null, error: null });
          expect(e?.kind === "file" && e.data.equals(data)).toBe(true);
        } else {
          expect(e).toMatchObject({ kind: "rejected", index: 0, rawPath: memberName });
        }
        const written = extractTo(join(dir, "dest"), walk.entries);
        mkdirSync(join(dir, "dest"), { recursive: true });
        checkTree(dir, "m.gz", written);
        removeRoot(dir);
      }),
      params("archive gz member name", 0x5a1c04, 200),
    );
  });
});

/** Damage applied to a good archive: flipped bytes, a cut, inserted garbage. */
const damage = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    byte: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("cut" as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 1 }),
    byte: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
);

function applyDamage(buf: Buffer, d: { kind: "flip" | "cut" | "insert"; at: number[]; byte: number }): Buffer {
  if (buf.length === 0) return buf;
  const out = Buffer.from(buf);
  switch (d.kind) {
    case "flip":
      for (const a of d.at) {
        const i = a % out.length;
        out[i] = (out[i] as number) ^ d.byte;
      }
      return out;
    case "cut":
      return out.subarray(0, (d.at[0] as number) % out.length);
    case "insert": {
      let b = out;
      for (const a of d.at) {
        const i = a % (b.length + 1);
        b = Buffer.concat([b.subarray(0, i), Buffer.alloc(1 + (a % 64), d.byte), b.subarray(i)]);
      }
      return b;
    }
  }
}

describe("damaged archives", () => {
  it("are walked, or fail with an ArchiveError saying why; never another error, a hang or a write", async () => {
    const format = fc.constantFrom("tar", "tar.gz", "zip", "gz");
    await fc.assert(
      fc.asyncProperty(format, fc.array(memberArb(false), { maxLength: 6 }), damage, async (fmt, raw, d) => {
        const dir = caseDir();
        const name = `d.${fmt}`;
        let good: Buffer;
        if (fmt === "gz") good = gzipSync(Buffer.concat(raw.map((m) => m.data)));
        else good = await archiveBytes(fmt, prepared(fmt, raw));
        writeFileSync(join(dir, name), applyDamage(good, d));
        const walk = await withinTime(`damaged ${fmt} ${JSON.stringify(d)}`, CASE_MS, () =>
          walkArchive(join(dir, name), fmt, OPEN_LIMITS),
        );
        if (walk.error !== null) expect(isTypedArchiveError(walk.error), describeError(walk.error)).toBe(true);
        for (const e of walk.entries) {
          if (e.kind === "rejected") expect(e.reason.length).toBeGreaterThan(0);
          else {
            if (e.error !== null) expect(isTypedArchiveError(e.error), describeError(e.error)).toBe(true);
            expect(e.path.split("/")).not.toContain("..");
            expect(e.path.startsWith("/")).toBe(false);
          }
        }
        expect(tree(dir)).toEqual([name]);
        removeRoot(dir);
      }),
      params("archive damaged bytes", 0x5a1c05, 300),
    );
  });
});

const BOMB_BASE: Member = {
  name: "z",
  link: "",
  kind: "file",
  data: Buffer.alloc(0),
  method: 8,
  encrypted: false,
  store: "field",
};

describe("limits (--archive-max-members, --archive-max-bytes, --archive-max-ratio)", () => {
  it("never let more members or bytes through than allowed, and a breach is ArchiveError 'limit'", async () => {
    const format = fc.constantFrom("tar", "tar.gz", "zip", "gz");
    const limits = fc.record({
      maxMembers: fc.integer({ min: 1, max: 8 }),
      maxTotalBytes: fc.integer({ min: 1, max: 60_000 }),
      maxRatio: fc.oneof(fc.double({ min: 0.01, max: 50, noNaN: true }), fc.constant(1e9)),
    });
    const fileMember = memberArb(true).map((m) => ({ ...m, kind: "file" as const, method: 8, encrypted: false }));
    await fc.assert(
      fc.asyncProperty(
        format,
        fc.array(fileMember, { maxLength: 10 }),
        limits,
        fc.boolean(),
        async (fmt, raw, lim, bomb) => {
          const dir = caseDir();
          const name = `l.${fmt}`;
          // A "bomb" member: highly compressible, so ratio limits trip on small archives.
          const members = bomb
            ? [...raw, { ...(raw[0] ?? BOMB_BASE), name: "bomb", data: Buffer.alloc(200_000) }]
            : raw;
          const bytes =
            fmt === "gz"
              ? gzipSync(Buffer.concat(members.map((m) => m.data)))
              : await archiveBytes(fmt, prepared(fmt, members));
          writeFileSync(join(dir, name), bytes);
          const walk = await withinTime(`limits ${fmt} ${JSON.stringify(lim)}`, CASE_MS, () =>
            walkArchive(join(dir, name), fmt, lim, { gzMemberName: "member" }),
          );
          const budget = Math.min(lim.maxTotalBytes, lim.maxRatio * Math.max(bytes.length, 1));
          expect(walk.delivered).toBeLessThanOrEqual(budget);
          expect(walk.entries.length).toBeLessThanOrEqual(lim.maxMembers);
          const failures = [walk.error, ...walk.entries.map((e) => (e.kind === "file" ? e.error : null))].filter(
            (e) => e !== null,
          );
          for (const f of failures) expect(isTypedArchiveError(f), describeError(f)).toBe(true);
          expect(tree(dir)).toEqual([name]);
          removeRoot(dir);
        },
      ),
      params("archive limits", 0x5a1c06, 200),
    );
  });
});
