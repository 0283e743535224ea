import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, test } from "vitest";
import { type ArchiveKind, archiveKindOf, readArchive } from "../../src/processors/archive/index.js";
import { archiveHostileSuite } from "./archive-reader-hostile.js";
import { drain, expectArchiveError, openFds, walk } from "./archive-reader-walk.js";
import { type ArchiveSet, hostilePath, normalFacts, normalFiles, normalPath } from "./archive-set.js";

const REPO = join(import.meta.dirname, "..", "..");

/**
 * The archive reader (src/processors/archive) over a set of real archives: the normal ones yield exactly their
 * files, byte-exact names and sizes; the hostile ones are refused member by member or fail with a typed error
 * after the whole members; limits hold; nothing is written and no descriptor leaks. Defined once, run by the main
 * tier on the generated fixtures and by the conformance tier on the shared corpus.
 */
export function archiveReaderSuite(set: ArchiveSet): void {
  const facts = normalFacts(set);
  const np = (name: string): string => normalPath(set, name);
  const hp = (name: string): string => hostilePath(set, name);

  describe("normal archives", () => {
    for (const [rel, f] of Object.entries(facts)) {
      test(`${basename(rel)}: file paths and sizes match the facts`, async () => {
        const kind = archiveKindOf(rel);
        expect(kind).not.toBeNull();
        const w = await walk(join(set.dir, "..", rel), kind!);
        expect(w.error).toBeNull();
        expect(w.rejected).toEqual([]);
        const want = f.members.filter((m) => m.type === "file").map((m) => [m.name, m.size]);
        expect(w.files.map((x) => [x.path, x.bytes])).toEqual(want);
        for (const x of w.files) {
          expect(x.error).toBeNull();
          // gzip's ISIZE is never trusted, so a lone .gz has no declared size.
          expect(x.size).toBe(kind === "gz" ? null : x.bytes);
        }
        expect(w.indexes).toEqual(want.map((_, i) => i));
      });
    }

    test("inner archives come out as plain members (recursion is the caller's job)", async () => {
      const w = await walk(np("outer_with_inner_archives.tar.gz"), "tar.gz");
      const byPath = new Map(w.files.map((f) => [f.path, f]));
      expect(byPath.get("outer/inner/nested.zip")?.head.subarray(0, 4)).toEqual(Buffer.from("PK\x03\x04", "latin1"));
      expect(byPath.get(set.innerGz)?.head.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      const nested = await walk(np("nested.zip"), "zip");
      expect(nested.files.map((f) => f.path)).toContain(set.deepMember);
    });

    test(`${set.gz.file} is one member, ${set.gz.member}, with ${set.gz.rows} data rows`, async () => {
      const w = await walk(np(set.gz.file), "gz");
      expect(w.files).toHaveLength(1);
      const [f] = w.files;
      expect(f?.path).toBe(set.gz.member);
      expect((f?.newlines ?? 0) - 1).toBe(set.gz.rows);
      const renamed = await walk(np(set.gz.file), "gz", undefined, { gzMemberName: "staged.csv" });
      expect(renamed.files.map((x) => x.path)).toEqual(["staged.csv"]);
    });

    test("odd names stay byte-exact: NFD stays NFD, newline accepted", async () => {
      for (const [name, kind] of [
        ["odd_names.zip", "zip"],
        ["odd_names.tar", "tar"],
      ] as const) {
        const paths = (await walk(np(name), kind)).files.map((f) => f.path);
        expect(paths).toContain("odd_names/cafe\u0301-nfd.csv");
        expect(paths).not.toContain("odd_names/caf\u00e9-nfd.csv");
        expect(paths).toContain("odd_names/new\nline.csv");
      }
    });

    test("members the consumer never opens are skipped by the reader", async () => {
      for (const [name, kind] of [
        ["bundle.tar.gz", "tar.gz"],
        ["bundle.tar", "tar"],
        ["nested.zip", "zip"],
        [set.gz.file, "gz"],
      ] as const) {
        const w = await walk(np(name), kind, undefined, undefined, false);
        expect(w.error).toBeNull();
        expect(w.files.length).toBe(normalFiles(facts, name).length);
      }
    });

    test("open() works once, and only before the iterator moves on", async () => {
      const it = readArchive(np("bundle.tar"), "tar");
      const first = await it.next();
      if (first.done || first.value.kind !== "file") throw new Error("expected a file entry");
      const entry = first.value;
      await drain(entry.open());
      expect(() => entry.open()).toThrow(/twice/);
      await it.next();
      expect(() => entry.open()).toThrow(/moved past/);
      await it.return(undefined);
    });
  });

  archiveHostileSuite(set);

  describe("limits on normal archives", () => {
    test("maxMemberBytes: a member declaring more fails on open; the others still read", async () => {
      const seen = { over: 0, under: 0 };
      for (const [name, kind] of [
        ["nested.zip", "zip"],
        ["bundle.tar", "tar"],
      ] as const) {
        const w = await walk(np(name), kind, { maxMemberBytes: 50_000 });
        expect(w.error).toBeNull();
        for (const f of w.files) {
          if ((f.size ?? 0) > 50_000) {
            seen.over++;
            expectArchiveError(f.error, "limit", /declares/);
            expect(f.bytes).toBe(0);
          } else {
            seen.under++;
            expect(f.bytes).toBe(f.size);
          }
        }
      }
      // Both branches taken: members above the cap and below it.
      expect(seen.over).toBeGreaterThan(0);
      expect(seen.under).toBeGreaterThan(0);
    });

    test("tar.gz: the decompressed stream is counted, including members nobody opens", async () => {
      const w = await walk(np("bundle.tar.gz"), "tar.gz", { maxTotalBytes: 100_000 }, undefined, false);
      expectArchiveError(w.error, "limit", /total size limit/);
      const read = await walk(np("bundle.tar.gz"), "tar.gz", { maxTotalBytes: 100_000 });
      expectArchiveError(read.error, "limit");
      expect(read.files.reduce((n, f) => n + f.bytes, 0)).toBeLessThanOrEqual(100_000);
    });
  });

  describe("resources", () => {
    // The bomb and the 20,000-member zip have nothing to write outside; they are covered by their own tests.
    const pathHostile = readdirSync(join(set.dir, "hostile")).filter(
      (n) => archiveKindOf(n) !== null && !/bomb|many_members/.test(n),
    );

    test("the reader never creates a file", async () => {
      // Where a naive extractor of these archives would write (relative to the cwd, and absolute targets).
      const watched = [process.cwd(), REPO, join(REPO, ".."), join(REPO, "..", ".."), "/", "/tmp", tmpdir()];
      const snapshot = () => new Map(watched.map((d) => [d, new Set(readdirSync(d))]));
      const before = snapshot();
      const names = new Set<string>();
      for (const name of pathHostile) {
        const w = await walk(hp(name), archiveKindOf(name)!);
        for (const f of w.files) names.add(basename(f.path));
        for (const r of w.rejected) names.add(basename(r.rawPath.replaceAll("\\", "/")));
      }
      const after = snapshot();
      for (const d of watched) {
        const added = [...(after.get(d) ?? [])].filter((n) => !before.get(d)?.has(n));
        expect(added.filter((n) => names.has(n) || /evil|^C:/.test(n))).toEqual([]);
      }
      // And the code itself has no way to write.
      const srcDir = join(REPO, "src", "processors", "archive");
      for (const file of readdirSync(srcDir)) {
        const text = readFileSync(join(srcDir, file), "utf8");
        expect(text).not.toMatch(
          /\b(createWriteStream|writeFile|appendFile|mkdir|mkdtemp|symlink|link|rename|copyFile|cp|unlink|rm)(Sync)?\(/,
        );
        expect(text).not.toMatch(/\bopen\w*\([^)]*["'][wa+]/);
      }
    });

    test("no fd leaks after early return, a consumer throw, or a damaged archive", async () => {
      await walk(np("bundle.tar.gz"), "tar.gz");
      const baseline = openFds();
      const cases: [string, ArchiveKind][] = [
        [np("bundle.tar.gz"), "tar.gz"],
        [np("bundle.tar"), "tar"],
        [np("nested.zip"), "zip"],
        [np(set.gz.file), "gz"],
        [hp("gzip_bomb_1GiB_zeros.gz"), "gz"],
      ];
      for (const [path, kind] of cases) {
        // Early return with a member half read.
        for await (const e of readArchive(path, kind)) {
          if (e.kind !== "file") continue;
          const stream = e.open();
          await new Promise<void>((resolve) => stream.once("readable", () => resolve()));
          stream.read();
          break;
        }
        expect(openFds(), `break in ${basename(path)}`).toBe(baseline);
        // Early return before opening anything.
        for await (const _ of readArchive(path, kind)) break;
        expect(openFds(), `bare break in ${basename(path)}`).toBe(baseline);
        // The consumer throws mid-member.
        await expect(
          (async () => {
            for await (const e of readArchive(path, kind)) {
              if (e.kind === "file") {
                e.open().once("data", () => {});
                throw new Error("consumer gave up");
              }
            }
          })(),
        ).rejects.toThrow("consumer gave up");
        expect(openFds(), `throw in ${basename(path)}`).toBe(baseline);
      }
      for (const name of ["corrupted.tar.gz", "truncated.tar.gz", "truncated.zip", "corrupted_crc.zip"]) {
        await walk(hp(name), archiveKindOf(name)!);
        expect(openFds(), `after ${name}`).toBe(baseline);
      }
    });
  });
}
