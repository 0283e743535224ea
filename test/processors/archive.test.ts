import { basename, join } from "node:path";
import { describe, expect, test } from "vitest";
import { archiveKindOf } from "../../src/processors/archive/index.js";
import { archiveReaderSuite } from "../suites/archive-reader-suite.js";
import { expectArchiveError, walk } from "../suites/archive-reader-walk.js";
import { hostilePath } from "../suites/archive-set.js";
import { FIXTURE_ARCHIVES, fixtureHostileFacts, fixtureNormalFacts } from "../support/fixture-archives.js";

// The archive reader over this project's generated archives (test/fixtures/gen/archives.ts); the conformance tier
// runs the same suite over the shared corpus.
archiveReaderSuite(FIXTURE_ARCHIVES);

// What only the generated set can say: the generator knows every member's bytes and where the cut falls.
describe("against the generator's model", () => {
  for (const [rel, f] of Object.entries(fixtureNormalFacts)) {
    test(`${basename(rel)}: every member has the bytes the generator wrote`, async () => {
      const w = await walk(join(FIXTURE_ARCHIVES.dir, "..", rel), archiveKindOf(rel)!);
      expect(w.error).toBeNull();
      const want = f.members.filter((m) => m.type === "file").map((m) => [m.name, m.sha256]);
      expect(want.every(([, sha]) => typeof sha === "string" && sha.length === 64)).toBe(true);
      expect(w.files.map((x) => [x.path, x.sha256])).toEqual(want);
    });
  }

  // Whatever the consumer's pace: the bytes before the cut are in the file, so the members they hold must come out
  // whole, and the member the cut runs through must be offered and fail. (A consumer that pauses, as the pipeline
  // does while it converts a member, must not lose members that were complete in the archive.)
  const cut = fixtureHostileFacts["truncated.tar.gz"] as { whole_members: string[]; cut_member: string };
  for (const pauseMs of [null, 0, 25, 150]) {
    const pace = pauseMs === null ? "a consumer reading straight on" : `a consumer pausing ${pauseMs} ms per member`;
    test(`truncated.tar.gz, ${pace}: exactly the members gunzip can recover are whole, then the cut one fails`, async () => {
      const w = await walk(
        hostilePath(FIXTURE_ARCHIVES, "truncated.tar.gz"),
        "tar.gz",
        undefined,
        undefined,
        true,
        pauseMs,
      );
      expectArchiveError(w.error, "truncated");
      expect(w.files.filter((f) => f.error === null).map((f) => f.path)).toEqual(cut.whole_members);
      expect(w.files.slice(cut.whole_members.length).map((f) => f.path)).toEqual([cut.cut_member]);
    }, 10_000);
  }
});
