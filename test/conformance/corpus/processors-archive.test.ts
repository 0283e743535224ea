import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  ArchiveError,
  type ArchiveKind,
  type ArchiveLimits,
  archiveKindOf,
  DEFAULT_ARCHIVE_LIMITS,
  type ReadArchiveOptions,
  readArchive,
} from "../../../src/processors/archive/index.js";

import { CORPUS } from "../shared-corpus.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const ARCHIVES = join(CORPUS, "archives");
const normalPath = (name: string): string => join(ARCHIVES, "normal", name);
const hostilePath = (name: string): string => join(ARCHIVES, "hostile", name);
const MB = 1024 * 1024;

interface ExpectedMember {
  name: string;
  type: "file" | "dir";
  size: number;
}
const normalFacts = JSON.parse(readFileSync(join(ARCHIVES, "normal.expected.json"), "utf8")) as Record<
  string,
  { members: ExpectedMember[] }
>;

interface Drained {
  bytes: number;
  newlines: number;
  head: Buffer;
  error: unknown;
}

/** Reads a member stream to its end (or error), counting without keeping the bytes. */
async function drain(stream: Readable): Promise<Drained> {
  const out: Drained = { bytes: 0, newlines: 0, head: Buffer.alloc(0), error: null };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (out.bytes === 0) out.head = Buffer.from(chunk.subarray(0, 8));
      out.bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) out.newlines++;
    }
  } catch (err) {
    out.error = err;
  }
  return out;
}

interface FileResult extends Drained {
  path: string;
  size: number | null;
}
interface Walk {
  files: FileResult[];
  rejected: { rawPath: string; reason: string }[];
  indexes: number[];
  error: unknown;
}

/** Walks a whole archive the way a consumer would, opening and draining every file. */
async function walk(
  path: string,
  kind: ArchiveKind,
  limits?: Partial<ArchiveLimits>,
  opts?: ReadArchiveOptions,
  read = true,
  /** Milliseconds to wait before opening each member, as a consumer busy with the previous one does. */
  pauseMs: number | null = null,
): Promise<Walk> {
  const w: Walk = { files: [], rejected: [], indexes: [], error: null };
  try {
    for await (const e of readArchive(path, kind, limits, opts)) {
      w.indexes.push(e.index);
      if (pauseMs !== null) await new Promise((r) => setTimeout(r, pauseMs));
      if (e.kind === "rejected") w.rejected.push({ rawPath: e.rawPath, reason: e.reason });
      else if (read) w.files.push({ path: e.path, size: e.size, ...(await drain(e.open())) });
      else w.files.push({ path: e.path, size: e.size, bytes: 0, newlines: 0, head: Buffer.alloc(0), error: null });
    }
  } catch (err) {
    w.error = err;
  }
  return w;
}

function expectArchiveError(err: unknown, code: ArchiveError["code"], message?: RegExp): void {
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as ArchiveError).code).toBe(code);
  if (message) expect((err as ArchiveError).message).toMatch(message);
}

const openFds = (): number => readdirSync("/proc/self/fd").length;

describe("normal archives", () => {
  for (const [rel, facts] of Object.entries(normalFacts)) {
    test(`${basename(rel)}: file paths and sizes match the corpus facts`, async () => {
      const kind = archiveKindOf(rel);
      expect(kind).not.toBeNull();
      const w = await walk(join(ARCHIVES, "..", rel), kind!);
      expect(w.error).toBeNull();
      expect(w.rejected).toEqual([]);
      const want = facts.members.filter((m) => m.type === "file").map((m) => [m.name, m.size]);
      expect(w.files.map((f) => [f.path, f.bytes])).toEqual(want);
      for (const f of w.files) {
        expect(f.error).toBeNull();
        // gzip's ISIZE is never trusted, so a lone .gz has no declared size.
        expect(f.size).toBe(kind === "gz" ? null : f.bytes);
      }
      expect(w.indexes).toEqual(want.map((_, i) => i));
    });
  }

  test("inner archives come out as plain members (recursion is the caller's job)", async () => {
    const w = await walk(normalPath("outer_with_inner_archives.tar.gz"), "tar.gz");
    const byPath = new Map(w.files.map((f) => [f.path, f]));
    expect(byPath.get("outer/inner/nested.zip")?.head.subarray(0, 4)).toEqual(Buffer.from("PK\x03\x04", "latin1"));
    expect(byPath.get("outer/inner/airports.csv.gz")?.head.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const nested = await walk(normalPath("nested.zip"), "zip");
    expect(nested.files.map((f) => f.path)).toContain("level1/level2/level3/level4/sp500.csv");
  });

  test("airports.csv.gz is one member, airports.csv, with 3376 data rows", async () => {
    const w = await walk(normalPath("airports.csv.gz"), "gz");
    expect(w.files).toHaveLength(1);
    const [f] = w.files;
    expect(f?.path).toBe("airports.csv");
    expect((f?.newlines ?? 0) - 1).toBe(3376);
    const renamed = await walk(normalPath("airports.csv.gz"), "gz", undefined, { gzMemberName: "staged.csv" });
    expect(renamed.files.map((x) => x.path)).toEqual(["staged.csv"]);
  });

  test("odd names stay byte-exact: NFD stays NFD, newline accepted", async () => {
    for (const [name, kind] of [
      ["odd_names.zip", "zip"],
      ["odd_names.tar", "tar"],
    ] as const) {
      const paths = (await walk(normalPath(name), kind)).files.map((f) => f.path);
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
      ["airports.csv.gz", "gz"],
    ] as const) {
      const w = await walk(normalPath(name), kind, undefined, undefined, false);
      expect(w.error).toBeNull();
      expect(w.files.length).toBe(
        normalFacts[`archives/normal/${name}`]?.members.filter((m) => m.type === "file").length,
      );
    }
  });

  test("open() works once, and only before the iterator moves on", async () => {
    const it = readArchive(normalPath("bundle.tar"), "tar");
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

describe("hostile archives", () => {
  test("zip_slip.zip: the traversal is rejected, ok.csv is read", async () => {
    const w = await walk(hostilePath("zip_slip.zip"), "zip");
    expect(w.error).toBeNull();
    expect(w.files.map((f) => [f.path, f.bytes])).toEqual([["ok.csv", 23]]);
    expect(w.rejected).toEqual([{ rawPath: "../../evil.csv", reason: expect.stringMatching(/\.\./) }]);
  });

  test("zip_slip_variants.zip: absolute, backslash, nested and drive-letter paths rejected", async () => {
    const w = await walk(hostilePath("zip_slip_variants.zip"), "zip");
    expect(w.error).toBeNull();
    expect(w.files.map((f) => f.path)).toEqual(["ok.csv", "ok_dotted.csv"]);
    expect(w.rejected.map((r) => r.rawPath)).toEqual([
      "/tmp/corpus_evil_abs.csv",
      "..\\..\\evil_backslash.csv",
      "safe/../../../evil_nested.csv",
      "C:/corpus_evil_drive.csv",
    ]);
    expect(w.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/absolute/),
      expect.stringMatching(/\.\./),
      expect.stringMatching(/\.\./),
      expect.stringMatching(/drive letter/),
    ]);
    expect(w.indexes).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("tar_abs_and_symlink.tar: absolute path, symlinks and a file under a symlink rejected", async () => {
    const w = await walk(hostilePath("tar_abs_and_symlink.tar"), "tar");
    expect(w.error).toBeNull();
    expect(w.files.map((f) => [f.path, f.bytes])).toEqual([["ok.csv", 23]]);
    expect(w.rejected).toEqual([
      { rawPath: "/tmp/corpus_evil_abs.csv", reason: expect.stringMatching(/absolute/) },
      { rawPath: "link_out", reason: expect.stringMatching(/symbolic link to "\.\.\/\.\./) },
      { rawPath: "link_out/corpus_evil_via_symlink.csv", reason: expect.stringMatching(/through link "link_out"/) },
      { rawPath: "etc_passwd", reason: 'symbolic link to "/etc/passwd"' },
    ]);
  });

  test("tar_dotdot_hardlink.tar.gz: .. and hard links rejected", async () => {
    const w = await walk(hostilePath("tar_dotdot_hardlink.tar.gz"), "tar.gz");
    expect(w.error).toBeNull();
    expect(w.files.map((f) => f.path)).toEqual(["ok.csv"]);
    expect(w.rejected).toEqual([
      { rawPath: "../../corpus_evil_dotdot.csv", reason: expect.stringMatching(/\.\./) },
      { rawPath: "hard_passwd", reason: 'hard link to "/etc/passwd"' },
      { rawPath: "hard_dotdot", reason: 'hard link to "../../../../etc/hostname"' },
    ]);
  });

  const bundleFiles = normalFacts["archives/normal/bundle.tar.gz"]!.members.filter((m) => m.type === "file");

  test("corrupted.tar.gz: members before the damage are whole, then a corrupt error", async () => {
    const w = await walk(hostilePath("corrupted.tar.gz"), "tar.gz");
    expectArchiveError(w.error, "corrupt");
    const whole = w.files.filter((f) => f.error === null);
    expect(whole.length).toBeGreaterThan(0);
    expect(whole.map((f) => [f.path, f.bytes])).toEqual(
      bundleFiles.slice(0, whole.length).map((m) => [m.name, m.size]),
    );
    for (const f of w.files.slice(whole.length)) expectArchiveError(f.error, "corrupt");
  });

  test("truncated.tar.gz: members before the cut are whole, the cut member and the iterator fail truncated", async () => {
    const w = await walk(hostilePath("truncated.tar.gz"), "tar.gz");
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
      const w = await walk(hostilePath("truncated.tar.gz"), "tar.gz", undefined, undefined, true, pauseMs);
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
    const w = await walk(hostilePath("truncated.zip"), "zip");
    expectArchiveError(w.error, "truncated", /end-of-central-directory/);
    expect(w.files).toEqual([]);
  });

  test("corrupted_crc.zip: only the damaged member's stream fails (corrupt); the archive stays readable", async () => {
    const w = await walk(hostilePath("corrupted_crc.zip"), "zip");
    // The central directory is intact, so the damage is scoped to one member and the iterator completes.
    expect(w.error).toBeNull();
    const nested = normalFacts["archives/normal/nested.zip"]!.members.filter((m) => m.type === "file");
    expect(w.files.map((f) => f.path)).toEqual(nested.map((m) => m.name));
    for (const f of w.files) {
      if (f.path === "other/unemployment.tsv") expectArchiveError(f.error, "corrupt");
      else {
        expect(f.error).toBeNull();
        expect(f.bytes).toBe(f.size);
      }
    }
  });

  test("gzip bomb: stopped by the ratio limit after a bounded amount", async () => {
    const bomb = hostilePath("gzip_bomb_1GiB_zeros.gz");
    const archiveBytes = 1_043_656;
    const w = await walk(bomb, "gz");
    const [f] = w.files;
    expectArchiveError(f?.error, "limit", /ratio.*maxRatio 200/);
    expect(f?.bytes).toBeLessThan(300 * MB);
    expect(f?.bytes).toBeLessThanOrEqual(DEFAULT_ARCHIVE_LIMITS.maxRatio * archiveBytes);
    expectArchiveError(w.error, "limit");
  });

  test("gzip bomb: a small maxTotalBytes stops it at that", async () => {
    const w = await walk(hostilePath("gzip_bomb_1GiB_zeros.gz"), "gz", { maxTotalBytes: 8 * MB });
    const [f] = w.files;
    expectArchiveError(f?.error, "limit", /total size limit.*maxTotalBytes 8,388,608/);
    expect(f?.bytes).toBeLessThanOrEqual(8 * MB);
    expect(f?.bytes).toBeGreaterThan(7 * MB);
  });

  test("many_members_20000.zip: maxMembers 10,000 refuses it up front, before any member", async () => {
    const w = await walk(hostilePath("many_members_20000.zip"), "zip", undefined, undefined, false);
    expectArchiveError(w.error, "limit", /20,000 entries.*10,000/);
    expect(w.files).toHaveLength(0);
  });

  test("many_members_20000.zip: fully read with a higher limit", async () => {
    let count = 0;
    let bytes = 0;
    // Collected rather than asserted per member: 40,000 expect() calls would dominate the run time.
    const wrong: string[] = [];
    for await (const e of readArchive(hostilePath("many_members_20000.zip"), "zip", { maxMembers: 20_000 })) {
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
    expect(count).toBe(20_000);
    expect(bytes).toBe(148_890);
  });
});

describe("limits on normal archives", () => {
  test("maxMemberBytes: a member declaring more fails on open; the others still read", async () => {
    for (const [name, kind] of [
      ["nested.zip", "zip"],
      ["bundle.tar", "tar"],
    ] as const) {
      const w = await walk(normalPath(name), kind, { maxMemberBytes: 50_000 });
      expect(w.error).toBeNull();
      for (const f of w.files) {
        if ((f.size ?? 0) > 50_000) {
          expectArchiveError(f.error, "limit", /declares/);
          expect(f.bytes).toBe(0);
        } else expect(f.bytes).toBe(f.size);
      }
    }
  });

  test("tar.gz: the decompressed stream is counted, including members nobody opens", async () => {
    const w = await walk(normalPath("bundle.tar.gz"), "tar.gz", { maxTotalBytes: 100_000 }, undefined, false);
    expectArchiveError(w.error, "limit", /total size limit/);
    const read = await walk(normalPath("bundle.tar.gz"), "tar.gz", { maxTotalBytes: 100_000 });
    expectArchiveError(read.error, "limit");
    expect(read.files.reduce((n, f) => n + f.bytes, 0)).toBeLessThanOrEqual(100_000);
  });
});

describe("resources", () => {
  // The bomb and the 20,000-member zip have nothing to write outside; they are covered by their own tests.
  const pathHostile = readdirSync(join(ARCHIVES, "hostile")).filter(
    (n) => archiveKindOf(n) !== null && !/bomb|many_members/.test(n),
  );

  test("the reader never creates a file", async () => {
    // Where a naive extractor of these archives would write (relative to the cwd, and absolute targets).
    const watched = [process.cwd(), REPO, join(REPO, ".."), join(REPO, "..", ".."), "/", "/tmp", tmpdir()];
    const snapshot = () => new Map(watched.map((d) => [d, new Set(readdirSync(d))]));
    const before = snapshot();
    const names = new Set<string>();
    for (const name of pathHostile) {
      const w = await walk(hostilePath(name), archiveKindOf(name)!);
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
    await walk(normalPath("bundle.tar.gz"), "tar.gz");
    const baseline = openFds();
    const cases: [string, ArchiveKind][] = [
      [normalPath("bundle.tar.gz"), "tar.gz"],
      [normalPath("bundle.tar"), "tar"],
      [normalPath("nested.zip"), "zip"],
      [normalPath("airports.csv.gz"), "gz"],
      [hostilePath("gzip_bomb_1GiB_zeros.gz"), "gz"],
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
      await walk(hostilePath(name), archiveKindOf(name)!);
      expect(openFds(), `after ${name}`).toBe(baseline);
    }
  });
});
