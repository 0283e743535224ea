import { describe, expect, test } from "vitest";
import { archiveKindOf, safeMemberPath } from "../../src/processors/archive/index.js";

describe("safeMemberPath", () => {
  const ok: [string, string][] = [
    ["ok.csv", "ok.csv"],
    ["./././ok_dotted.csv", "ok_dotted.csv"],
    ["a//b/./c.csv", "a/b/c.csv"],
    ["dir\\file.csv", "dir/file.csv"],
    ["new\nline.csv", "new\nline.csv"],
    ["  spaces  .csv", "  spaces  .csv"],
    ["cafe\u0301.csv", "cafe\u0301.csv"],
    ["..foo/bar..", "..foo/bar.."],
    ["-rf", "-rf"],
  ];
  test.each(ok)("accepts %j as %j", (raw, path) => {
    expect(safeMemberPath(raw)).toEqual({ ok: true, path });
  });

  const bad: [string, RegExp][] = [
    ["", /empty/],
    [".", /names no file/],
    ["./", /names no file/],
    ["/etc/passwd", /absolute/],
    ["C:/x.csv", /drive letter/],
    ["C:\\x.csv", /drive letter/],
    ["c:x.csv", /drive letter/],
    ["\\\\server\\share\\x.csv", /UNC/],
    ["//server/share", /UNC/],
    ["\\x.csv", /absolute/],
    ["../x.csv", /\.\./],
    ["a/../../x.csv", /\.\./],
    ["a/b/..", /\.\./],
    ["..\\..\\x.csv", /\.\./],
    ["safe/../x.csv", /\.\./],
    ["a\0b.csv", /NUL/],
  ];
  test.each(bad)("rejects %j", (raw, reason) => {
    const r = safeMemberPath(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe("archiveKindOf", () => {
  test.each([
    ["a.tar", "tar"],
    ["a.TAR.GZ", "tar.gz"],
    ["a.tgz", "tar.gz"],
    ["airports.csv.gz", "gz"],
    ["A.Zip", "zip"],
    ["a.csv", null],
    ["a.tar.bz2", null],
    ["gz", null],
  ] as const)("%s → %s", (name, kind) => {
    expect(archiveKindOf(name)).toBe(kind);
  });
});
