import { createReadStream, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { tabularFormatOf } from "../../src/processors/tabular/index.js";
import { stagingNameFor } from "../../src/service/receive-upload.js";
import { makeIgnoreRule } from "../../src/watch/ignore-rules.js";
import { makeRoot, removeRoot, tree, withinTime } from "../fuzz/support.js";
import { convertChecked, DUCK } from "../fuzz/tabular-check.js";
import { type UploadApp, uploadApp } from "../support/upload-app.js";

/**
 * The hostile bad/ and names/ files through the same readers and checks as the fuzz properties: time bound,
 * typed errors only, nothing written outside the output directory, and the facts the generator states. Used by
 * the main suite (generated fixtures) and the conformance tier (the shared corpus), which hold the same cases.
 */

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

interface SqlFacts {
  tables: Record<string, number>;
  broken_statement_lines: number[];
  sound_rows: number;
}
interface CopyTable {
  copy_lines: number;
  field_count_errors?: number[];
  terminated?: boolean;
}

/** A fresh case directory for each call, under a root made for the describe block that asks. */
function caseDirs(prefix: string): () => string {
  let root = "";
  let n = 0;
  beforeAll(() => {
    root = makeRoot(prefix);
  });
  afterAll(() => removeRoot(root));
  return () => {
    const dir = join(root, `c${n++}`);
    mkdirSync(dir);
    return dir;
  };
}

export function badFilesFuzzSuite(dir: string, facts: Record<string, unknown>): void {
  const caseDir = caseDirs("bad");
  const tabular = readdirSync(dir).filter((f) => tabularFormatOf(f) !== null);

  describe("bad/: malformed tables", () => {
    for (const name of tabular) {
      it(`${name}: converted, noted or refused with a reason, as the facts say`, async () => {
        const f = (facts[name] ?? {}) as BadFacts;
        const format = tabularFormatOf(name);
        if (!format) throw new Error(name);
        const { result, error } = await convertChecked(caseDir(), name, format, readFileSync(join(dir, name)));
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
      const out = caseDir();
      const run = async (name: string) =>
        withinTime(name, 20_000, () =>
          sqlDumpToParquet(createReadStream(join(dir, name)), join(out, name), {
            ...DUCK,
            tempDirectory: join(out, "spill"),
          }),
        );
      // The facts name tables bare; sluice names them as the dump qualifies them (`public.readings`).
      const bare = (table: string | null) => table?.split(".").at(-1) ?? null;
      const rows = (r: Awaited<ReturnType<typeof run>>) =>
        Object.fromEntries(r.tables.map((t) => [bare(t.table), t.profile.rowCount]));

      const midway = await run("syntax_error_midway.sql");
      const mf = facts["syntax_error_midway.sql"] as SqlFacts;
      expect(rows(midway)).toEqual(mf.tables);
      expect(midway.errors.map((e) => e.line)).toEqual(mf.broken_statement_lines);

      const unterminated = await run("unterminated_string.sql");
      expect(unterminated.rowCount).toBe((facts["unterminated_string.sql"] as SqlFacts).sound_rows);
      expect(unterminated.errorCount).toBeGreaterThan(0);

      // One COPY block ends with `\.` and has rows of the wrong width; the other runs to the end of the file.
      const copy = await run("copy_bad_rows.sql");
      const blocks = Object.entries((facts["copy_bad_rows.sql"] as { tables: Record<string, CopyTable> }).tables);
      const [closed, t] = blocks.find(([, b]) => b.terminated !== false) ?? [];
      const [open] = blocks.find(([, b]) => b.terminated === false) ?? [];
      expect(rows(copy)[closed as string]).toBe((t?.copy_lines ?? -1) - (t?.field_count_errors?.length ?? 0));
      expect(copy.errors.some((e) => bare(e.table) === open && /not terminated/.test(e.message))).toBe(true);
      // Outputs only in the output directories (and DuckDB's spill area, left empty).
      expect(
        tree(out).filter(
          (e) =>
            !/^(syntax_error_midway|unterminated_string|copy_bad_rows)\.sql\/|^spill\//.test(e) && !e.endsWith("/"),
        ),
      ).toEqual([]);
    });
  });
}

export function hostileNamesFuzzSuite(
  dir: string,
  facts: Record<string, { rows: number; columns: string[]; name_utf8_hex: string }>,
): void {
  const caseDir = caseDirs("names");
  const isIgnored = makeIgnoreRule([]);
  const hasControl = (name: string) => /[\u0000-\u001f\u007f]/.test(name);

  describe("names/: hostile file names", () => {
    it("every name is byte-exact on disk as the facts say", () => {
      const onDisk = new Set(readdirSync(dir).map((f) => Buffer.from(f, "utf8").toString("hex")));
      for (const f of Object.values(facts)) expect(onDisk.has(f.name_utf8_hex)).toBe(true);
    });

    for (const [name, f] of Object.entries(facts)) {
      it(`${JSON.stringify(name)}: converts (its path quoted safely in DuckDB's SQL) with the stated rows and columns`, async () => {
        const { result, error } = await convertChecked(caseDir(), name, "csv", readFileSync(join(dir, name)));
        expect(error).toBeNull();
        expect(result?.profile?.rowCount).toBe(f.rows);
        expect(result?.profile?.columns.map((c) => c.name)).toEqual(f.columns);
      });
    }

    describe("uploaded under these names", () => {
      let up: UploadApp;
      let app: FastifyInstance;
      let staging: string;
      beforeAll(async () => {
        up = await uploadApp(caseDir(), { maxUploadBytes: 1 << 20, isIgnored });
        ({ app, staging } = up);
      });
      afterAll(async () => {
        await up?.close();
      });

      it("each lands in staging under the name stagingNameFor gives (last segment, controls removed, trimmed)", async () => {
        for (const name of Object.keys(facts)) {
          const data = readFileSync(join(dir, name));
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
            headers: { "content-type": "multipart/form-data; boundary=B", "x-sluice-request": "1" },
          });
          if (hasControl(name)) {
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
        const uploadable = Object.keys(facts).filter((k) => !hasControl(k));
        expect(readdirSync(staging).sort()).toEqual(uploadable.map((k) => stagingNameFor(k, isIgnored)).sort());
      });
    });
  });
}
