import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ArchiveKind, archiveKindOf, DEFAULT_ARCHIVE_LIMITS } from "../../src/processors/archive/index.js";
import { describeError, extractTo, isTypedArchiveError, walkArchive } from "../fuzz/archive-walk.js";
import { tree, withinTime } from "../fuzz/support.js";
import { type ArchiveSet, hostileFacts, hostilePath, normalFacts, normalFiles, pathAttacks } from "./archive-set.js";

/**
 * hostile/ of an archive set through the same readers and checks as the archive properties (test/fuzz): a time
 * bound, typed errors only, nothing written outside the output directory, and the facts the set states. Run by
 * the main tier on the generated fixtures and by the conformance tier on the shared corpus. `caseDir` gives a
 * fresh directory per case.
 */
export function hostileArchivesFuzzSuite(set: ArchiveSet, caseDir: () => string): void {
  describe("archives/hostile", () => {
    const facts = hostileFacts(set);
    const path = (name: string) => hostilePath(set, name);

    for (const [name, f] of pathAttacks(facts)) {
      it(`${name}: exactly the hostile members are rejected; the rest extract inside the destination`, async () => {
        const walk = await withinTime(name, 10_000, () =>
          walkArchive(path(name), archiveKindOf(name) as ArchiveKind, DEFAULT_ARCHIVE_LIMITS),
        );
        expect(walk.error).toBeNull();
        const rejected = walk.entries.flatMap((e) => (e.kind === "rejected" ? [e.rawPath] : []));
        expect(rejected.sort()).toEqual([...f.hostile_members].sort());
        for (const e of walk.entries) if (e.kind === "rejected") expect(e.reason.length).toBeGreaterThan(0);
        // The members that are not hostile (the facts show links as "name -> target"), normalised.
        const safe = f.members
          .map((m) => m.split(/ -> | => /)[0] as string)
          .filter((m) => !f.hostile_members.includes(m))
          .map((m) => m.replace(/^(\.\/)+/, ""));
        expect(walk.entries.flatMap((e) => (e.kind === "file" ? [e.path] : [])).sort()).toEqual(safe.sort());
        const dir = caseDir();
        const written = extractTo(join(dir, "dest"), walk.entries);
        expect(written.every((w) => w.startsWith(join(dir, "dest")))).toBe(true);
        expect(tree(dir).every((e) => e.startsWith("dest/"))).toBe(true);
      });
    }

    it("gzip_bomb_1GiB_zeros.gz: stopped by the ratio limit after ~200 × its size, within seconds", async () => {
      const f = facts["gzip_bomb_1GiB_zeros.gz"] as { compressed_bytes: number; uncompressed_bytes: number };
      const walk = await withinTime("gzip bomb", 20_000, () =>
        walkArchive(path("gzip_bomb_1GiB_zeros.gz"), "gz", DEFAULT_ARCHIVE_LIMITS),
      );
      const failure = walk.error ?? (walk.entries[0]?.kind === "file" ? walk.entries[0].error : null);
      expect(isTypedArchiveError(failure), describeError(failure)).toBe(true);
      expect((failure as { code: string }).code).toBe("limit");
      expect(walk.delivered).toBeLessThanOrEqual(DEFAULT_ARCHIVE_LIMITS.maxRatio * f.compressed_bytes);
      expect(walk.delivered).toBeLessThan(f.uncompressed_bytes);
    });

    it("many_members_20000.zip: refused from its central directory before any member is offered", async () => {
      const walk = await withinTime("20,000 members", 10_000, () =>
        walkArchive(path("many_members_20000.zip"), "zip", DEFAULT_ARCHIVE_LIMITS),
      );
      expect(walk.entries).toEqual([]);
      expect(isTypedArchiveError(walk.error), describeError(walk.error)).toBe(true);
      expect((walk.error as { code: string }).code).toBe("limit");
    });

    for (const name of ["truncated.tar.gz", "corrupted.tar.gz", "truncated.zip"]) {
      it(`${name}: fails with an ArchiveError (corrupt or truncated), the members before the damage intact`, async () => {
        const walk = await withinTime(name, 10_000, () =>
          walkArchive(path(name), archiveKindOf(name) as ArchiveKind, DEFAULT_ARCHIVE_LIMITS),
        );
        const failures = [walk.error, ...walk.entries.map((e) => (e.kind === "file" ? e.error : null))].filter(
          (e) => e !== null,
        );
        expect(failures.length).toBeGreaterThan(0);
        for (const e of failures) {
          expect(isTypedArchiveError(e), describeError(e)).toBe(true);
          expect(["corrupt", "truncated"]).toContain((e as { code: string }).code);
        }
      });
    }

    it("corrupted_crc.zip: only the damaged member fails; the others are read whole", async () => {
      const f = facts["corrupted_crc.zip"] as { damaged_member: string };
      const nested = normalFiles(normalFacts(set), "nested.zip");
      const walk = await withinTime("crc", 10_000, () =>
        walkArchive(path("corrupted_crc.zip"), "zip", DEFAULT_ARCHIVE_LIMITS),
      );
      expect(walk.error).toBeNull();
      for (const e of walk.entries) {
        if (e.kind !== "file") continue;
        if (e.path === f.damaged_member) {
          expect(isTypedArchiveError(e.error), describeError(e.error)).toBe(true);
        } else {
          expect(e.error).toBeNull();
          expect(e.data.length).toBe(nested.find((m) => m.name === e.path)?.size);
        }
      }
    });
  });
}
