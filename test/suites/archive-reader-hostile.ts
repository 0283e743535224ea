import { describe, expect, test } from "vitest";
import {
  type ArchiveError,
  archiveKindOf,
  DEFAULT_ARCHIVE_LIMITS,
  readArchive,
} from "../../src/processors/archive/index.js";
import { expectArchiveError, walk } from "./archive-reader-walk.js";
import {
  type ArchiveSet,
  expectedOutcome,
  hostileFacts,
  hostilePath,
  normalFacts,
  normalFiles,
  pathAttacks,
} from "./archive-set.js";

const MB = 1024 * 1024;

/** The reader over hostile/: part of {@link archiveReaderSuite}. */
export function archiveHostileSuite(set: ArchiveSet): void {
  const facts = hostileFacts(set);
  const normal = normalFacts(set);
  const hp = (name: string): string => hostilePath(set, name);

  describe("hostile archives", () => {
    for (const [name, f] of pathAttacks(facts)) {
      const want = expectedOutcome(f);
      test(`${name}: ${want.rejected.map((r) => JSON.stringify(r.rawPath)).join(", ")} rejected, the rest read`, async () => {
        const w = await walk(hp(name), archiveKindOf(name)!);
        expect(w.error).toBeNull();
        expect(w.files.map((x) => [x.path, x.bytes])).toEqual(want.files.map((p) => [p, set.okBytes]));
        expect(w.rejected).toEqual(
          want.rejected.map((r) => ({
            rawPath: r.rawPath,
            reason: typeof r.reason === "string" ? r.reason : expect.stringMatching(r.reason),
          })),
        );
        // Every member (files and rejected alike) has its place in the archive's order.
        expect(w.indexes).toEqual(f.members.map((_, i) => i));
      });
    }

    const bundleFiles = normalFiles(normal, "bundle.tar.gz");

    test("corrupted.tar.gz: members before the damage are whole, then a corrupt error", async () => {
      const w = await walk(hp("corrupted.tar.gz"), "tar.gz");
      expectArchiveError(w.error, "corrupt");
      const whole = w.files.filter((f) => f.error === null);
      expect(whole.length).toBeGreaterThan(0);
      expect(whole.map((f) => [f.path, f.bytes])).toEqual(
        bundleFiles.slice(0, whole.length).map((m) => [m.name, m.size]),
      );
      for (const f of w.files.slice(whole.length)) expectArchiveError(f.error, "corrupt");
    });

    test("truncated.tar.gz: members before the cut are whole, the cut member and the iterator fail truncated", async () => {
      const w = await walk(hp("truncated.tar.gz"), "tar.gz");
      expectArchiveError(w.error, "truncated");
      const whole = w.files.filter((f) => f.error === null);
      expect(whole.length).toBeGreaterThan(0);
      expect(whole.map((f) => [f.path, f.bytes])).toEqual(
        bundleFiles.slice(0, whole.length).map((m) => [m.name, m.size]),
      );
      const cut = w.files[whole.length];
      if (!cut) throw new Error("expected the member cut in half to be yielded");
      expectArchiveError(cut.error, "truncated");
      expect((cut.error as ArchiveError).memberPath).toBe(cut.path);
    });

    // The archive fails (gunzip reaches the cut) while the next member waits for the consumer, who is still busy
    // with the previous one. That member's stream was destroyed before anyone listened to it; reading it used to
    // wait forever (a file stuck in flight in the service; `run --once` exiting 13 with nothing holding the loop).
    for (const pauseMs of [0, 25, 150]) {
      test(`truncated.tar.gz, a consumer pausing ${pauseMs} ms before each member: the cut member fails, never hangs`, async () => {
        const w = await walk(hp("truncated.tar.gz"), "tar.gz", undefined, undefined, true, pauseMs);
        expectArchiveError(w.error, "truncated");
        const whole = w.files.filter((f) => f.error === null);
        expect(whole.map((f) => [f.path, f.bytes])).toEqual(
          bundleFiles.slice(0, whole.length).map((m) => [m.name, m.size]),
        );
        const cut = w.files[whole.length];
        if (!cut) throw new Error("expected the member cut in half to be yielded");
        expectArchiveError(cut.error, "truncated");
      }, 10_000);
    }

    test("truncated.zip: without its central directory nothing is listed; truncated", async () => {
      const w = await walk(hp("truncated.zip"), "zip");
      expectArchiveError(w.error, "truncated", /end-of-central-directory/);
      expect(w.files).toEqual([]);
    });

    test("corrupted_crc.zip: only the damaged member's stream fails (corrupt); the archive stays readable", async () => {
      const damaged = (facts["corrupted_crc.zip"] as { damaged_member: string }).damaged_member;
      const w = await walk(hp("corrupted_crc.zip"), "zip");
      // The central directory is intact, so the damage is scoped to one member and the iterator completes.
      expect(w.error).toBeNull();
      expect(w.files.map((f) => f.path)).toEqual(normalFiles(normal, "nested.zip").map((m) => m.name));
      expect(w.files.map((f) => f.path)).toContain(damaged);
      for (const f of w.files) {
        if (f.path === damaged) expectArchiveError(f.error, "corrupt");
        else {
          expect(f.error).toBeNull();
          expect(f.bytes).toBe(f.size);
        }
      }
    });

    const bomb = facts["gzip_bomb_1GiB_zeros.gz"] as { compressed_bytes: number };

    test("gzip bomb: stopped by the ratio limit after a bounded amount", async () => {
      const w = await walk(hp("gzip_bomb_1GiB_zeros.gz"), "gz");
      const [f] = w.files;
      expectArchiveError(f?.error, "limit", /ratio.*maxRatio 200/);
      expect(f?.bytes).toBeLessThan(300 * MB);
      expect(f?.bytes).toBeLessThanOrEqual(DEFAULT_ARCHIVE_LIMITS.maxRatio * bomb.compressed_bytes);
      expectArchiveError(w.error, "limit");
    });

    test("gzip bomb: a small maxTotalBytes stops it at that", async () => {
      const w = await walk(hp("gzip_bomb_1GiB_zeros.gz"), "gz", { maxTotalBytes: 8 * MB });
      const [f] = w.files;
      expectArchiveError(f?.error, "limit", /total size limit.*maxTotalBytes 8,388,608/);
      expect(f?.bytes).toBeLessThanOrEqual(8 * MB);
      expect(f?.bytes).toBeGreaterThan(7 * MB);
    });

    const many = facts["many_members_20000.zip"] as { members: number; total_uncompressed_bytes: number };

    test("many_members_20000.zip: maxMembers 10,000 refuses it up front, before any member", async () => {
      const w = await walk(hp("many_members_20000.zip"), "zip", undefined, undefined, false);
      expectArchiveError(w.error, "limit", /20,000 entries.*10,000/);
      expect(w.files).toHaveLength(0);
    });

    test("many_members_20000.zip: fully read with a higher limit", async () => {
      let count = 0;
      let bytes = 0;
      // Collected rather than asserted per member: 40,000 expect() calls would dominate the run time.
      const wrong: string[] = [];
      for await (const e of readArchive(hp("many_members_20000.zip"), "zip", { maxMembers: many.members })) {
        const name = `m/${String(count).padStart(5, "0")}.csv`;
        if (e.kind !== "file" || e.path !== name) {
          wrong.push(e.kind === "file" ? e.path : e.rawPath);
          continue;
        }
        let text = "";
        for await (const chunk of e.open() as AsyncIterable<Buffer>) text += chunk.toString("utf8");
        if (text !== `n\n${count}\n`) wrong.push(`${name}: ${JSON.stringify(text)}`);
        bytes += text.length;
        count++;
      }
      expect(wrong).toEqual([]);
      expect(count).toBe(many.members);
      expect(bytes).toBe(many.total_uncompressed_bytes);
    });
  });
}
