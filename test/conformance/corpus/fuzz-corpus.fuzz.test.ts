import { createReadStream, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/api/app.js";
import { uploadRoutes } from "../../../src/api/routes/upload.js";
import { DirSyncer } from "../../../src/durable/fsync.js";
import { type ArchiveKind, archiveKindOf, DEFAULT_ARCHIVE_LIMITS } from "../../../src/processors/archive/index.js";
import { sqlDumpToParquet } from "../../../src/processors/sql-dump/index.js";
import { tabularFormatOf } from "../../../src/processors/tabular/index.js";
import { stagingNameFor } from "../../../src/service/receive-upload.js";
import { UploadRegistry } from "../../../src/service/upload-registry.js";
import { SqliteStateStore } from "../../../src/store/sqlite/sqlite-store.js";
import { Metrics } from "../../../src/telemetry/metrics.js";
import { makeIgnoreRule } from "../../../src/watch/ignore-rules.js";
import { CORPUS, corpusFacts } from "../shared-corpus.js";
import { describeError, extractTo, isTypedArchiveError, walkArchive } from "../../fuzz/archive-walk.js";
import { makeRoot, removeRoot, tree, withinTime } from "../../fuzz/support.js";
import { convertChecked, DUCK } from "../../fuzz/tabular-check.js";

/**
 * The hostile files of the shared corpus (../shared/corpus: bad/,
 * archives/hostile/, names/; see its INDEX.md) through the same readers and
 * checks as the properties: time bound, typed errors only, nothing written
 * outside the output directory, and the facts the corpus states.
 */

let root: string;
let n = 0;
beforeAll(() => {
  root = makeRoot("corpus");
});
afterAll(() => removeRoot(root));

function caseDir(): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  return dir;
}

describe("archives/hostile", () => {
  const facts = corpusFacts<Record<string, unknown>>("archives/hostile.expected.json");
  const path = (name: string) => join(CORPUS, "archives", "hostile", name);

  for (const name of [
    "zip_slip.zip",
    "zip_slip_variants.zip",
    "tar_abs_and_symlink.tar",
    "tar_dotdot_hardlink.tar.gz",
  ]) {
    it(`${name}: exactly the hostile members are rejected; the rest extract inside the destination`, async () => {
      const f = facts[name] as { members: string[]; hostile_members: string[] };
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
    const normal = corpusFacts<{ members: { name: string; type: string; size: number }[] }>(
      "archives/normal.expected.json",
    )["archives/normal/nested.zip"];
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
        expect(e.data.length).toBe(normal?.members.find((m) => m.name === e.path)?.size);
      }
    }
  });
});

interface BadFacts {
  rows?: number;
  columns?: string[];
  valid_json?: boolean;
  valid_strict_json?: boolean;
  encoding?: string;
  invalid_line_numbers?: number[];
  rows_before_error?: number;
  objects?: number;
  valid_lines?: number;
}

describe("bad/: malformed tables", () => {
  const facts = corpusFacts<BadFacts>("bad/bad.expected.json");
  const tabular = readdirSync(join(CORPUS, "bad")).filter((f) => tabularFormatOf(f) !== null);

  for (const name of tabular) {
    it(`${name}: converted, noted or refused with a reason, as the corpus facts say`, async () => {
      const f = facts[name] ?? {};
      const format = tabularFormatOf(name);
      if (!format) throw new Error(name);
      const content = readFileSync(join(CORPUS, "bad", name));
      const { result, error } = await convertChecked(caseDir(), name, format, content);
      if (f.valid_json === false || f.valid_strict_json === false) {
        expect(error?.code).toBe("SLUICE_ERR_PARSE");
        return;
      }
      if (f.encoding === "latin-1") {
        expect(error?.code).toBe("SLUICE_ERR_ENCODING");
        return;
      }
      expect(error).toBeNull();
      const kept = result?.validation?.rowCount ?? result?.profile?.rowCount ?? 0;
      const invalid = result?.validation?.invalidRows.map((r) => r.row) ?? [];
      if (f.rows !== undefined) {
        // Every data row is kept or reported, none twice.
        if (result?.parquetPath) expect(kept + invalid.length).toBe(f.rows);
        else expect(f.rows).toBe(0);
      }
      if (f.invalid_line_numbers) expect(invalid).toEqual(f.invalid_line_numbers);
      if (f.valid_lines !== undefined) expect(kept).toBe(f.valid_lines);
      if (f.objects !== undefined) expect(kept).toBe(f.objects);
      if (f.rows_before_error !== undefined) expect(kept).toBe(f.rows_before_error);
      if (f.columns && f.columns.length > 0 && result?.profile) {
        expect(result.profile.columns).toHaveLength(f.columns.length);
      }
    });
  }

  it("the SQL dumps: rows of sound statements kept, broken ones reported at their lines, nothing executed", async () => {
    const dir = caseDir();
    const run = async (name: string) =>
      withinTime(name, 20_000, () =>
        sqlDumpToParquet(createReadStream(join(CORPUS, "bad", name)), join(dir, name), {
          ...DUCK,
          tempDirectory: join(dir, "spill"),
        }),
      );
    const rows = (r: Awaited<ReturnType<typeof run>>) =>
      Object.fromEntries(r.tables.map((t) => [t.table, t.profile.rowCount]));

    const midway = await run("syntax_error_midway.sql");
    const mf = facts["syntax_error_midway.sql"] as unknown as {
      tables: Record<string, number>;
      broken_statement_lines: number[];
    };
    expect(rows(midway)).toEqual(mf.tables);
    expect(midway.errors.map((e) => e.line)).toEqual(mf.broken_statement_lines);

    const unterminated = await run("unterminated_string.sql");
    expect(unterminated.rowCount).toBe(
      (facts["unterminated_string.sql"] as unknown as { sound_rows: number }).sound_rows,
    );
    expect(unterminated.errorCount).toBeGreaterThan(0);

    const copy = await run("copy_bad_rows.sql");
    const cf = facts["copy_bad_rows.sql"] as unknown as {
      tables: { t: { copy_lines: number; field_count_errors: number[] }; u: { copy_lines: number } };
    };
    expect(rows(copy).t).toBe(cf.tables.t.copy_lines - cf.tables.t.field_count_errors.length);
    expect(copy.errors.some((e) => e.table === "u" && /not terminated/.test(e.message))).toBe(true);
    // Outputs only in the output directories (and DuckDB's spill area, left empty).
    expect(
      tree(dir).filter(
        (e) => !/^(syntax_error_midway|unterminated_string|copy_bad_rows)\.sql\/|^spill\//.test(e) && !e.endsWith("/"),
      ),
    ).toEqual([]);
  });
});

describe("names/: hostile file names", () => {
  const facts = corpusFacts<{ rows: number; columns: string[]; name_utf8_hex: string }>("names/names.expected.json");
  const isIgnored = makeIgnoreRule([]);

  it("every name is byte-exact on disk as the facts say", () => {
    const onDisk = new Set(readdirSync(join(CORPUS, "names")).map((f) => Buffer.from(f, "utf8").toString("hex")));
    for (const f of Object.values(facts)) expect(onDisk.has(f.name_utf8_hex)).toBe(true);
  });

  for (const name of Object.keys(facts)) {
    it(`${JSON.stringify(name)}: converts (its path quoted safely in DuckDB's SQL) with the stated rows and columns`, async () => {
      const f = facts[name] as { rows: number; columns: string[] };
      const { result, error } = await convertChecked(caseDir(), name, "csv", readFileSync(join(CORPUS, "names", name)));
      expect(error).toBeNull();
      expect(result?.profile?.rowCount).toBe(f.rows);
      expect(result?.profile?.columns.map((c) => c.name)).toEqual(f.columns);
    });
  }

  describe("uploaded under these names", () => {
    let app: FastifyInstance;
    let store: SqliteStateStore;
    let staging: string;
    beforeAll(async () => {
      const dir = caseDir();
      staging = join(dir, "staging");
      mkdirSync(staging);
      store = new SqliteStateStore(join(dir, "state.db"), { writerThread: false });
      const registry = new UploadRegistry();
      app = buildApp(
        {
          store,
          metrics: new Metrics(),
          apiToken: null,
          ready: async () => ({ state: true, warehouse: true }),
          activity: () => ({ queueDepth: 0, inFlight: 0, pending: 0, warehouseWaiting: 0 }),
          waiting: (id) => registry.get(id),
          waitingList: () => registry.list(),
        },
        {
          plugins: [
            uploadRoutes({
              input: staging,
              registry,
              dirs: new DirSyncer(),
              offer: () => undefined,
              maxUploadBytes: 1 << 20,
              isIgnored,
            }),
          ],
        },
      );
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    it("each lands in staging under the name stagingNameFor gives (last segment, controls removed, trimmed)", async () => {
      for (const name of Object.keys(facts)) {
        const data = readFileSync(join(CORPUS, "names", name));
        const payload = Buffer.concat([
          Buffer.from(
            `--B\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''${encodeURIComponent(name)}\r\n\r\n`,
          ),
          data,
          Buffer.from("\r\n--B--\r\n"),
        ]);
        const res = await app.inject({
          method: "POST",
          url: "/api/v1/files",
          payload,
          headers: { "content-type": "multipart/form-data; boundary=B" },
        });
        if (/[\u0000-\u001f\u007f]/.test(name)) {
          // busboy drops a filename* that decodes to control characters: the part is no file part, and the
          // request is refused with a reason (SLUICE_ERR_MISSING_FILE) rather than staged under another name.
          expect(res.statusCode, res.body).toBe(400);
          expect(res.json()).toMatchObject({ code: "SLUICE_ERR_MISSING_FILE" });
          continue;
        }
        expect(res.statusCode, `${JSON.stringify(name)}: ${res.body}`).toBe(202);
        const want = stagingNameFor(name, isIgnored);
        expect(want).toBe(name.replace(/[\u0000-\u001f\u007f]/g, "").trim());
        const got = (res.json() as { name: string }).name;
        expect(got).toBe(want);
        expect(readFileSync(join(staging, got)).equals(data)).toBe(true);
      }
      const uploadable = Object.keys(facts).filter((k) => !/[\u0000-\u001f\u007f]/.test(k));
      expect(readdirSync(staging).sort()).toEqual(uploadable.map((k) => stagingNameFor(k, isIgnored)).sort());
    });
  });
});
