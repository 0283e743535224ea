import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collisionName, compactTimestamp, placementFor, utcDate } from "../../src/warehouse/warehouse-paths.js";
import { makeIgnoreRule } from "../../src/watch/ignore-rules.js";

const SHA = "1a2b3c4d5e6f7890aabbccddeeff00112233445566778899aabbccddeeff0011";

describe("collisionName", () => {
  it("puts the first 12 hex of the hash before the first extension", () => {
    expect(collisionName("report.csv", SHA)).toBe("report.1a2b3c4d5e6f.csv");
  });

  it("keeps a double extension whole (stem is up to the first dot)", () => {
    expect(collisionName("x.tar.gz", SHA)).toBe("x.1a2b3c4d5e6f.tar.gz");
    expect(collisionName("data.2026.11.csv", SHA)).toBe("data.1a2b3c4d5e6f.2026.11.csv");
  });

  it("appends the tag to a name without extension", () => {
    expect(collisionName("README", SHA)).toBe("README.1a2b3c4d5e6f");
  });

  it("is deterministic and differs by content", () => {
    const other = `ff${SHA.slice(2)}`;
    expect(collisionName("a.csv", SHA)).toBe(collisionName("a.csv", SHA));
    expect(collisionName("a.csv", other)).not.toBe(collisionName("a.csv", SHA));
    expect(collisionName("a.csv", other)).toBe("a.ff2b3c4d5e6f.csv");
  });
});

describe("placementFor", () => {
  it("places a top-level file in the UTC-date partition", () => {
    const p = placementFor("/wh", "report.csv", SHA, new Date("2026-11-23T19:00:43.123Z"));
    expect(p).toEqual({
      partitionDir: join("/wh", "ingest_date=2026-11-23"),
      baseName: "report.csv",
      collisionName: "report.1a2b3c4d5e6f.csv",
    });
  });

  it("uses the UTC date, not the local one", () => {
    // 23:30 at UTC-05:00 is already the next day in UTC.
    const p = placementFor("/wh", "a.csv", SHA, new Date("2026-12-31T23:30:00-05:00"));
    expect(p.partitionDir).toBe(join("/wh", "ingest_date=2027-01-01"));
    expect(utcDate(new Date("2026-03-01T00:00:00+01:00"))).toBe("2026-02-28");
  });

  it("keeps the relative subdirectory of a recursive name", () => {
    const p = placementFor("/wh", "a/b/c.tar.gz", SHA, new Date("2026-01-05T00:00:00Z"));
    expect(p.partitionDir).toBe(join("/wh", "ingest_date=2026-01-05", "a", "b"));
    expect(p.baseName).toBe("c.tar.gz");
    expect(p.collisionName).toBe("c.1a2b3c4d5e6f.tar.gz");
  });
});

describe("compactTimestamp", () => {
  it("is the compact UTC form used for error file names", () => {
    expect(compactTimestamp(new Date("2026-11-23T19:00:43.123Z"))).toBe("20261123T190043.123Z");
  });
});

describe("makeIgnoreRule", () => {
  const none = makeIgnoreRule([]);

  it("ignores hidden files and anything under a hidden directory", () => {
    expect(none(".hidden")).toBe(true);
    expect(none(".data.csv.Xy12ab")).toBe(true);
    expect(none("sub/.hidden.csv")).toBe(true);
    expect(none(".git/config")).toBe(true);
    expect(none("a/.cache/b/c.csv")).toBe(true);
  });

  it("always ignores in-progress suffixes, case-insensitively", () => {
    for (const n of ["x.tmp", "x.csv.tmp", "x.part", "x.swp", "X.TMP", "y.Part", "sub/z.swp"]) {
      expect(none(n), n).toBe(true);
    }
  });

  it("does not ignore ordinary names, including ones merely containing a suffix", () => {
    for (const n of ["x.csv", "tmp", "x.tmp.csv", "partial.csv", "sub/dir/x.csv", "x.ok", "a..b"]) {
      expect(none(n), n).toBe(false);
    }
  });

  it("matches a slash-less glob against the base name at any depth", () => {
    const rule = makeIgnoreRule(["*.log"]);
    expect(rule("a.log")).toBe(true);
    expect(rule("sub/deep/a.log")).toBe(true);
    expect(rule("a.log.csv")).toBe(false);
    expect(rule("a.csv")).toBe(false);
  });

  it("matches a glob with a slash against the relative path", () => {
    const rule = makeIgnoreRule(["archive/*.csv"]);
    expect(rule("archive/a.csv")).toBe(true);
    expect(rule("a.csv")).toBe(false);
    expect(rule("other/a.csv")).toBe(false);
    expect(rule("other/archive/a.csv")).toBe(false);
  });

  it("combines several globs and still applies the built-in rules", () => {
    const rule = makeIgnoreRule(["*.bak", "skip-*"]);
    expect(rule("x.bak")).toBe(true);
    expect(rule("skip-me.csv")).toBe(true);
    expect(rule("keep.csv")).toBe(false);
    expect(rule("keep.tmp")).toBe(true);
    expect(rule(".keep.csv")).toBe(true);
  });
});
